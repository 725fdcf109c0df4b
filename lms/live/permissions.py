"""Permission rules of the live domain (see ``lms.core.security``)."""

from __future__ import annotations

from lms.accounts.models import Institution, User
from lms.catalog.models import Course
from lms.core.security import Role, can, rule
from lms.enrolment import services as enrolment


@rule("live.manage")
def _manage(user: User, course: Course) -> bool:
    """Schedule sessions, join as moderator, take the roll, attach recordings: the course's
    teachers (also of one of its classes) and the institution's administrators."""
    return can(user, "enrolment.manage", course)


@rule("live.view")
def _view(user: User, course: Course) -> bool:
    """See the course's sessions, join links and recordings: its staff and its students."""
    return _manage(user, course) or enrolment.active_enrolment(user, course) is not None


@rule("live.report")
def _report(user: User, course: Course) -> bool:
    return _manage(user, course) or user.has_role(course.institution_id, Role.REGISTRAR)


@rule("live.configure")
def _configure(user: User, institution: Institution) -> bool:
    return user.has_role(institution.id, Role.ADMIN)
