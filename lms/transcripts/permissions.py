"""Permission rules of the transcripts domain (see ``lms.core.security``)."""

from __future__ import annotations

from lms.accounts.models import Institution, User
from lms.core.security import Role, rule


@rule("transcripts.manage_keys")
def _manage_keys(user: User, inst: Institution) -> bool:
    """Institution administrators and registrars see and rotate their signing keys."""
    return user.has_role(inst.id, Role.ADMIN, Role.REGISTRAR)


@rule("transcripts.revoke")
def _revoke(user: User, inst: Institution) -> bool:
    """Registrars (and administrators) of the issuing institution revoke its credentials."""
    return user.has_role(inst.id, Role.ADMIN, Role.REGISTRAR)


@rule("transcripts.issue")
def _issue(user: User, inst: Institution) -> bool:
    """Registrars (and administrators) of an institution issue and re-issue its transcripts."""
    return user.has_role(inst.id, Role.ADMIN, Role.REGISTRAR)
