"""Locales and time zones: which ones ship, how one is chosen per request, how to format.

The user-interface locales of DESIGN §7. A locale is chosen once per request: the signed-in
user's setting, then ``?lang=`` or the ``lang`` cookie, then Accept-Language matched against
the shipped catalogues, then ``en``. An API request has no signed-in user: ``?lang=``, then
Accept-Language, then the locale of the bearer token's account, then ``en``. The time zone
likewise: user, institution, UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import current_app, g, has_request_context, request
from flask_babel import get_locale, get_timezone

#: locale id -> (name in its own language and script, BCP 47 tag for ``lang`` attributes)
LANGUAGES: dict[str, tuple[str, str]] = {
    "zh_Hans": ("简体中文", "zh-Hans"),
    "en": ("English", "en"),
    "vi": ("Tiếng Việt", "vi"),
    "th": ("ไทย", "th"),
    "id": ("Bahasa Indonesia", "id"),
    "ms": ("Bahasa Melayu", "ms"),
    "fil": ("Filipino", "fil"),
    "km": ("ខ្មែរ", "km"),
    "lo": ("ລາວ", "lo"),
    "my": ("မြန်မာ", "my"),
    "ta": ("தமிழ்", "ta"),
    "pt": ("Português", "pt"),
}
LOCALES = tuple(LANGUAGES)
LANG_COOKIE = "lang"

# Tags browsers send that name a shipped locale differently.
_ALIASES = {"zh": "zh_Hans", "tl": "fil", "in": "id", "zsm": "ms", "mya": "my", "khm": "km"}

#: hooks that read the signed-in user's preferences; registered by the accounts domain so
#: that core depends on no domain.
user_locale_loader: Callable[[], str | None] = lambda: None  # noqa: E731
user_timezone_loader: Callable[[], str | None] = lambda: None  # noqa: E731
#: the locale of an API request's token holder, for when the request names none
api_user_locale_loader: Callable[[], str | None] = lambda: None  # noqa: E731


def normalise_locale(tag: str | None) -> str | None:
    """Map a BCP 47 tag or locale id (``zh-CN``, ``th_TH``, ``tl``) to a shipped locale."""
    if not tag:
        return None
    tag = tag.strip().replace("-", "_")
    if tag in LANGUAGES:
        return tag
    try:
        loc = Locale.parse(tag)
    except (ValueError, UnknownLocaleError):
        lang = tag.split("_")[0].lower()
        return _ALIASES.get(lang) or (lang if lang in LANGUAGES else None)
    if loc.language == "zh":
        # Only Simplified Chinese ships; Traditional readers still read it better than English.
        return "zh_Hans"
    return _ALIASES.get(loc.language) or (loc.language if loc.language in LANGUAGES else None)


def _accept_language() -> str | None:
    for tag, _quality in request.accept_languages:
        found = normalise_locale(tag)
        if found:
            return found
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module docstring for the order)."""
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    if "locale" in g:
        return g.locale
    chosen = (
        normalise_locale(user_locale_loader())
        or normalise_locale(request.args.get("lang"))
        or normalise_locale(request.cookies.get(LANG_COOKIE))
        or _accept_language()
        or normalise_locale(api_user_locale_loader())
        or current_app.config["DEFAULT_LOCALE"]
    )
    g.locale = chosen
    return chosen


def select_timezone() -> str:
    """Flask-Babel's time-zone selector: user, then institution, then the default."""
    tz = user_timezone_loader() if has_request_context() else None
    return tz if is_timezone(tz) else current_app.config["DEFAULT_TIMEZONE"]


def is_timezone(name: str | None) -> bool:
    return bool(name) and name in _zones()


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def timezone_choices() -> list[str]:
    """IANA zones for pickers: ASEAN and China first, then the rest alphabetically."""
    first = [
        "Asia/Shanghai",
        "Asia/Ho_Chi_Minh",
        "Asia/Bangkok",
        "Asia/Jakarta",
        "Asia/Makassar",
        "Asia/Jayapura",
        "Asia/Kuala_Lumpur",
        "Asia/Manila",
        "Asia/Singapore",
        "Asia/Brunei",
        "Asia/Phnom_Penh",
        "Asia/Vientiane",
        "Asia/Yangon",
        "Asia/Dili",
        "UTC",
    ]
    rest = sorted(z for z in _zones() if z not in first and "/" in z and not z.startswith("Etc/"))
    return first + rest


def html_lang(locale: str | None = None) -> str:
    """The BCP 47 tag for ``<html lang>``."""
    locale = locale or str(get_locale())
    return LANGUAGES.get(locale, (locale, locale.replace("_", "-")))[1]


def current_locale() -> str:
    """The locale id chosen for this request (``zh_Hans``, ``th`` …)."""
    return select_locale()


def when(moment: datetime, fmt: str = "medium") -> str:
    """A moment in the reader's time zone and language, with the zone's name in that
    language, so a class across borders is never misread: ``1 มี.ค. 2027 09:00:00
    (เวลาพม่า)``, ``Mar 1, 2027, 9:30:00 AM (Western Indonesia Time)``."""
    zone, locale = get_timezone(), get_locale()
    shown = babel_dates.format_datetime(moment, fmt, tzinfo=zone, locale=locale)
    name = babel_dates.format_datetime(moment, "zzzz", tzinfo=zone, locale=locale)
    return f"{shown} ({name})"


def percent(value: Decimal | float | int | None, places: int = 1) -> str:
    """A percentage given out of 100 (``85.67``) in the reader's locale (``85.7%``,
    ``85,7 %``), rounded to ``places`` decimals; an empty string for no value."""
    if value is None:
        return ""
    rounded = round(Decimal(str(value)), places).normalize()
    return babel_numbers.format_percent(
        rounded / 100, locale=get_locale(), decimal_quantization=False
    )


def to_user_zone(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(str(get_timezone())))


# Languages close enough that a reader of one understands the other better than English.
CLOSE_LANGUAGES = {"ms": ("id",), "id": ("ms",), "lo": ("th",), "pt": ("fil",)}


def fallback_chain(requested: str, source: str | None = None) -> list[str]:
    """The order in which translatable content is read (DESIGN §5): the requested locale, a
    close language (ms ↔ id, lo → th), the content's source language, then en, then zh_Hans."""
    chain: list[str] = []
    for loc in (requested, *CLOSE_LANGUAGES.get(requested, ()), source, "en", "zh_Hans"):
        if loc and loc not in chain:
            chain.append(loc)
    return chain


def pick(
    values: dict[str, str] | None, requested: str, source: str | None = None
) -> tuple[str, str | None]:
    """Choose a value from a ``{locale: text}`` map along the fallback chain.

    Returns ``(text, locale_served)``; ``("", None)`` when the map is empty."""
    values = {k: v for k, v in (values or {}).items() if v}
    for loc in fallback_chain(requested, source):
        if loc in values:
            return values[loc], loc
    if values:
        loc = sorted(values)[0]
        return values[loc], loc
    return "", None
