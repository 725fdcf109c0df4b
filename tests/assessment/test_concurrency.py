"""Against a real server process (SQLite and PostgreSQL): two simultaneous submits of one
attempt give one graded result; answers saved before a dropped connection are kept."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from lms.accounts import services as accounts
from lms.assessment import attempts, services
from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from tests.assessment.conftest import SAMPLE_GIFT
from tests.conftest import PG_URL, need
from tests.live import fresh_pg_database, live_server

STUDENTS = 8


def _seed(state: dict):
    def seed(app):
        inst = accounts.create_institution(
            None,
            slug="quiz-college",
            names={"en": "Quiz College"},
            country="CN",
            kind="vocational_college",
            timezone="Asia/Shanghai",
            default_locale="en",
        )
        teacher = accounts.create_user(
            None,
            email="t@quiz.example.org",
            password="quiz-password-1",
            display_name="T",
            role="teacher",
            institution=inst,
        )
        data = catalog.CourseData(
            code="RACE-101",
            track="zh_plus",
            industry="automotive",
            instruction_languages=["en"],
            source_locale="en",
            teachers=[teacher.email],
        )
        course = catalog.create_course(None, inst, data, {"en": {"title": "Race"}})
        module = catalog.add_module(None, course, "m", {"en": {"title": "m"}}, check=False)
        catalog.add_lesson(None, module, "l", "text", {"en": {"title": "l"}}, check=False)
        catalog.approve(None, course, check=False)
        bank = {
            q.name: q
            for q in services.import_questions(
                teacher, course, "gift", SAMPLE_GIFT.read_bytes()
            ).imported
        }
        quiz = services.create_assessment(
            teacher,
            course,
            "Race quiz",
            time_limit_minutes=60,
            review="immediately",
            question_ids=[bank["Spark"].id, bank["Pi"].id],
        )
        state["spark"], state["pi"] = bank["Spark"].id, bank["Pi"].id
        for i in range(STUDENTS):
            user = accounts.create_user(
                None,
                email=f"s{i}@quiz.example.org",
                password="quiz-password-1",
                display_name=f"S{i}",
                role="student",
                institution=inst,
            )
            enrolment.enrol(user, course, now=utcnow())
            attempt = attempts.start_attempt(user, quiz, now=utcnow())
            state["attempts"].append((attempt.id, accounts.issue_token(user)[0]))

    return seed


def _call(base: str, method: str, path: str, token: str, body: dict | None = None):
    req = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def _drop_mid_request(base: str, path: str, token: str) -> None:
    """Send a PUT whose body never finishes, then cut the connection."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"answers": {"')
    # closed here, mid-body


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_double_submit_and_dropped_connection(tmp_path, backend):
    if backend == "postgresql":
        need(bool(PG_URL), "PostgreSQL (set LMS_TEST_DATABASE_URL)")
        database = fresh_pg_database(PG_URL)
    else:
        database = nullcontext(f"sqlite:///{tmp_path / 'race.sqlite3'}")
    state: dict = {"attempts": []}
    with database as url, live_server(tmp_path, url, seed=_seed(state)) as base:
        first_id, first_token = state["attempts"][0]
        saved = _call(
            base,
            "PUT",
            f"/api/v1/attempts/{first_id}/answers",
            first_token,
            {"answers": {str(state["pi"]): "3.14"}},
        )
        assert saved[0] == 200, saved
        _drop_mid_request(base, f"/api/v1/attempts/{first_id}/answers", first_token)
        status, after = _call(base, "GET", f"/api/v1/attempts/{first_id}", first_token)
        assert status == 200
        pi = next(q for q in after["questions"] if q["question_id"] == state["pi"])
        assert pi["answer"] == "3.14"

        jobs = [
            (aid, token, {"answers": {str(state["spark"]): "c1"}})
            for aid, token in state["attempts"]
            for _twice in range(2)
        ]
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(
                pool.map(
                    lambda j: (
                        j[0],
                        *_call(base, "POST", f"/api/v1/attempts/{j[0]}/submit", j[1], j[2]),
                    ),
                    jobs,
                )
            )
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.connect() as conn:
                events = conn.execute(
                    sa.text(
                        "SELECT object_id, count(*) FROM audit_events "
                        "WHERE action = 'attempt.submit' GROUP BY object_id"
                    )
                ).all()
                statuses = conn.execute(
                    sa.text("SELECT status, count(*) FROM attempts GROUP BY status")
                )
                statuses = dict(statuses.all())
            engine.dispose()

    assert Counter(code for _a, code, _b in results) == {200: 2 * STUDENTS}, results
    by_attempt: dict[int, list[dict]] = {}
    for aid, _code, body in results:
        by_attempt.setdefault(aid, []).append(body)
    for aid, (one, two) in by_attempt.items():
        assert one["status"] == two["status"] == "graded"
        assert one["submitted_at"] == two["submitted_at"]
        assert one["score"] == two["score"] == ("2.00" if aid == first_id else "1.00")
    assert sorted(int(o) for o, _n in events) == sorted(by_attempt)
    assert all(n == 1 for _o, n in events)
    assert statuses == {"graded": STUDENTS}
