"""Permission rules of the enrolment domain (see ``lms.core.security``)."""

from __future__ import annotations

from sqlalchemy import bindparam, exists, or_, select

from lms.accounts.models import Institution, User
from lms.catalog.models import Course, course_teachers
from lms.core.extensions import db
from lms.core.security import Role, rule
from lms.enrolment.models import Cohort, Enrolment, cohort_teachers

#: one query, built once: whether the user teaches the course or one of its classes (not
#: the teacher list)
_TEACHES = select(
    or_(
        exists().where(
            course_teachers.c.course_id == bindparam("course"),
            course_teachers.c.user_id == bindparam("user"),
        ),
        exists().where(
            Cohort.id == cohort_teachers.c.cohort_id,
            Cohort.course_id == bindparam("course"),
            cohort_teachers.c.user_id == bindparam("user"),
        ),
    )
)


def _teaches(user: User, course: Course) -> bool:
    if user.has_role(course.institution_id, Role.ADMIN):
        return True
    return bool(db.session.scalar(_TEACHES, {"course": course.id, "user": user.id}))


@rule("enrolment.manage")
def _manage(user: User, course: Course) -> bool:
    """Decide requests, see the roster, close the course: its teachers (also of one of
    its classes) and the institution's administrators."""
    return _teaches(user, course)


@rule("enrolment.view_roster")
def _view_roster(user: User, course: Course) -> bool:
    return _teaches(user, course) or user.has_role(course.institution_id, Role.REGISTRAR)


@rule("enrolment.withdraw")
def _withdraw(user: User, enrolment: Enrolment) -> bool:
    return enrolment.student_id == user.id or _teaches(user, enrolment.course)


@rule("selection.manage")
def _manage_selection(user: User, institution: Institution) -> bool:
    return user.has_role(institution.id, Role.REGISTRAR, Role.ADMIN)


@rule("selection.view")
def _view_selection(user: User, institution: Institution) -> bool:
    return user.has_role(institution.id, Role.REGISTRAR, Role.ADMIN)
