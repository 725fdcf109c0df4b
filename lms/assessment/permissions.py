"""Permission rules of the assessment domain (see ``lms.core.security``)."""

from __future__ import annotations

from lms.accounts.models import User
from lms.assessment.models import Attempt
from lms.catalog.models import Course
from lms.core.security import Role, can, rule


def _teaches(user: User, course: Course) -> bool:
    # Teaching staff of the course as the enrolment domain defines it (cohort teachers too).
    return can(user, "enrolment.manage", course)


@rule("assessment.author")
def _author(user: User, course: Course) -> bool:
    """Build the course's question bank and assessments, import and export questions."""
    return _teaches(user, course)


@rule("assessment.grade")
def _grade(user: User, course: Course) -> bool:
    """Grade attempts, see the answer key and every student's gradebook row."""
    return _teaches(user, course)


@rule("assessment.gradebook")
def _gradebook(user: User, course: Course) -> bool:
    return _teaches(user, course) or user.has_role(course.institution_id, Role.REGISTRAR)


@rule("attempt.view")
def _view_attempt(user: User, attempt: Attempt) -> bool:
    """A student sees only their own attempts; the course's staff see all of them."""
    return attempt.student_id == user.id or _teaches(user, _course_of(attempt))


@rule("attempt.answer")
def _answer(user: User, attempt: Attempt) -> bool:
    """Only the student who started an attempt answers and submits it."""
    return attempt.student_id == user.id


def _course_of(attempt: Attempt) -> Course:
    return attempt.assessment.course
