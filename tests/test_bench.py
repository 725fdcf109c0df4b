"""The benchmark's dataset generator makes what it says, in a migrated schema the app reads."""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import dataset  # noqa: E402


def test_dataset_row_counts_at_small_scale(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    dataset.migrate(url, tmp_path / "instance")
    scale = dataset.Scale(institutions=10, courses=100, students=50, enrolments=250, progress=1250)
    counts = dataset.load(url, scale, log=lambda _m: None)
    code, tokens = dataset.contested(url, students=7, capacity=3)

    engine = sa.create_engine(url)
    with engine.connect() as conn:

        def count(sql: str) -> int:
            return conn.execute(sa.text(sql)).scalar()

        assert count("SELECT COUNT(*) FROM institutions") == 10
        assert count("SELECT COUNT(*) FROM courses WHERE status = 'published'") == 101
        assert count("SELECT COUNT(*) FROM course_translations") == 201
        assert count("SELECT COUNT(*) FROM lessons") == 500
        assert count("SELECT COUNT(*) FROM users") == 57
        assert count("SELECT COUNT(*) FROM memberships WHERE role = 'student'") == 50
        assert count("SELECT COUNT(*) FROM enrolments") == 250
        assert count("SELECT COUNT(*) FROM lesson_progress") == 1250
        assert count("SELECT COUNT(*) FROM api_tokens") == 7
        # students enrol only in courses of their own institution, never twice
        assert (
            count(
                "SELECT COUNT(*) FROM enrolments e JOIN memberships m ON m.user_id = e.student_id "
                "JOIN courses c ON c.id = e.course_id WHERE c.institution_id != m.institution_id"
            )
            == 0
        )
        assert (
            count(
                "SELECT COUNT(*) FROM (SELECT 1 FROM enrolments GROUP BY student_id, course_id "
                "HAVING COUNT(*) > 1) AS d"
            )
            == 0
        )
        # progress rows point at lessons of the enrolment's own course
        assert (
            count(
                "SELECT COUNT(*) FROM lesson_progress p JOIN enrolments e ON e.id = p.enrolment_id "
                "JOIN lessons l ON l.id = p.lesson_id WHERE l.course_id != e.course_id"
            )
            == 0
        )
        assert count("SELECT SUM(taken) FROM seat_pools") == 250
        cap = conn.execute(sa.text("SELECT capacity FROM courses WHERE code = :c"), {"c": code})
        assert cap.scalar() == 3
    engine.dispose()
    assert counts["enrolments"] == 250 and counts["lesson_progress"] == 1250
    assert len(set(tokens)) == 7


def test_the_app_reads_the_generated_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    dataset.migrate(url, tmp_path / "instance")
    dataset.load(url, dataset.Scale(10, 100, 50, 250, 1250), log=lambda _m: None)
    code, tokens = dataset.contested(url, students=2, capacity=1)

    from lms import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path / "i")})
    client = app.test_client()
    page = client.get("/api/v1/courses?per_page=5")
    assert page.status_code == 200
    assert page.get_json()["total"] == 101
    assert client.get("/courses").status_code == 200
    assert client.get("/courses/" + dataset.course_code(1)).status_code == 200
    first = client.post(
        f"/api/v1/courses/{code}/enrolments",
        json={},
        headers={"Authorization": f"Bearer {tokens[0]}"},
    )
    second = client.post(
        f"/api/v1/courses/{code}/enrolments",
        json={},
        headers={"Authorization": f"Bearer {tokens[1]}"},
    )
    assert (first.status_code, second.status_code) == (201, 202)
    # a generated student can sign in with the shared password
    login = client.post(
        "/api/v1/auth/token",
        json={"email": dataset.student_email(3), "password": "bench-password"},
    )
    assert login.status_code in (200, 201), login.get_json()
