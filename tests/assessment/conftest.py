from __future__ import annotations

from pathlib import Path

import pytest

from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from tests.catalog.conftest import course_factory, gx  # noqa: F401  (fixtures)

HERE = Path(__file__).parent
SAMPLE_GIFT = HERE / "sample.gift"


@pytest.fixture
def teacher(make, gx):  # noqa: F811
    return make.user("teacher", gx)


@pytest.fixture
def course(course_factory, teacher):  # noqa: F811
    return course_factory("GX-QUIZ", teachers=[teacher.email])


def enrolled(make, gx, course):  # noqa: F811
    student = make.user("student", gx)
    result = enrolment.enrol(student, course, now=utcnow())
    assert result.status == "enrolled"
    return student


@pytest.fixture
def student(make, gx, course):  # noqa: F811
    return enrolled(make, gx, course)


@pytest.fixture
def other_student(make, gx, course):  # noqa: F811
    return enrolled(make, gx, course)
