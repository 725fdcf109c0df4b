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
