"""Text hygiene, in one place (DESIGN §7).

- Everything stored is NFC.
- Identifiers (e-mail addresses, slugs, codes, file names) refuse bidi controls, zero-width
  characters and other invisible format characters, which are used to spoof names.
- Display text (names, titles) keeps ZWJ, ZWNJ and ZWSP, which Thai, Khmer, Lao, Burmese and
  Indic scripts need, but drops control characters and bidi overrides.
- Truncation happens at grapheme-cluster boundaries, never inside a character."""

from __future__ import annotations

import unicodedata

import regex
from email_validator import EmailNotValidError, validate_email

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
#: kept in display text: word joiners of South-East Asian and Indic scripts
DISPLAY_KEEP = frozenset("\u200b\u200c\u200d")


class TextError(ValueError):
    """Raised with a machine-readable ``reason``: ``invisible``, ``control``, ``empty``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _is_invisible_format(ch: str) -> bool:
    return ch in BIDI_CONTROLS or ch in ZERO_WIDTH or unicodedata.category(ch) == "Cf"


def identifier(value: str) -> str:
    """NFC, trimmed; refuses invisible, bidi and control characters."""
    value = nfc(value).strip()
    for ch in value:
        if _is_invisible_format(ch):
            raise TextError("invisible")
        if unicodedata.category(ch) in {"Cc", "Zl", "Zp"}:
            raise TextError("control")
    if not value:
        raise TextError("empty")
    return value


def display(value: str, *, multiline: bool = False) -> str:
    """NFC display text: keeps ZWJ/ZWNJ/ZWSP, drops bidi overrides and control characters
    (keeping newlines and tabs only when ``multiline``)."""
    value = nfc(value)
    keep_ws = {"\n", "\t"} if multiline else set()
    out = []
    for ch in value:
        if ch in DISPLAY_KEEP or ch in keep_ws:
            out.append(ch)
        elif ch == "\r" or _is_invisible_format(ch) or unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out).strip()


def email(value: str) -> str:
    """Normalise an e-mail address: NFC, case-folded, the domain in its Unicode form (IDNA
    domains such as ``nguyễn@đại-học.vn`` are accepted). Raises ``TextError('email')``."""
    value = identifier(value)
    try:
        # test_environment admits the reserved ``.test`` domain (demo and test accounts).
        info = validate_email(
            value, check_deliverability=False, allow_smtputf8=True, test_environment=True
        )
    except EmailNotValidError as exc:
        raise TextError("email") from exc
    return nfc(info.normalized.casefold())


_GRAPHEME = regex.compile(r"\X")


def truncate(value: str, limit: int, ellipsis: str = "…") -> str:
    """Cut ``value`` to at most ``limit`` grapheme clusters, adding ``ellipsis`` if cut."""
    clusters = _GRAPHEME.findall(value)
    if len(clusters) <= limit:
        return value
    return "".join(clusters[: max(limit - 1, 0)]) + ellipsis


def slugify_ascii(value: str) -> str:
    """A lower-case ASCII slug (for institution and course identifiers typed by admins)."""
    value = identifier(value).lower()
    if not regex.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", value):
        raise TextError("slug")
    return value


def fold(value: str) -> str:
    """Text folded for search: case-folded, full-width forms made plain, and Latin letters
    stripped of diacritics (``Điện`` → ``dien``), so Vietnamese matches with or without
    them. Marks of other scripts (Thai vowels and tones, Khmer subscripts) are kept: they
    are letters there, not decorations."""
    # case-folded before and after the compatibility decomposition, which can itself
    # produce capitals (``🄰`` → ``A``), so folding twice changes nothing more
    value = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    out: list[str] = []
    base_is_latin = False
    for ch in value:
        if unicodedata.combining(ch):
            if not base_is_latin:
                out.append(ch)
            continue
        if ch in "đð":
            ch = "d"
        base_is_latin = ch.isascii() or "LATIN" in unicodedata.name(ch, "")
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


#: scripts of the region written for one language each here, and that language's BCP 47 tag
SCRIPT_LANGUAGES = {
    "Han": "zh",
    "Thai": "th",
    "Khmer": "km",
    "Lao": "lo",
    "Myanmar": "my",
    "Tamil": "ta",
}
# a run of one script, with the spaces and punctuation inside it (not at its ends)
_RUNS = regex.compile(
    "|".join(
        rf"(?P<{name}>\p{{Script={name}}}(?:[\p{{Script={name}}}\p{{Common}}\p{{Inherited}}]*"
        rf"[\p{{Script={name}}}\p{{Inherited}}])?)"
        for name in SCRIPT_LANGUAGES
    )
)


def script_language(value: str) -> str | None:
    """The language of the one regional script ``value`` is written in besides Latin
    (``"南宁职业技术学院"`` → ``zh``, ``"សុភា ចាន់"`` → ``km``); ``None`` when there is none,
    or several. For text whose language was never recorded, such as names in a credential."""
    found = {m.lastgroup for m in _RUNS.finditer(value or "")}
    return SCRIPT_LANGUAGES[found.pop()] if len(found) == 1 else None


def language_runs(value: str, page_lang: str) -> list[tuple[str, str | None]]:
    """Split ``value`` into ``(text, lang)`` pieces: each run of a regional script that is not
    the page's language gets that script's language, the rest ``None`` (the page's)."""
    page = page_lang.split("-")[0].lower()
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for m in _RUNS.finditer(value or ""):
        lang = SCRIPT_LANGUAGES[m.lastgroup or ""]
        if lang == page:
            continue
        if m.start() > at:
            pieces.append((value[at : m.start()], None))
        pieces.append((m.group(), lang))
        at = m.end()
    if at < len(value or ""):
        pieces.append((value[at:], None))
    return pieces
