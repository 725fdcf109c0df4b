"""Fixtures of the credits tests: the national defaults seeded, and a small world of
institutions and people with each role."""

import pytest

from lms.credits import services


@pytest.fixture
def seeded(db_session):
    return services.seed_national_defaults()


@pytest.fixture
def world(make, seeded):
    gx = make.institution("gx", country="CN")
    ph = make.institution("ph", country="PH", timezone="Asia/Manila", default_locale="fil")
    return {
        "gx": gx,
        "ph": ph,
        "registrar": make.user("registrar", gx),
        "admin": make.user("admin", gx),
        "teacher": make.user("teacher", gx),
        "student": make.user("student", gx),
        "ph_registrar": make.user("registrar", ph),
        "platform": make.user("admin"),
    }


def band_rows(*rows):
    """``("A", 90, 100, 4)`` … → band dicts as the API and services take them."""
    return [
        {"label": label, "min_percent": lo, "max_percent": hi, "points": points}
        for label, lo, hi, points in rows
    ]


FIVE_LEVEL = band_rows(
    ("A", 90, 100, 4), ("B", 80, 90, 3), ("C", 70, 80, 2), ("D", 60, 70, 1), ("F", 0, 60, 0)
)


@pytest.fixture
def percent_source():
    """Register a course-result source for one test: ``{enrolment_id: percent}``."""
    from lms.credits import ledger

    results: dict = {}

    def source(enrolment):
        return results.get(enrolment.id)

    ledger.result_sources.append(source)
    try:
        yield results
    finally:
        ledger.result_sources.remove(source)


def complete_course(make, course, student, percent_source=None, percent=None):
    """Enrol ``student`` in ``course`` and complete every lesson (the real services); with
    ``percent``, the result source answers it for this enrolment before completion."""
    from lms.core.db import utcnow
    from lms.enrolment import services as enrolment

    enrolment.enrol(student, course, now=utcnow())
    row = enrolment.find_enrolment(student, course)
    if percent is not None:
        percent_source[row.id] = percent
    for lesson in (x for m in course.modules for x in m.lessons):
        enrolment.complete_lesson(student, lesson, now=utcnow())
    assert row.status == "completed"
    return row


def make_course(institution, code, *, credits="3", hours=48, titles=None):
    """A published course with one required lesson, through the catalogue services."""
    from lms.catalog import services as catalog

    data = catalog.CourseData(
        code=code,
        track="zh_plus",
        industry="automotive",
        instruction_languages=["zh_Hans", "en"],
        source_locale="zh_Hans",
        credits=credits,
        learning_hours=hours,
    )
    texts = {loc: {"title": t} for loc, t in (titles or {"zh_Hans": "汽车维修"}).items()}
    course = catalog.create_course(None, institution, data, texts)
    module = catalog.add_module(None, course, "m1", {"zh_Hans": {"title": "第一单元"}}, check=False)
    catalog.add_lesson(
        None, module, "l1", "text", {"zh_Hans": {"title": "第一课", "body": "发动机"}}, check=False
    )
    catalog.approve(None, course, check=False)
    return course
