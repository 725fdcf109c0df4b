"""Password reset by e-mail.

The link carries a token signed with the secret key (itsdangerous) that names the user and
a fingerprint of their current password hash and auth version. Setting a password through
it, or changing the password any other way, changes the fingerprint, so a token works once
and no older token works afterwards; it also expires after ``LMS_PASSWORD_RESET_SECONDS``.
Nothing is stored, and asking for a reset answers the same whether or not the address has
an account (no enumeration)."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lms.accounts import services
from lms.accounts.models import User
from lms.core import mail
from lms.core.audit import record
from lms.core.errors import field_error
from lms.core.extensions import db

SALT = "lms.password-reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    material = f"{user.id}:{user.auth_version}:{user.password_hash}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def make_token(user: User) -> str:
    """A reset token for ``user``, valid until their password or auth version changes."""
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_token(token: str) -> User | None:
    """The active user a reset token was made for, or None when it is forged, expired or
    already used (the password changed since)."""
    if not token or len(token) > 500:
        return None
    max_age = int(current_app.config["PASSWORD_RESET_SECONDS"])
    try:
        data = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(str(data.get("f", "")), _fingerprint(user)):
        return None
    return user


def request_reset(email: str) -> None:
    """Send a reset link when the address belongs to an active account; otherwise do
    nothing. The caller answers the same either way."""
    user = services.find_user_by_email(email or "")
    if user is None or not user.active:
        return
    mail.queue(
        user.email,
        user.locale or current_app.config["DEFAULT_LOCALE"],
        "password_reset",
        "accounts/password_reset",
        user=user,
        token=make_token(user),
        minutes=int(current_app.config["PASSWORD_RESET_SECONDS"]) // 60,
    )


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset token. Ends every session and API token of the
    account (the auth version moves on) and makes this and every other reset token
    useless."""
    user = user_for_token(token)
    if user is None:
        raise field_error(
            "new_password", _("This reset link is not valid any more. Please ask for a new one.")
        )
    services.set_password(user, new_password, "new_password")
    record(user, "user.password_reset", "user", user.id)
    db.session.flush()
    return user
