"""Permission rules of the credits domain (see ``lms.core.security``)."""

from __future__ import annotations

from typing import Any

from lms.accounts.models import Institution, User
from lms.core.security import Role, public_rule, rule


def _owner_id(obj: Any) -> int | None:
    """The institution that owns ``obj``: an institution itself, or a scale's or credit
    system's owner (None for a national default)."""
    if isinstance(obj, Institution):
        return obj.id
    return getattr(obj, "institution_id", None)


@rule("credits.manage_scales")
def _manage_scales(user: User, obj: Any) -> bool:
    """Registrars and administrators of the owning institution keep its grade scales,
    credit systems and credit settings; national defaults (no owner) are kept by platform
    administrators only (they pass every rule)."""
    owner = _owner_id(obj)
    return owner is not None and user.has_role(owner, Role.REGISTRAR, Role.ADMIN)


@public_rule("credits.view_scales")
def _view_scales(_user: User | None, _obj: Any) -> bool:
    """Grade scales and credit systems are public reference data: a verifier of a
    transcript needs to read the scale its grades are in."""
    return True


@rule("credits.manage_ledger")
def _manage_ledger(user: User, inst: Institution) -> bool:
    """Registrars and administrators of an institution correct records of its ledger."""
    return user.has_role(inst.id, Role.REGISTRAR, Role.ADMIN)


@rule("credits.manage_agreements")
def _manage_agreements(user: User, inst: Institution) -> bool:
    """Registrars and administrators of the receiving institution keep its agreements."""
    return user.has_role(inst.id, Role.REGISTRAR, Role.ADMIN)


@rule("credits.view_agreements")
def _view_agreements(user: User, inst: Institution) -> bool:
    """Registrars and administrators of either party read an institution's agreements."""
    return user.has_role(inst.id, Role.REGISTRAR, Role.ADMIN)


@rule("credits.decide_recognition")
def _decide_recognition(user: User, inst: Institution) -> bool:
    """Registrars and administrators of the receiving institution decide its requests."""
    return user.has_role(inst.id, Role.REGISTRAR, Role.ADMIN)


@rule("credits.view_ledger")
def _view_ledger(user: User, student: User) -> bool:
    """Students read their own ledger; registrars and administrators of an institution
    where the student is a member read it too."""
    if user.id == student.id:
        return True
    return any(
        user.has_role(m.institution_id, Role.REGISTRAR, Role.ADMIN)
        for m in getattr(student, "memberships", [])
    )


@rule("credits.manage_qualifications")
def _manage_qualifications(_user: User, _obj: Any) -> bool:
    """The shared catalogue of qualifications is kept by platform administrators only
    (they pass every rule)."""
    return False
