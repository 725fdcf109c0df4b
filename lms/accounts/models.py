"""Users, institutions, memberships (roles at an institution) and API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db
from lms.core.i18n import pick
from lms.core.security import Role

INSTITUTION_KINDS = (
    "vocational_college",
    "university",
    "secondary_vocational",
    "enterprise",
    "training_centre",
    "authority",
)


class Institution(db.Model):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    #: ``{locale: name}``; read with ``name_in``
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    default_locale: Mapped[str] = mapped_column(String(16), default="en")
    website: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="institution")

    __table_args__ = (CheckConstraint("length(country) = 2", name="country_iso2"),)

    def name_in(self, locale: str) -> tuple[str, str | None]:
        """The name in ``locale`` along the fallback chain, with the locale served."""
        return pick(self.names, locale, self.default_locale)

    def __repr__(self) -> str:
        return f"<Institution {self.slug}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(200))
    name_native: Mapped[str] = mapped_column(String(200), default="")
    name_latin: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    locale: Mapped[str] = mapped_column(String(16), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: bumped on password change and deactivation; sessions carrying an older value end
    auth_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set when the person's personal data was erased (the row stays, pseudonymised)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the session remembers the auth version too
        return f"{self.id}.{self.auth_version}"

    def active_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.status == "active"]

    def has_role(self, institution_id: int | None, *roles: str) -> bool:
        """True when the user holds one of ``roles`` (active) at that institution."""
        return any(
            m.institution_id == institution_id and m.role in roles
            for m in self.active_memberships()
        )

    def institutions_with(self, *roles: str) -> set[int]:
        return {m.institution_id for m in self.active_memberships() if m.role in roles}

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(db.Model):
    """A role at an institution. ``pending`` memberships (a student who named their school at
    registration) grant nothing until an administrator or registrar confirms them."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    institution: Mapped[Institution] = relationship(back_populates="memberships")

    __table_args__ = (
        UniqueConstraint("user_id", "institution_id", "role"),
        CheckConstraint(one_of("role", (r.value for r in Role)), name="role_known"),
        CheckConstraint("status IN ('active', 'pending')", name="status_known"),
    )


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auth_version: Mapped[int] = mapped_column(default=1)

    user: Mapped[User] = relationship()


#: where the signed session cookie keeps the key of the server-side ``UserSession``
SESSION_KEY = "_sk"


class UserSession(db.Model):
    """A sign-in session. The browser's signed cookie carries only the random key; the row
    says whether the session is still alive, so signing out (or being signed out by the
    user from another device) ends it even for a copy of the old cookie."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the random key kept in the session cookie
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()
