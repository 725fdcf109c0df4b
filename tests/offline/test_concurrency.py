"""Two tabs (or a flaky connection's retries) sending the same batch at the same moment: a
real server on SQLite and PostgreSQL applies each operation exactly once, and every other
copy is answered "duplicate"."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import pytest
import sqlalchemy as sa

from tests.browser.test_offline import _seed
from tests.conftest import PG_URL, need
from tests.live import fresh_pg_database, live_server

COPIES = 12


def _seed_with_token(ids: dict):
    def seed(app):
        from lms.accounts import services as accounts
        from lms.assessment import attempts, services
        from lms.core.db import utcnow

        _seed(ids)(app)
        student = accounts.find_user_by_email("student@offline.test")
        quiz = services.get_assessment(ids["quiz"])
        ids["attempt"] = attempts.start_attempt(student, quiz, now=utcnow()).id
        ids["token"] = accounts.issue_token(student)[0]

    return seed


def _post(base: str, token: str, batch: dict) -> tuple[int, list[str]]:
    req = urllib.request.Request(
        f"{base}/api/v1/sync",
        data=json.dumps(batch).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        return resp.status, [r["status"] for r in json.load(resp)["results"]]


def _scalar(url: str, sql: str) -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        value = conn.execute(sa.text(sql)).scalar()
    engine.dispose()
    return value


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_same_batch_sent_concurrently_applies_once(tmp_path, backend):
    if backend == "postgresql":
        need(bool(PG_URL), "PostgreSQL (set LMS_TEST_DATABASE_URL)")
        database = fresh_pg_database(PG_URL)
    else:
        database = nullcontext(f"sqlite:///{tmp_path / 'sync.sqlite3'}")
    ids: dict = {}
    with database as url, live_server(tmp_path, url, seed=_seed_with_token(ids)) as base:
        batch = {
            "operations": [
                {"id": str(uuid.uuid4()), "type": "lesson.complete", "lesson_id": ids["lesson"]},
                {
                    "id": str(uuid.uuid4()),
                    "type": "quiz.answer",
                    "attempt_id": ids["attempt"],
                    "answers": {str(ids["spark"]): "c1"},
                },
            ]
        }
        with ThreadPoolExecutor(max_workers=COPIES) as pool:
            answers = list(pool.map(lambda _i: _post(base, ids["token"], batch), range(COPIES)))
        operations = _scalar(url, "SELECT count(*) FROM sync_operations")
        completions = _scalar(
            url, "SELECT count(*) FROM lesson_progress WHERE completed_at IS NOT NULL"
        )
    assert {status for status, _results in answers} == {200}
    for position in range(2):
        outcome = Counter(results[position] for _status, results in answers)
        assert outcome == {"applied": 1, "duplicate": COPIES - 1}, outcome
    assert operations == 2 and completions == 1
