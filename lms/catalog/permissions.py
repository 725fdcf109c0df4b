"""Permission rules of the catalogue (see ``lms.core.security``)."""

from __future__ import annotations

from lms.accounts.models import Institution, User
from lms.catalog import signals
from lms.catalog.models import Course
from lms.core.security import Role, public_rule, rule


def _owns(user: User, course: Course) -> bool:
    return any(t.id == user.id for t in course.teachers)


def _staff(user: User, course: Course) -> bool:
    return _owns(user, course) or user.has_role(course.institution_id, Role.ADMIN)


@public_rule("course.view")
def _view(user: User | None, course: Course) -> bool:
    """Published courses are public; drafts, reviews and archives only for their staff."""
    if course.status == "published":
        return True
    return user is not None and (
        _staff(user, course) or user.has_role(course.institution_id, Role.REGISTRAR)
    )


@public_rule("lesson.view")
def _view_lesson(user: User | None, course: Course) -> bool:
    """Lessons of published courses: open to read until a higher domain registers an access
    check (enrolment does: enrolled students); the course's staff always."""
    if not _view(user, course):
        return False
    if not signals.lesson_access_checks:
        return True
    if user is None:
        return False
    if _staff(user, course) or user.has_role(course.institution_id, Role.REGISTRAR):
        return True
    return any(check(user, course) for check in signals.lesson_access_checks)


@rule("course.create")
def _create(user: User, institution: Institution) -> bool:
    return user.has_role(institution.id, Role.TEACHER, Role.ADMIN)


@rule("course.edit")
def _edit(user: User, course: Course) -> bool:
    return _staff(user, course)


@rule("course.review")
def _review(user: User, course: Course) -> bool:
    return user.has_role(course.institution_id, Role.ADMIN)


@rule("course.teach")
def _teach(user: User, _obj: None) -> bool:
    """The teaching area: anyone who teaches or administers somewhere."""
    return bool(user.institutions_with(Role.TEACHER, Role.ADMIN))
