"""Permission rules of operations (see ``lms.core.security``)."""

from __future__ import annotations

from lms.accounts.models import User
from lms.core.security import Role, rule


@rule("audit.view")
def _view_audit(user: User, _obj: None) -> bool:
    """Registrars and institution administrators search their institutions' events;
    platform administrators (who pass every rule) search all."""
    return bool(user.institutions_with(Role.ADMIN, Role.REGISTRAR))


@rule("privacy.export")
def _export_personal_data(user: User, other: User) -> bool:
    """A person exports their own data; an administrator of one of their institutions may
    export it for them (a subject-access request handled by the institution)."""
    if user.id == other.id:
        return True
    mine = user.institutions_with(Role.ADMIN)
    return any(m.institution_id in mine for m in other.memberships)


@rule("privacy.erase")
def _erase_personal_data(user: User, other: User) -> bool:
    """Only an administrator of every institution the person belongs to (an account is
    global), never for oneself or a platform administrator."""
    if user.id == other.id or other.is_platform_admin:
        return False
    mine = user.institutions_with(Role.ADMIN)
    theirs = {m.institution_id for m in other.memberships}
    return bool(theirs) and theirs <= mine
