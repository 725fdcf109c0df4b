"""bench/analytics.py runs on a small generated dataset, on SQLite and PostgreSQL, and the
dashboards it times read what it added."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL, need
from tests.live import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import analytics as bench_analytics  # noqa: E402
import dataset  # noqa: E402


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_bench_analytics_on_a_small_dataset(tmp_path, backend):
    if backend == "postgresql":
        need(bool(PG_URL), "PostgreSQL (set LMS_TEST_DATABASE_URL)")
        database = fresh_pg_database(PG_URL)
    else:
        database = contextlib.nullcontext(f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    with database as url:
        dataset.migrate(url, tmp_path / "instance")
        dataset.load(url, dataset.Scale(10, 100, 50, 250, 1250), log=lambda _m: None)
        result = bench_analytics.measure(url, tmp_path, rounds=1)
    every = {"course", "institution", "platform"}
    assert {name.split(".")[0] for name in result["ms"]} == every
    assert all(ms > 0 for ms in result["ms"].values())
    # 250 enrolments, every tenth completed with an earned record
    assert result["added"]["credit_records"] == 25
    assert result["course_learners"] == result["added"]["course_enrolments"]
    assert result["rows"]["items"] == 5 and result["rows"]["attendance"] == 1
    assert len(bench_analytics.lines(result)) == 5
