from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.analytics.models import XapiStatement
from lms.catalog import services as catalog
from lms.core.extensions import db
from tests.catalog.conftest import course_factory, gx  # noqa: F401  (fixtures)

TITLES = {"zh_Hans": "汽车维修", "en": "Car repair", "th": "ซ่อมรถยนต์"}


@pytest.fixture
def teacher(make, gx):  # noqa: F811
    return make.user("teacher", gx)


@pytest.fixture
def course(course_factory, teacher):  # noqa: F811
    """A published Guangxi course in three languages: a text lesson and a video lesson."""
    c = course_factory("GX-XAPI", titles=TITLES, teachers=[teacher.email])
    catalog.add_lesson(
        None,
        c.modules[0],
        "video",
        "video",
        {"zh_Hans": {"title": "发动机视频"}, "en": {"title": "Engine video"}},
        check=False,
    )
    return c


def statements(verb: str | None = None, **filters) -> list[XapiStatement]:
    stmt = select(XapiStatement).order_by(XapiStatement.stored, XapiStatement.id)
    if verb:
        stmt = stmt.where(XapiStatement.verb == verb)
    for name, value in filters.items():
        stmt = stmt.where(getattr(XapiStatement, name) == value)
    return list(db.session.scalars(stmt))
