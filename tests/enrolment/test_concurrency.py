"""Seats and quotas stay exact under concurrent requests, on SQLite and on PostgreSQL: a real
server process, more than 100 simultaneous enrolment requests from distinct students."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.accounts import services as accounts
from lms.catalog import services as catalog
from lms.enrolment import services
from tests.conftest import PG_URL, need
from tests.live import fresh_pg_database, live_server

STUDENTS = 110
SEATS = 30
QUOTA = 25


def _seed(tokens: dict[str, list[str]]):
    def seed(app):
        home = accounts.get_institution("liuzhou-auto")
        partner = accounts.get_institution("hanoi-tech")
        for code, capacity in (("RUSH-101", SEATS), ("QUOTA-101", 500)):
            data = catalog.CourseData(
                code=code,
                track="zh_plus",
                industry="automotive",
                instruction_languages=["zh_Hans"],
                source_locale="zh_Hans",
                capacity=capacity,
            )
            course = catalog.create_course(None, home, data, {"zh_Hans": {"title": code}})
            module = catalog.add_module(None, course, "m", {"zh_Hans": {"title": "m"}}, check=False)
            catalog.add_lesson(None, module, "l", "text", {"zh_Hans": {"title": "l"}}, check=False)
            catalog.approve(None, course, check=False)
        registrar = accounts.find_user_by_email("registrar@demo.lms.test")
        accounts.grant_role(None, registrar, home, "registrar")
        services.create_agreement(
            registrar,
            home,
            partner,
            term="rush",
            valid_from=date.today() - timedelta(days=1),
            valid_to=date.today() + timedelta(days=30),
            quota=QUOTA,
            courses=[catalog.get_course("QUOTA-101")],
        )
        for group, inst in (("home", home), ("partner", partner)):
            for i in range(STUDENTS):
                user = accounts.create_user(
                    None,
                    email=f"{group}{i}@rush.example.org",
                    password="rush-password-1",
                    display_name=f"S{i}",
                    role="student",
                    institution=inst,
                )
                tokens[group].append(accounts.issue_token(user)[0])

    return seed


def _post(base: str, code: str, token: str) -> int:
    req = urllib.request.Request(
        f"{base}/api/v1/courses/{code}/enrolments",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            json.load(resp)
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def _rush(base: str, code: str, tokens: list[str]) -> Counter:
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        return Counter(pool.map(lambda t: _post(base, code, t), tokens))


def _rows(database_url: str, code: str) -> list[tuple[int, str]]:
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT e.student_id, e.status FROM enrolments e "
                "JOIN courses c ON c.id = e.course_id WHERE c.code = :code"
            ),
            {"code": code},
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_enrolments_never_oversell(tmp_path, backend):
    if backend == "postgresql":
        need(bool(PG_URL), "PostgreSQL (set LMS_TEST_DATABASE_URL)")
        database = fresh_pg_database(PG_URL)
    else:
        database = nullcontext(f"sqlite:///{tmp_path / 'rush.sqlite3'}")
    tokens: dict[str, list[str]] = {"home": [], "partner": []}
    with database as url, live_server(tmp_path, url, seed=_seed(tokens)) as base:
        seats = _rush(base, "RUSH-101", tokens["home"])
        quota = _rush(base, "QUOTA-101", tokens["partner"])
        again = _rush(base, "RUSH-101", tokens["home"][:20])  # double submissions
        rush_rows, quota_rows = _rows(url, "RUSH-101"), _rows(url, "QUOTA-101")
    assert seats == {201: SEATS, 202: STUDENTS - SEATS}, seats
    assert quota == {201: QUOTA, 202: STUDENTS - QUOTA}, quota
    assert again == {409: 20}
    for rows, admitted in ((rush_rows, SEATS), (quota_rows, QUOTA)):
        statuses = Counter(status for _student, status in rows)
        assert statuses == {"enrolled": admitted, "waitlisted": STUDENTS - admitted}
        assert len({student for student, _status in rows}) == len(rows) == STUDENTS
