"""Permission rules of the analytics domain (see ``lms.core.security``).

Platform administrators pass every rule (``lms.core.security.can``), so they read every
course's analytics, every institution's statistics and the platform's."""

from __future__ import annotations

from lms.accounts.models import Institution, User
from lms.catalog.models import Course
from lms.core.security import Role, can, rule


@rule("analytics.course")
def _course(user: User, course: Course) -> bool:
    """A course's analytics: the people who teach it (also one of its classes) and the
    administrators of its institution — exactly who manages its enrolments."""
    return can(user, "enrolment.manage", course)


@rule("analytics.institution")
def _institution(user: User, institution: Institution) -> bool:
    """An institution's statistics: its administrators and registrars."""
    return user.has_role(institution.id, Role.ADMIN, Role.REGISTRAR)


@rule("analytics.platform")
def _platform(_user: User, _obj: None) -> bool:
    """Platform statistics: platform administrators only (they pass before this rule)."""
    return False


@rule("analytics.dashboard")
def _dashboard(user: User, _obj: None) -> bool:
    """The analytics area (its navigation link): whoever teaches, administers or keeps the
    records somewhere."""
    return bool(user.institutions_with(Role.TEACHER, Role.ADMIN, Role.REGISTRAR))
