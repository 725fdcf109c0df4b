from __future__ import annotations

import pytest

from lms.catalog import services as catalog
from tests.catalog.conftest import course_factory, gx  # noqa: F401  (fixtures)


@pytest.fixture
def course(course_factory):  # noqa: F811
    """A published Guangxi course with capacity 2 and two required lessons."""
    c = course_factory("GX-ENR", capacity=2)
    module = c.modules[0]
    catalog.add_lesson(None, module, "l2", "video", {"zh_Hans": {"title": "视频"}}, check=False)
    return c


@pytest.fixture
def vn(make):
    return make.institution(
        "vn-college", country="VN", timezone="Asia/Ho_Chi_Minh", default_locale="vi"
    )


def student_of(make, institution, **kw):
    return make.user("student", institution, **kw)
