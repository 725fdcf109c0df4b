"""What every HTML and API response shares: one commit per request, security headers,
template helpers, fingerprinted static assets and the cookie policy."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, Response, current_app, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import (
    format_date,
    format_decimal,
    format_number,
    format_percent,
    get_timezone,
)
from flask_compress import Compress
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from lms.core import inputs, richtext, text
from lms.core.errors import DomainError, NotAuthenticated, problem
from lms.core.extensions import db
from lms.core.i18n import LANGUAGES, current_locale, html_lang, percent, when
from lms.core.security import ROLE_LABELS, Role, can

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS (directly or, with
    ``LMS_PROXY_FIX``, through a proxy), and always with ``LMS_SECURE_COOKIES``; plain
    ``http://127.0.0.1`` development still works."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SECURE_COOKIES"] or (request and request.is_secure))


def _commit_or_rollback(response: Response) -> Response:
    """The request's one commit: kept when it succeeded, rolled back when it did not."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.mimetype == "text/html":
        h.setdefault("Cache-Control", "no-store" if request.cookies else "no-cache")
        h.add("Vary", "Cookie, Accept-Language")
    return response


_FINGERPRINTS: dict[str, str] = {}


def asset_url(filename: str) -> str:
    """``/static/<file>?v=<content hash>``: the URL changes when the file does, so assets can
    be cached for a year."""
    if filename not in _FINGERPRINTS:
        path = Path(current_app.static_folder or "") / filename
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else "0"
        _FINGERPRINTS[filename] = digest
    return url_for("static", filename=filename, v=_FINGERPRINTS[filename])


def _static_cache(response: Response) -> Response:
    if request.endpoint == "static" and request.args.get("v"):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def mark_languages(value: Any) -> Markup:
    """Template filter ``|langs``: the text with every run in another regional script than the
    page's wrapped in ``<span lang>`` (WCAG 3.1.2), e.g. the Chinese term inside a Khmer label
    or a name in a credential. Markup (a translated message) is taken as already escaped."""
    if value is None:
        return Markup("")
    source = str(value) if isinstance(value, Markup) else str(escape(value))
    out = []
    for piece, lang in text.language_runs(source, html_lang()):
        out.append(f'<span lang="{lang}">{piece}</span>' if lang else piece)
    return Markup("".join(out))


def country_name(code: str) -> str:
    if not code:
        return ""
    return Locale.parse(current_locale()).territories.get(code, code)


def role_label(role: str) -> str:
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return role


@dataclass(frozen=True)
class NavLink:
    """A link in the site's main navigation, shown to signed-in users allowed ``action``
    (to everyone signed in when ``action`` is None). Domains register theirs at start-up,
    so the base layout names no domain."""

    endpoint: str
    label: Any
    action: str | None = None
    order: int = 50


NAV_LINKS: list[NavLink] = []


def add_nav_link(link: NavLink) -> None:
    if link not in NAV_LINKS:
        NAV_LINKS.append(link)
        NAV_LINKS.sort(key=lambda item: item.order)


def _nav_links() -> list[NavLink]:
    if not current_user.is_authenticated:
        return []
    return [link for link in NAV_LINKS if link.action is None or can(current_user, link.action)]


@dataclass(frozen=True)
class InstitutionLink:
    """A link to one of an institution's pages (``endpoint`` takes the institution's
    ``slug``), listed in the administration area for users allowed ``action`` on it.
    Domains register theirs at start-up, so the accounts domain names none of them."""

    endpoint: str
    label: Any
    action: str
    order: int = 50


INSTITUTION_LINKS: list[InstitutionLink] = []


def add_institution_link(link: InstitutionLink) -> None:
    if link not in INSTITUTION_LINKS:
        INSTITUTION_LINKS.append(link)
        INSTITUTION_LINKS.sort(key=lambda item: item.order)


def _institution_links(institution: Any) -> list[InstitutionLink]:
    return [link for link in INSTITUTION_LINKS if can(current_user, link.action, institution)]


#: text types worth compressing (images, video and fonts in woff2 are compressed already)
COMPRESSIBLE = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/calendar",
    "text/vtt",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/problem+json",
    "application/ld+json",
    "application/vc+ld+json",
    "application/xml",
    "application/vnd.apple.mpegurl",
    "image/svg+xml",
]


def _init_compression(app: Flask) -> None:
    """zstd, Brotli or gzip, whichever the browser prefers (``Accept-Encoding``), with
    ``Vary: Accept-Encoding``. Registered before every other response hook so it runs last,
    over the final body and headers."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSIBLE)
    app.config.setdefault("COMPRESS_MIN_SIZE", 512)
    Compress(app)


def json_endpoint(fn: Callable) -> Callable:
    """A page-side endpoint that answers scripts (uploader, offline sync): sign-in required,
    domain errors rolled back and answered as problem+json rather than an HTML page."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if not current_user.is_authenticated:
                raise NotAuthenticated()
            return fn(*args, **kwargs)
        except DomainError as exc:
            db.session.rollback()
            return problem(exc.status, exc.slug, str(exc.title), exc.message, exc.errors)

    return wrapper


def init_app(app: Flask) -> None:
    inputs.init_app(app)
    app.session_interface = SessionInterface()
    _init_compression(app)
    app.after_request(_commit_or_rollback)
    app.after_request(_security_headers)
    app.after_request(_static_cache)
    app.jinja_env.globals.update(
        html_lang=html_lang,
        current_locale=current_locale,
        languages=LANGUAGES,
        asset_url=asset_url,
        can=can,
        csrf_token=generate_csrf,
        country_name=country_name,
        role_label=role_label,
        format_datetime=when,
        format_date=format_date,
        markdown=richtext.render,
        truncate=text.truncate,
        format_number=format_number,
        format_decimal=format_decimal,
        format_percent=format_percent,
        percent=percent,
        current_timezone=lambda: str(get_timezone()),
        nav_links=_nav_links,
        institution_links=_institution_links,
        script_language=text.script_language,
    )
    app.jinja_env.filters["langs"] = mark_languages
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
