"""Permission rules of the accounts domain (see ``lms.core.security``)."""

from __future__ import annotations

from lms.accounts.models import Institution, User
from lms.core.security import Role, rule


@rule("institution.create")
def _create_institution(user: User, _obj: None) -> bool:
    return False  # platform administrators only (they pass every rule)


@rule("institution.manage")
def _manage_institution(user: User, inst: Institution) -> bool:
    return user.has_role(inst.id, Role.ADMIN)


@rule("institution.manage_members")
def _manage_members(user: User, inst: Institution) -> bool:
    return user.has_role(inst.id, Role.ADMIN)


@rule("institution.approve_students")
def _approve_students(user: User, inst: Institution) -> bool:
    return user.has_role(inst.id, Role.ADMIN, Role.REGISTRAR)


@rule("institution.view_members")
def _view_members(user: User, inst: Institution) -> bool:
    return user.has_role(inst.id, Role.ADMIN, Role.REGISTRAR)


@rule("admin.access")
def _admin_access(user: User, _obj: None) -> bool:
    """The admin area: institution administrators and registrars see their institutions."""
    return bool(user.institutions_with(Role.ADMIN, Role.REGISTRAR))


def _administers(user: User, other: User) -> bool:
    mine = user.institutions_with(Role.ADMIN)
    return any(m.institution_id in mine for m in other.memberships)


@rule("user.view")
def _view_user(user: User, other: User) -> bool:
    if user.id == other.id:
        return True
    staff = user.institutions_with(Role.ADMIN, Role.REGISTRAR)
    return any(m.institution_id in staff for m in other.memberships)


@rule("user.edit")
def _edit_user(user: User, other: User) -> bool:
    return user.id == other.id or _administers(user, other)


@rule("user.deactivate")
def _deactivate_user(user: User, other: User) -> bool:
    """Only when every institution the person belongs to is one the actor administers:
    an account is global, so one institution cannot lock someone out of another."""
    mine = user.institutions_with(Role.ADMIN)
    theirs = {m.institution_id for m in other.memberships}
    return bool(theirs) and theirs <= mine and not other.is_platform_admin
