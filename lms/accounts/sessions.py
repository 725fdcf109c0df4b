"""Sign-in sessions and API tokens as their owner sees and ends them.

A browser session is a row (``UserSession``) whose random key travels in the signed session
cookie. Flask's cookie alone cannot be taken back: a copy of it stays valid until it
expires. With the row, signing out ends the session for every copy of the cookie, and a
user can end the sessions of a lost device. Password changes and deactivation still end
everything at once through the user's auth version."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.accounts.models import ApiToken, User, UserSession
from lms.core.audit import record
from lms.core.db import utcnow
from lms.core.errors import NotFound
from lms.core.extensions import db


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_HOURS"]))


def start_session(user: User, *, user_agent: str = "") -> str:
    """Open a session for ``user`` and return its key (for the session cookie only)."""
    raw = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=_hash(raw), user_agent=user_agent[:200]))
    db.session.flush()
    return raw


def session_alive(user: User, raw: str | None, *, now: datetime | None = None) -> bool:
    """True while the session with this key belongs to ``user``, is not ended and is
    younger than ``LMS_SESSION_HOURS``."""
    if not raw or len(raw) > 100:
        return False
    row = db.session.scalar(select(UserSession).filter_by(key_hash=_hash(raw)))
    now = now or utcnow()
    return (
        row is not None
        and row.user_id == user.id
        and row.ended_at is None
        and row.created_at > now - _lifetime()
    )


def end_session(raw: str | None) -> None:
    """End the session with this key (signing out). Unknown keys are ignored."""
    if not raw or len(raw) > 100:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.key_hash == _hash(raw), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def sessions_of(user: User, *, now: datetime | None = None) -> list[UserSession]:
    """The user's live sessions, newest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.created_at > now - _lifetime(),
            )
            .order_by(UserSession.created_at.desc(), UserSession.id.desc())
        )
    )


def is_current(row: UserSession, raw: str | None) -> bool:
    return bool(raw) and row.key_hash == _hash(raw or "")


def end_user_session(user: User, session_id: int) -> None:
    """End one of the user's own sessions (another device). Someone else's is not found."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_("This session does not exist."))
    if row.ended_at is None:
        row.ended_at = utcnow()
        record(user, "user.session_ended", "user", user.id, after={"session": row.id})
    db.session.flush()


def end_other_sessions(user: User, keep: str | None) -> int:
    """End every session of the user except the one with key ``keep``; returns how many."""
    rows = [r for r in sessions_of(user) if not is_current(r, keep)]
    for row in rows:
        row.ended_at = utcnow()
    if rows:
        record(user, "user.session_ended", "user", user.id, after={"sessions": len(rows)})
    db.session.flush()
    return len(rows)


# ---------------------------------------------------------------------------- tokens


def tokens_of(user: User, *, now: datetime | None = None) -> list[ApiToken]:
    """The user's usable API tokens (unexpired, unrevoked, of the current auth version)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > now,
                ApiToken.auth_version == user.auth_version,
            )
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_user_token(user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens. Someone else's token is not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("This token does not exist."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(user, "user.token_revoked", "user", user.id, after={"token": token.id})
    db.session.flush()


def revoke_all_tokens(user: User) -> int:
    """Revoke every token of the user; returns how many were still usable."""
    rows = tokens_of(user)
    for token in rows:
        token.revoked_at = utcnow()
    if rows:
        record(user, "user.token_revoked", "user", user.id, after={"tokens": len(rows)})
    db.session.flush()
    return len(rows)
