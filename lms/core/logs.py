"""Logging: a request id on every request, an access line per request, and (with
``LMS_LOG_FORMAT=json``) one JSON object per line for log collectors.

Log lines name users by id, never by e-mail. Secrets are scrubbed from every line whatever
the format (bearer tokens, ``password=…``, ``token=…``, ``secret=…``); in JSON mode e-mail
addresses are replaced too, since JSON logs are the ones shipped off the machine."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from sqlalchemy import inspect as sa_inspect

#: what a client may send as its own X-Request-Id (else one is made)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_SECRETS = [
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)\b(password|passwd|token|secret|access_token|api_key|authorization)"
            r"(\"?\s*[:=]\s*\"?)[^\s\"&,;]+"
        ),
        r"\1\2[redacted]",
    ),
]
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLER_NAME = "lms-handler"


def scrub(text: str, *, emails: bool) -> str:
    """``text`` without secrets (and without e-mail addresses when ``emails``)."""
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    return _EMAIL.sub("[email]", text) if emails else text


def request_id() -> str:
    return g.get("request_id", "") if has_request_context() else ""


def _user_id() -> int | None:
    """The signed-in (or bearer) user's id, only if already loaded: logging never queries."""
    if not has_request_context():
        return None
    user = g.get("_login_user") or g.get("api_user")
    # the identity the session knows, without touching the attributes: the request has
    # committed by the time it is logged, which expired them (a read would query again)
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    if state is None or not state.identity:
        return None
    return state.identity[0]


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``user_id``, ``method`` and ``path`` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        record.user_id = _user_id()
        record.method = request.method if has_request_context() else ""
        record.path = request.path if has_request_context() else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage(), emails=True),
        }
        for key in ("request_id", "user_id", "method", "path", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value not in (None, ""):
                body[key] = value
        if record.exc_info:
            body["exc"] = scrub(self.formatException(record.exc_info), emails=True)
        return json.dumps(body, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = ""
        return scrub(super().format(record), emails=False)


def build_handler(fmt: str, stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return handler


def configure(app: Flask) -> None:
    """Send the platform's logs (``lms.*``) to stderr in the configured format, once."""
    logger = logging.getLogger("lms")
    logger.setLevel(str(app.config.get("LOG_LEVEL") or "INFO").upper())
    if any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        return
    logger.addHandler(build_handler(str(app.config.get("LOG_FORMAT") or "text")))
    logger.propagate = False


access_log = logging.getLogger("lms.access")


def _start() -> None:
    raw = request.headers.get("X-Request-Id", "")
    g.request_id = raw if _REQUEST_ID.fullmatch(raw) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response):
    response.headers["X-Request-Id"] = request_id()
    if request.endpoint != "static":
        duration = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,  # never the query string: it may carry tokens
            response.status_code,
            extra={"status": response.status_code, "duration_ms": round(duration, 1)},
        )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    if not app.config.get("TESTING"):
        configure(app)
