"""Failed sign-ins are limited per client address and per account (``LMS_RATELIMIT_LOGIN``),
for the sign-in page and the token endpoint alike; only failures (401) count."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request

from lms.core.extensions import limiter


def _limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _account() -> str:
    """The account an attempt names, from the form or the JSON body."""
    body = request.get_json(silent=True) if request.is_json else None
    email = body.get("email") if isinstance(body, dict) else request.form.get("email")
    return "login:" + str(email or "").strip().casefold()[:320]


def _failed(response) -> bool:
    return request.method == "POST" and response.status_code == 401


def login_attempts(view: Callable) -> Callable:
    """Decorate a sign-in view: both limits, counting failed POSTs only."""
    view = limiter.limit(_limit, methods=["POST"], key_func=_account, deduct_when=_failed)(view)
    return limiter.limit(_limit, methods=["POST"], deduct_when=_failed)(view)


def _reset_account() -> str:
    return "reset:" + str(request.form.get("email") or "").strip().casefold()[:320]


def reset_requests(view: Callable) -> Callable:
    """Decorate the password-reset request form: every POST counts, per client address and
    per address asked for, so the form can neither flood a mailbox nor probe at speed."""
    view = limiter.limit(_limit, methods=["POST"], key_func=_reset_account)(view)
    return limiter.limit(_limit, methods=["POST"])(view)
