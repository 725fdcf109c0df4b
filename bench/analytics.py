"""Dashboard query times on the benchmark dataset (DESIGN §8; ``make bench`` runs it).

On a database loaded by bench/dataset.py (1,000,000 enrolments at full scale) this first
adds what the analytics read and the generator does not make — every course's second lesson
becomes a 10-minute video, one enrolment in ten is completed with an earned credit record,
one in five was active this week, the busiest course gets a five-question quiz with a graded
attempt per student and a live session with attendance — using INSERT … SELECT, then times
each query of each dashboard (best of a few runs) through the analytics services:

* the teacher's course analytics of the busiest course (every table, and with a country
  filter);
* the statistics of the institution that offers it;
* the platform statistics (every enrolment, every ledger record).

Times are reported in milliseconds and as ratios against a baseline measured in the same
run: one hand-written GROUP BY over every enrolment joined to its student (enrolments by
the student's country), the least a query over all enrolments costs on this machine.

    python bench/analytics.py [--quick] [--rounds 3]   (builds its own SQLite dataset)"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dataset  # noqa: E402

#: the least a query over every enrolment and its student costs here: hand-written SQL
BASELINE = (
    "SELECT u.country, COUNT(*) FROM enrolments e JOIN users u ON u.id = e.student_id "
    "GROUP BY u.country"
)


def _app(url: str, tmp: Path):
    from lms import create_app

    return create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(tmp / "analytics")}
    )


def enrich(now: datetime) -> dict[str, Any]:
    """Add the rows the dashboards read (inside an app context). Returns the busiest
    course's id and what was added."""
    from lms.assessment.models import Assessment, Attempt, Question, Response
    from lms.catalog.models import Course, Lesson
    from lms.core.extensions import db
    from lms.credits.models import CreditRecord
    from lms.enrolment.models import Enrolment
    from lms.live.models import AttendanceEvent, LiveSession

    s = db.session
    s.execute(sa.update(Lesson).where(Lesson.position == 1).values(kind="video", minutes=10))
    s.execute(
        sa.update(Enrolment)
        .where(Enrolment.id % 10 == 0)
        .values(status="completed", finished_at=now)
    )
    s.execute(
        sa.update(Enrolment)
        .where(Enrolment.id % 5 == 1)
        .values(last_activity_at=now - timedelta(days=2))
    )
    s.execute(
        sa.insert(CreditRecord).from_select(
            [
                "kind", "student_id", "institution_id", "course_id", "enrolment_id",
                "course_code", "title", "credits", "hours", "credit_system", "grade",
                "grade_scale", "grade_source", "passed", "completed_on", "note", "created_at",
            ],
            sa.select(
                sa.literal("earned"), Enrolment.student_id, Course.institution_id, Course.id,
                Enrolment.id, Course.code, sa.literal("Course"), Course.credits,
                sa.literal(Decimal(32)), sa.literal("CN-CREDIT"), sa.literal("A"),
                sa.literal("CN-100"), sa.literal("percent"), sa.true(),
                sa.literal(now.date()), sa.literal(""),
                sa.literal(now, CreditRecord.created_at.type),
            )
            .join(Course, Course.id == Enrolment.course_id)
            .where(Enrolment.status == "completed"),
        )
    )  # fmt: skip
    records = s.scalar(sa.select(sa.func.count()).select_from(CreditRecord))

    # the busiest course with a video (not bench/run.py's enrolment-rush course)
    busiest = s.execute(
        sa.select(Enrolment.course_id, sa.func.count().label("n"))
        .where(Enrolment.course_id.in_(sa.select(Lesson.course_id).where(Lesson.kind == "video")))
        .group_by(Enrolment.course_id)
        .order_by(sa.func.count().desc(), Enrolment.course_id)
        .limit(1)
    ).one()
    course = s.get(Course, busiest.course_id)
    questions = [
        Question(course_id=course.id, qtype="truefalse", name=f"Q{i}", points=Decimal(1))
        for i in range(5)
    ]
    quiz = Assessment(course_id=course.id, title="Bench quiz")
    s.add_all([*questions, quiz])
    s.flush()
    s.execute(
        sa.insert(Attempt).from_select(
            ["assessment_id", "student_id", "number", "status", "started_at", "late",
             "auto_submitted", "layout", "score", "max_score"],
            sa.select(
                sa.literal(quiz.id), Enrolment.student_id, sa.literal(1), sa.literal("graded"),
                sa.literal(now, Attempt.started_at.type), sa.false(), sa.false(),
                sa.literal([], Attempt.layout.type), (Enrolment.id % 6).cast(sa.Numeric),
                sa.literal(Decimal(5)),
            ).where(Enrolment.course_id == course.id),
        )
    )  # fmt: skip
    for i, q in enumerate(questions):
        s.execute(
            sa.insert(Response).from_select(
                ["attempt_id", "question_id", "position", "score", "max_score", "feedback"],
                sa.select(
                    Attempt.id, sa.literal(q.id), sa.literal(i),
                    sa.case((Attempt.score > i, 1), else_=0).cast(sa.Numeric),
                    sa.literal(Decimal(1)), sa.literal(""),
                ).where(Attempt.assessment_id == quiz.id),
            )
        )  # fmt: skip
    teacher = s.scalar(sa.select(Enrolment.student_id).where(Enrolment.course_id == course.id))
    start = now - timedelta(days=21)
    live = LiveSession(
        course_id=course.id, organiser_id=teacher, titles={"en": "Bench"}, source_locale="en",
        starts_at=start, timezone="UTC", duration_minutes=60, rrule="FREQ=WEEKLY;COUNT=3",
        last_ends_at=start + timedelta(weeks=2, hours=1), provider="external",
        external_url="https://example.org/",
    )  # fmt: skip
    s.add(live)
    s.flush()
    for week in range(3):
        occurrence = start + timedelta(weeks=week)
        s.execute(
            sa.insert(AttendanceEvent).from_select(
                ["session_id", "user_id", "occurrence_at", "kind", "source", "at"],
                sa.select(
                    sa.literal(live.id), Enrolment.student_id,
                    sa.literal(occurrence, AttendanceEvent.occurrence_at.type),
                    sa.literal("join"), sa.literal("platform"),
                    sa.literal(occurrence, AttendanceEvent.at.type),
                ).where(Enrolment.course_id == course.id, Enrolment.id % 3 != week),
            )
        )  # fmt: skip
    s.commit()
    return {"course_id": course.id, "course_enrolments": busiest.n, "credit_records": records}


def best_ms(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(min(times) * 1000, 2)


def measure(url: str, tmp: Path, rounds: int = 3) -> dict[str, Any]:
    """Enrich the dataset at ``url`` and time every dashboard query."""
    from lms.analytics import services
    from lms.analytics.services import Filters
    from lms.catalog.models import Course
    from lms.core.extensions import db

    app = _app(url, tmp)
    now = datetime.now(UTC)
    out: dict[str, Any] = {}
    with app.test_request_context("/?lang=en"):
        out["added"] = enrich(now)
        db.session.remove()
        course = db.session.get(Course, out["added"]["course_id"])
        institution = course.institution
        lesson = services.video_lessons(course)[0]
        quiz = services.graded_assessments(course)[0]
        everyone, one_country = Filters(), Filters(country="VN")
        baseline = best_ms(lambda: db.session.execute(sa.text(BASELINE)).all(), rounds)
        out["baseline_ms"] = baseline
        parts: dict[str, Callable[[], Any]] = {
            "course.enrolments": lambda: services.enrolments_over_time(course, everyone),
            "course.funnel": lambda: services.completion_funnel(course, everyone, "en"),
            "course.video": lambda: services.video_engagement(course, everyone, "en"),
            "course.dropoff": lambda: services.video_dropoff(course, lesson, everyone),
            "course.items": lambda: services.item_analysis(quiz, everyone, "en"),
            "course.grades": lambda: services.grade_distribution(quiz, everyone),
            "course.attendance": lambda: services.attendance(course, everyone, "en"),
            "course.dashboard": lambda: services.course_dashboard(course, everyone, "en"),
            "course.dashboard_country": lambda: services.course_dashboard(
                course, one_country, "en"
            ),
        }
        for scope, inst in (("institution", institution), ("platform", None)):
            parts.update(
                {
                    f"{scope}.countries": lambda i=inst: services.learners_by_country(
                        i, everyone, now=now
                    ),
                    f"{scope}.segments": lambda i=inst: services.enrolments_by_segment(i, everyone),
                    f"{scope}.completion": lambda i=inst: services.completion_by_track(i, everyone),
                    f"{scope}.credits": lambda i=inst: services.credits_by_country_pair(i),
                    f"{scope}.transcripts": lambda i=inst: services.transcripts_issued(i),
                    f"{scope}.quotas": lambda i=inst: services.quota_use(i, "en"),
                    f"{scope}.headline": lambda i=inst: services.headline(i, everyone, now=now),
                    f"{scope}.dashboard": lambda i=inst: services.statistics(
                        i, everyone, "en", now=now
                    ),
                }
            )
        timings = {name: best_ms(fn, rounds) for name, fn in parts.items()}
        out["ms"] = timings
        out["ratio"] = {k: round(v / baseline, 2) if baseline else 0 for k, v in timings.items()}
        board = services.course_dashboard(course, everyone, "en")
        out["course_learners"] = board.learners
        out["rows"] = {t.key: len(t.rows) for t in board.tables}
    with app.app_context():
        db.engine.dispose()
    return out


def lines(result: dict[str, Any]) -> list[str]:
    """Report lines for ``bench/run.py``'s table."""
    out = [
        f"  analytics: baseline GROUP BY over all enrolments {result['baseline_ms']} ms; "
        f"busiest course {result['added']['course_enrolments']} enrolments"
    ]
    for name in ("course.dashboard", "course.dashboard_country", "institution.dashboard",
                 "platform.dashboard"):  # fmt: skip
        out.append(
            f"  {name:28} {result['ms'][name]:>10} ms  {result['ratio'][name]:>7}× the baseline"
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small dataset")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scale = dataset.Scale(10, 1_000, 2_000, 10_000, 50_000) if args.quick else dataset.Scale()
    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-analytics-"))
    url = f"sqlite:///{tmp / 'analytics.sqlite3'}"
    print(f"dataset (sqlite): {scale}", flush=True)
    dataset.migrate(url, tmp / "instance")
    dataset.load(url, scale)
    result = measure(url, tmp, args.rounds)
    print(json.dumps(result, indent=2))
    print("\n".join(lines(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
