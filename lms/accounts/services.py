"""Accounts: registration, authentication, profiles, institutions, roles and API tokens.

The public face of the accounts domain: views, the API, the CLI and other domains call
these functions, never the models directly for changes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from babel import Locale
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms.accounts.models import INSTITUTION_KINDS, ApiToken, Institution, Membership, User
from lms.core import text
from lms.core.audit import record, snapshot
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, ValidationError, field_error
from lms.core.extensions import db
from lms.core.i18n import LANGUAGES, is_timezone
from lms.core.security import Role, require

PASSWORD_MIN = 10
PASSWORD_MAX = 1024


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        memory_cost=cfg["PASSWORD_MEMORY_KIB"],
        time_cost=cfg["PASSWORD_TIME_COST"],
        parallelism=cfg["PASSWORD_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# A fixed hash to verify against when the e-mail is unknown, so the response time does not
# reveal which addresses have accounts.
_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    cfg = current_app.config
    key = (cfg["PASSWORD_MEMORY_KIB"], cfg["PASSWORD_TIME_COST"], cfg["PASSWORD_PARALLELISM"])
    if key not in _DUMMY:
        _DUMMY[key] = hash_password(secrets.token_hex(16))
    return _DUMMY[key]


def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes known to CLDR."""
    return frozenset(c for c in Locale("en").territories if len(c) == 2 and c.isalpha())


def country_name(code: str, locale: str) -> str:
    """A country's name in the reader's language (from CLDR)."""
    try:
        return Locale.parse(locale).territories.get(code) or code
    except ValueError:
        return code


# ---------------------------------------------------------------------------- validation


def _clean_email(value: str, field: str = "email") -> str:
    try:
        return text.email(value or "")
    except text.TextError as exc:
        if exc.reason == "invisible":
            raise field_error(field, _("The address contains invisible characters.")) from exc
        raise field_error(field, _("Please enter a valid e-mail address.")) from exc


def _clean_password(value: str, field: str = "password") -> str:
    if len(value or "") < PASSWORD_MIN:
        raise field_error(
            field, _("The password must have at least %(n)d characters.", n=PASSWORD_MIN)
        )
    if len(value) > PASSWORD_MAX:
        raise field_error(field, _("The password is too long."))
    return value


def _clean_display(value: str, field: str, *, required: bool, limit: int = 200) -> str:
    value = text.display(value or "")
    if required and not value:
        raise field_error(field, _("This field is required."))
    if len(value) > limit:
        raise field_error(field, _("This value is too long."))
    return value


def _clean_country(value: str, field: str = "country", *, required: bool = False) -> str:
    value = (value or "").strip().upper()
    if not value and not required:
        return ""
    if value not in country_codes():
        raise field_error(field, _("Please choose a country."))
    return value


def _clean_locale(value: str, field: str = "locale") -> str:
    value = (value or "").strip()
    if value and value not in LANGUAGES:
        raise field_error(field, _("Please choose one of the offered languages."))
    return value


def _clean_timezone(value: str, field: str = "timezone") -> str:
    value = (value or "").strip()
    if value and not is_timezone(value):
        raise field_error(field, _("Please choose a time zone from the list."))
    return value


def _merge(errors: list[ValidationError]) -> None:
    if errors:
        raise ValidationError(
            _("Please correct the fields listed below."),
            errors=[e for err in errors for e in err.errors],
        )


# ---------------------------------------------------------------------------- users


@dataclass
class Registration:
    email: str
    password: str
    display_name: str
    name_native: str = ""
    name_latin: str = ""
    country: str = ""
    locale: str = ""
    timezone: str = ""
    institution_slug: str = ""


def register(data: Registration) -> User:
    """Create a self-registered account.

    Every field is validated and all problems are reported together; nothing is written
    unless all pass. Naming an institution asks to join it as a student: the membership
    stays ``pending`` until the institution confirms it, so nobody gains a partner
    institution's rights by claiming to study there."""
    errors: list[ValidationError] = []
    cleaned: dict[str, Any] = {}
    for name, fn in (
        ("email", lambda: _clean_email(data.email)),
        ("password", lambda: _clean_password(data.password)),
        ("display_name", lambda: _clean_display(data.display_name, "display_name", required=True)),
        ("name_native", lambda: _clean_display(data.name_native, "name_native", required=False)),
        ("name_latin", lambda: _clean_display(data.name_latin, "name_latin", required=False)),
        ("country", lambda: _clean_country(data.country)),
        ("locale", lambda: _clean_locale(data.locale)),
        ("timezone", lambda: _clean_timezone(data.timezone)),
    ):
        try:
            cleaned[name] = fn()
        except ValidationError as exc:
            errors.append(exc)
    institution = None
    if data.institution_slug:
        institution = db.session.scalar(
            select(Institution).filter_by(slug=data.institution_slug.strip())
        )
        if institution is None:
            errors.append(field_error("institution", _("Please choose an institution.")))
    _merge(errors)
    if _user_by_email(cleaned["email"]) is not None:
        raise field_error("email", _("An account with this e-mail address already exists."))
    user = User(
        email=cleaned["email"],
        password_hash=hash_password(cleaned["password"]),
        display_name=cleaned["display_name"],
        name_native=cleaned["name_native"],
        name_latin=cleaned["name_latin"],
        country=cleaned["country"],
        locale=cleaned["locale"],
        timezone=cleaned["timezone"],
    )
    db.session.add(user)
    _flush_unique("email", _("An account with this e-mail address already exists."))
    if institution is not None:
        db.session.add(
            Membership(user=user, institution=institution, role=Role.STUDENT, status="pending")
        )
        db.session.flush()
    return user


def create_user(
    actor: User | None,
    *,
    email: str,
    password: str,
    display_name: str,
    role: str | None = None,
    institution: Institution | None = None,
    **profile: str,
) -> User:
    """Create an account on someone's behalf (CLI, admin). ``role='admin'`` without an
    institution makes a platform administrator; other roles need an institution."""
    user = register(
        Registration(email=email, password=password, display_name=display_name, **profile)
    )
    if role == Role.ADMIN and institution is None:
        user.is_platform_admin = True
        record(actor, "user.platform_admin", "user", user.id, after={"is_platform_admin": True})
    elif role:
        if institution is None:
            raise field_error("institution", _("Please choose an institution."))
        _add_membership(actor, user, institution, role, check=actor is not None)
    db.session.flush()
    return user


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).filter_by(email=email))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def find_user_by_email(email: str) -> User | None:
    try:
        return _user_by_email(text.email(email))
    except text.TextError:
        return None


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None.

    Takes the same time whether or not the address exists; re-hashes with current
    parameters when they changed."""
    user = find_user_by_email(email or "")
    ph = _hasher()
    try:
        ph.verify(user.password_hash if user else _dummy_hash(), password or "")
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change a password after checking the current one; ends every other session and
    token (the auth version moves on)."""
    try:
        _hasher().verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        raise field_error("current_password", _("The current password is not correct.")) from None
    set_password(user, new, "new_password")
    record(user, "user.password_changed", "user", user.id)
    db.session.flush()


def set_password(user: User, new: str, field: str = "password") -> None:
    """Store a new password (checked for length); every session and token of the account
    ends, since the auth version moves on."""
    _clean_password(new, field)
    user.password_hash = hash_password(new)
    user.auth_version += 1
    db.session.flush()


PROFILE_FIELDS = ("display_name", "name_native", "name_latin", "country", "locale", "timezone")


def update_profile(actor: User, user: User, **changes: str) -> User:
    """Change profile fields of ``user`` (themselves, or an administrator of their
    institution). Unknown fields are refused; all problems are reported together."""
    require(actor, "user.edit", user)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(
            errors=[
                {"field": f, "message": _("This field is not recognised.")} for f in sorted(unknown)
            ]
        )
    cleaners = {
        "display_name": lambda v: _clean_display(v, "display_name", required=True),
        "name_native": lambda v: _clean_display(v, "name_native", required=False),
        "name_latin": lambda v: _clean_display(v, "name_latin", required=False),
        "country": _clean_country,
        "locale": _clean_locale,
        "timezone": _clean_timezone,
    }
    errors: list[ValidationError] = []
    cleaned: dict[str, str] = {}
    for name, value in changes.items():
        try:
            cleaned[name] = cleaners[name](value)
        except ValidationError as exc:
            errors.append(exc)
    _merge(errors)
    before = snapshot(user, *cleaned)
    for name, value in cleaned.items():
        setattr(user, name, value)
    if actor.id != user.id:
        record(
            actor,
            "user.profile_changed",
            "user",
            user.id,
            before=before,
            after=snapshot(user, *cleaned),
        )
    db.session.flush()
    return user


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate or reactivate an account; deactivation ends its sessions and tokens."""
    require(actor, "user.deactivate", user)
    if actor.id == user.id:
        raise Conflict(_("You cannot deactivate your own account."))
    before = snapshot(user, "active")
    user.active = active
    user.auth_version += 1
    record(actor, "user.active_changed", "user", user.id, before=before, after={"active": active})
    db.session.flush()


def load_session_user(session_id: str) -> User | None:
    """Flask-Login loader: ``"<id>.<auth_version>"`` → the user while the version holds."""
    try:
        raw_id, raw_version = session_id.split(".", 1)
        user = db.session.get(User, int(raw_id))
        version = int(raw_version)
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or user.auth_version != version:
        return None
    return user


# ---------------------------------------------------------------------------- tokens


def issue_token(user: User) -> tuple[str, int]:
    """A new bearer token and its lifetime in seconds. Only its hash is stored."""
    ttl = int(current_app.config["TOKEN_TTL_SECONDS"])
    raw = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(raw),
            expires_at=utcnow() + timedelta(seconds=ttl),
            auth_version=user.auth_version,
        )
    )
    db.session.flush()
    return raw, ttl


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


#: the user a valid token stands for (unexpired, unrevoked, issued under the user's current
#: auth version, the user active), in one query built once: every API request runs it
_TOKEN_USER = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now"),
        ApiToken.auth_version == User.auth_version,
        User.active.is_(True),
    )
    # the roles every permission check of the request reads, in the same query
    .options(joinedload(User.memberships))
)


def user_for_token(raw: str, *, now: datetime | None = None) -> User | None:
    """The user a bearer token stands for, if it is unexpired, unrevoked and issued under
    the user's current auth version."""
    if not raw or len(raw) > 200:
        return None
    params = {"token_hash": _token_hash(raw), "now": now or utcnow()}
    return db.session.scalar(_TOKEN_USER, params)


def revoke_token(raw: str) -> bool:
    token = db.session.scalar(select(ApiToken).filter_by(token_hash=_token_hash(raw)))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.flush()
    return True


# ---------------------------------------------------------------------------- institutions


INSTITUTION_FIELDS = ("names", "country", "kind", "timezone", "default_locale", "website")


def list_institutions():
    """All institutions, ordered by slug (a statement, for pagination)."""
    return select(Institution).order_by(Institution.slug)


def get_institution(slug: str) -> Institution:
    inst = db.session.scalar(select(Institution).filter_by(slug=slug))
    if inst is None:
        raise NotFound(_("No institution with this identifier."))
    return inst


def _clean_institution(data: dict[str, Any]) -> dict[str, Any]:
    errors: list[ValidationError] = []
    out: dict[str, Any] = {}
    if "names" in data:
        names = {}
        for loc, name in (data["names"] or {}).items():
            if loc not in LANGUAGES:
                errors.append(
                    field_error(f"names.{loc}", _("Please choose one of the offered languages."))
                )
                continue
            cleaned = text.display(name or "")
            if cleaned:
                names[loc] = cleaned[:300]
        if not names:
            errors.append(
                field_error("names", _("Give the institution a name in at least one language."))
            )
        out["names"] = names
    if "country" in data:
        try:
            out["country"] = _clean_country(data["country"], required=True)
        except ValidationError as exc:
            errors.append(exc)
    if "kind" in data:
        if data["kind"] not in INSTITUTION_KINDS:
            errors.append(field_error("kind", _("This value is not allowed.")))
        out["kind"] = data["kind"]
    if "timezone" in data:
        try:
            out["timezone"] = _clean_timezone(data["timezone"]) or "UTC"
        except ValidationError as exc:
            errors.append(exc)
    if "default_locale" in data:
        try:
            out["default_locale"] = _clean_locale(data["default_locale"]) or "en"
        except ValidationError as exc:
            errors.append(exc)
    if "website" in data:
        website = (data["website"] or "").strip()
        if website and not website.startswith(("https://", "http://")):
            errors.append(
                field_error("website", _("Please enter a web address starting with https://."))
            )
        out["website"] = website[:300]
    _merge(errors)
    return out


def create_institution(actor: User | None, *, slug: str, **data: Any) -> Institution:
    """Create an institution (platform administrators; ``actor=None`` is the CLI)."""
    if actor is not None:
        require(actor, "institution.create")
    try:
        slug = text.slugify_ascii(slug or "")
    except text.TextError:
        raise field_error("slug", _("Use lower-case letters, digits and hyphens.")) from None
    for required in ("names", "country", "kind"):
        data.setdefault(required, None if required != "names" else {})
    cleaned = _clean_institution(data)
    if db.session.scalar(select(Institution.id).filter_by(slug=slug)) is not None:
        raise field_error("slug", _("This identifier is already taken."))
    inst = Institution(slug=slug, **cleaned)
    db.session.add(inst)
    _flush_unique("slug", _("This identifier is already taken."))
    record(
        actor,
        "institution.created",
        "institution",
        inst.id,
        after=snapshot(inst, "slug", *INSTITUTION_FIELDS),
    )
    return inst


def update_institution(actor: User, inst: Institution, **data: Any) -> Institution:
    """Change an institution's details (its administrators and platform administrators)."""
    require(actor, "institution.manage", inst)
    cleaned = _clean_institution({k: v for k, v in data.items() if k in INSTITUTION_FIELDS})
    before = snapshot(inst, *cleaned)
    for name, value in cleaned.items():
        setattr(inst, name, value)
    record(
        actor,
        "institution.updated",
        "institution",
        inst.id,
        before=before,
        after=snapshot(inst, *cleaned),
    )
    db.session.flush()
    return inst


# ---------------------------------------------------------------------------- roles


def members(inst: Institution):
    """Memberships of an institution (a statement, for pagination)."""
    return (
        select(Membership)
        .filter_by(institution_id=inst.id)
        .join(Membership.user)
        .order_by(Membership.status.desc(), User.email)
    )


def grant_role(actor: User | None, user: User, inst: Institution, role: str) -> Membership:
    """Give ``user`` a role at ``inst``. Only the institution's administrators (and platform
    administrators) may; nobody raises their own role. ``actor=None`` is the operator at the
    command line, who is trusted."""
    return _add_membership(actor, user, inst, role, check=actor is not None)


def _add_membership(
    actor: User | None, user: User, inst: Institution, role: str, *, check: bool
) -> Membership:
    if check:
        require(actor, "institution.manage_members", inst)
        if actor is not None and actor.id == user.id and not actor.is_platform_admin:
            raise Conflict(_("You cannot change your own roles."))
    try:
        role = Role(role)
    except ValueError:
        raise field_error("role", _("This value is not allowed.")) from None
    existing = db.session.scalar(
        select(Membership).filter_by(user_id=user.id, institution_id=inst.id, role=role)
    )
    if existing is not None:
        if existing.status == "active":
            raise Conflict(_("This person already has this role here."), slug="role-exists")
        existing.status = "active"
        membership = existing
    else:
        membership = Membership(
            user=user,
            institution=inst,
            role=role,
            status="active",
            granted_by_id=getattr(actor, "id", None),
        )
        db.session.add(membership)
    db.session.flush()
    record(
        actor,
        "membership.granted",
        "membership",
        membership.id,
        after={"user": user.email, "institution": inst.slug, "role": str(role)},
    )
    return membership


def get_membership(membership_id: int) -> Membership:
    m = db.session.get(Membership, membership_id)
    if m is None:
        raise NotFound()
    return m


def revoke_role(actor: User, membership: Membership) -> None:
    """Remove a role (or decline a pending request to join)."""
    require(actor, "institution.manage_members", membership.institution)
    if actor.id == membership.user_id and not actor.is_platform_admin:
        raise Conflict(_("You cannot change your own roles."))
    before = {
        "user": membership.user.email,
        "institution": membership.institution.slug,
        "role": membership.role,
        "status": membership.status,
    }
    record(actor, "membership.revoked", "membership", membership.id, before=before)
    db.session.delete(membership)
    db.session.flush()


def approve_membership(actor: User, membership: Membership) -> Membership:
    """Confirm a pending request to join as a student."""
    require(actor, "institution.approve_students", membership.institution)
    if membership.status != "pending":
        raise Conflict(_("This request was already decided."))
    membership.status = "active"
    record(
        actor,
        "membership.approved",
        "membership",
        membership.id,
        before={"status": "pending"},
        after={"status": "active"},
    )
    db.session.flush()
    return membership


def _flush_unique(field: str, message: str) -> None:
    """Flush, turning a unique-constraint race into the same error as the pre-check (the
    error handler rolls the transaction back)."""
    try:
        db.session.flush()
    except IntegrityError:
        raise field_error(field, message) from None
