"""The one family of domain errors, and how they reach users.

Services raise these; ``register`` maps them (and Flask's HTTP errors) to a translated HTML
page or, under ``/api/``, to an RFC 9457 ``application/problem+json`` body with a stable
``type``. No stack trace ever reaches a user."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from lms.core.extensions import db

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://lms.china-asean.example/problems/"


class DomainError(Exception):
    """A rule of the platform was not met. ``message`` is already translated."""

    status = 400
    slug = "bad-request"
    title = _l("The request cannot be carried out")

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        slug: str | None = None,
    ):
        super().__init__(message or str(self.title))
        self.message = message or str(self.title)
        self.errors = errors or []
        if slug:
            self.slug = slug


class ValidationError(DomainError):
    status = 422
    slug = "validation-error"
    title = _l("Some of the information is not valid")


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = _l("Not found")


class PermissionDenied(DomainError):
    status = 403
    slug = "forbidden"
    title = _l("You do not have permission to do this")


class NotAuthenticated(DomainError):
    status = 401
    slug = "unauthenticated"
    title = _l("Please sign in first")


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = _l("This conflicts with the current state")


class Unavailable(DomainError):
    """A service the platform depends on (the object store, …) cannot be reached just now;
    nothing was changed and the same request may be sent again shortly."""

    status = 503
    slug = "unavailable"
    title = _l("The service is temporarily unavailable. Please try again shortly.")
    retry_after = 30


def field_error(field: str, message: str) -> ValidationError:
    """A validation error about one field, for forms and the API alike."""
    return ValidationError(message, errors=[{"field": field, "message": message}])


# Titles for plain HTTP errors (404 from routing, 405, 413, 429, 500 …), translated.
_HTTP_TITLES = {
    400: _l("The request could not be understood"),
    401: _l("Please sign in first"),
    403: _l("You do not have permission to do this"),
    404: _l("Not found"),
    405: _l("This method is not allowed here"),
    409: _l("This conflicts with the current state"),
    413: _l("The upload is too large"),
    415: _l("This content type is not supported"),
    422: _l("Some of the information is not valid"),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Nothing was changed."),
    503: _l("The service is temporarily unavailable. Please try again shortly."),
}
_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


def _render(
    status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None
) -> Response | tuple[str, int]:
    if wants_problem_json():
        return problem(status, _HTTP_SLUGS.get(status, "error"), title, detail, errors)
    return render_template(
        "errors/error.html", status=status, title=title, detail=detail, errors=errors or []
    ), status


def handle_domain_error(exc: DomainError):
    db.session.rollback()
    if wants_problem_json():
        resp = problem(exc.status, exc.slug, str(exc.title), exc.message, exc.errors)
    else:
        page = render_template(
            "errors/error.html",
            status=exc.status,
            title=str(exc.title),
            detail=exc.message,
            errors=exc.errors,
        )
        resp = Response(page, status=exc.status, mimetype="text/html")
    if getattr(exc, "retry_after", None):
        resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def handle_http_error(exc: HTTPException):
    db.session.rollback()
    status = exc.code or 500
    title = str(_HTTP_TITLES.get(status, exc.name))
    errors = _webargs_errors(exc)
    if status == 400 and errors:
        detail = errors[0]["message"]
    elif errors:
        detail = _("Please correct the fields listed below.")
    elif status == 429:
        detail = _("Too many attempts. Please wait a moment and try again.")
    else:
        detail = title
    resp = _render(status, title, detail, errors)
    if isinstance(resp, Response) and status == 405 and exc.valid_methods:
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def handle_data_error(exc: sa_exc.DataError):
    """A value the database cannot hold (a number out of a column's range, a character it
    refuses) that validation let through: the request was at fault, so a 422 — logged, as
    the validation that should have caught it is missing."""
    log.warning("value refused by the database on %s %s: %s", request.method, request.path, exc)
    db.session.rollback()
    title = str(_HTTP_TITLES[422])
    return _render(422, title, _("A value is out of the range this field accepts."))


def handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return _render(500, str(_HTTP_TITLES[500]), str(_HTTP_TITLES[500]))


#: seconds a client is asked to wait before retrying after the database went away
RETRY_AFTER_SECONDS = 5
# PostgreSQL error classes worth a retry: connection exceptions (08…), the server shutting
# down or killing the backend (57P0x), serialisation failures and deadlocks.
_RETRYABLE_PG_CODES = ("08", "57P01", "57P02", "57P03", "40001", "40P01", "55P03")
_RETRYABLE_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN")


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database dropped or is briefly unusable (a retry may
    succeed), as opposed to a bug such as a bad query."""
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or ""
    if code and code.startswith(_RETRYABLE_PG_CODES):
        return True
    sqlite_name = getattr(exc.orig, "sqlite_errorname", None)
    if sqlite_name is not None:
        return sqlite_name.startswith(_RETRYABLE_SQLITE)
    # a driver error without a SQLSTATE is a transport failure (the server went away)
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError) and not code


def handle_database_error(exc: Exception):
    """The database went away mid-request: everything the request wrote is rolled back
    (the transaction never committed), the session is reset so the next request gets a
    fresh connection (``pool_pre_ping`` checks it), and the client is told to retry."""
    if not database_unavailable(exc):
        return handle_unexpected(exc)
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc,
    )
    try:
        db.session.rollback()  # an invalidated connection is discarded by the pool
    except Exception:
        log.debug("rollback after a lost connection failed", exc_info=True)
    title = str(_HTTP_TITLES[503])
    detail = _("The database is briefly unavailable. Nothing was saved; please try again.")
    if wants_problem_json():
        resp = problem(503, "database-unavailable", title, detail)
    else:
        try:
            page = render_template(
                "errors/error.html", status=503, title=title, detail=detail, errors=[]
            )
        except Exception:  # the layout needs the database (the signed-in user) and it is down
            db.session.rollback()
            page = f"<!doctype html><title>{escape(title)}</title><p>{escape(detail)}</p>"
        resp = Response(page, status=503, mimetype="text/html")
    resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp


def _webargs_errors(exc: HTTPException) -> list[dict[str, str]]:
    """Flatten marshmallow/webargs messages into ``[{"field", "message"}]`` (translated)."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, dict):
        return []
    out: list[dict[str, str]] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(prefix, item)
        else:
            out.append({"field": prefix or "_schema", "message": translate_validation(str(node))})

    for location, node in messages.items():  # webargs keys by location: json, query, …
        walk("", node) if location in {"json", "query", "form", "files", "view_args"} else walk(
            str(location), node
        )
    return out


def translate_validation(message: str) -> str:
    """Translate marshmallow's built-in English messages; ours are translated already."""
    known = {
        "Missing data for required field.": _("This field is required."),
        "Field may not be null.": _("This field may not be empty."),
        "Not a valid string.": _("Please enter text."),
        "Not a valid integer.": _("Please enter a whole number."),
        "Not a valid number.": _("Please enter a number."),
        "Not a valid boolean.": _("Please choose yes or no."),
        "Not a valid email address.": _("Please enter a valid e-mail address."),
        "Not a valid datetime.": _("Please enter a valid date and time."),
        "Not a valid date.": _("Please enter a valid date."),
        "Not a valid list.": _("Please send a list."),
        "Invalid input type.": _("This value has the wrong type."),
        "Unknown field.": _("This field is not recognised."),
        "Invalid value.": _("This value is not allowed."),
        "Must be one of the allowed values.": _("This value is not allowed."),
        "Shorter than minimum length.": _("This value is too short."),
        "Longer than maximum length.": _("This value is too long."),
        "Invalid JSON body.": _("The request body is not valid JSON."),
    }
    if message in known:
        return known[message]
    if message.startswith("Must be one of:"):
        return _("This value is not allowed.")
    if message.startswith("Length must be") or message.startswith("Shorter than"):
        return _("This value has the wrong length.")
    if message.startswith("Must be greater") or message.startswith("Must be less"):
        return _("This value is out of range.")
    return message


def handle_csrf_error(exc: CSRFError):
    db.session.rollback()
    title = str(_HTTP_TITLES[400])
    return _render(
        400, title, _("This form has expired. Please go back, reload the page and try again.")
    )


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa_exc.OperationalError, handle_database_error)
    app.register_error_handler(sa_exc.InterfaceError, handle_database_error)
    app.register_error_handler(sa_exc.DisconnectionError, handle_database_error)
    app.register_error_handler(sa_exc.TimeoutError, handle_database_error)
    app.register_error_handler(sa_exc.DataError, handle_data_error)
    app.register_error_handler(Exception, handle_unexpected)
