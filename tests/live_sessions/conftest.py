from __future__ import annotations

from datetime import datetime

import pytest

from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from lms.live import services
from tests.catalog.conftest import course_factory, gx  # noqa: F401  (fixtures)


@pytest.fixture
def teacher(make, gx):  # noqa: F811
    """A Nanning teacher (the Guangxi institution's zone is Asia/Shanghai)."""
    return make.user("teacher", gx, timezone="Asia/Shanghai")


@pytest.fixture
def course(course_factory, teacher):  # noqa: F811
    return course_factory("GX-LIVE", teachers=[teacher.email])


@pytest.fixture
def student(make, gx, course):  # noqa: F811
    """An enrolled student in Bangkok."""
    s = make.user("student", gx, timezone="Asia/Bangkok")
    enrolment.enrol(s, course, now=utcnow())
    return s


def session_data(**kw) -> services.SessionData:
    values = {
        "titles": {"en": "Engine diagnostics", "zh_Hans": "发动机诊断"},
        "source_locale": "zh_Hans",
        "local_start": datetime(2027, 3, 1, 9, 0),
        "timezone": "Asia/Yangon",
        "duration_minutes": 60,
        "provider": "external",
        "external_url": "https://meeting.tencent.com/dm/abc",
    }
    values.update(kw)
    return services.SessionData(**values)


def schedule(teacher, course, **kw):
    return services.create_session(teacher, course, session_data(**kw)).session
