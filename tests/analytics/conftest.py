"""A seeded dataset for the analytics tests: two institutions' courses, students from four
countries in two classes, progress, a quiz with graded attempts, a live session with
attendance, ledger records (one corrected, some recognised), transcripts and a
mutual-selection agreement. Rows are written directly (the dashboards read rows, whatever
wrote them); ``Seed`` keeps plain-Python copies so each test can count independently."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from lms.analytics.models import XapiStatement
from lms.assessment.models import Assessment, Attempt, Question, Response
from lms.catalog import services as catalog
from lms.core.extensions import db
from lms.credits.models import CreditRecord
from lms.enrolment.models import Cohort, Enrolment, LessonProgress, SelectionAgreement
from lms.live.models import AttendanceEvent, LiveSession
from lms.transcripts.models import Transcript
from tests.catalog.conftest import course_factory, gx  # noqa: F401  (fixtures)

#: the dashboards read "active in the last 30 days" against the real clock
NOW = datetime.now(UTC).replace(microsecond=0)
COUNTRIES = ("VN", "TH", "CN", "ID")
STATUSES = ("enrolled", "enrolled", "completed", "failed", "withdrawn", "pending")


@dataclass
class Seed:
    gx: Any
    vn: Any
    teacher: Any
    other_teacher: Any
    admin: Any
    vn_admin: Any
    student: Any
    course: Any
    other_course: Any
    cohorts: list[Any]
    modules: list[Any]
    lessons: dict[str, Any]
    assessment: Any
    questions: list[Any]
    session: Any
    enrolments: list[dict] = field(default_factory=list)
    progress: list[dict] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    transcripts: list[dict] = field(default_factory=list)
    agreement: Any = None


def _course(gx, code, teacher, titles):  # noqa: F811
    data = catalog.CourseData(
        code=code,
        track="zh_plus",
        industry="automotive",
        instruction_languages=["zh_Hans", "en"],
        source_locale="en",
        teachers=[teacher.email],
    )
    texts = {loc: {"title": t} for loc, t in titles.items()}
    course = catalog.create_course(None, gx, data, texts)
    catalog.approve(None, course, check=False)
    return course


@pytest.fixture
def seed(make) -> Seed:
    rnd = random.Random(20270615)
    gx = make.institution("gx", country="CN")  # noqa: F811
    vn = make.institution("vn", country="VN", timezone="Asia/Ho_Chi_Minh", default_locale="vi")
    teacher = make.user("teacher", gx)
    other_teacher = make.user("teacher", gx)
    admin = make.user("admin", gx)
    vn_admin = make.user("admin", vn)
    course = _course(gx, "GX-AUTO", teacher, {"en": "Car repair", "zh_Hans": "汽车维修"})
    other_course = _course(gx, "GX-OTHER", other_teacher, {"en": "Welding"})
    other_course.track, other_course.industry = "en_plus", "new_materials"

    m1 = catalog.add_module(None, course, "m1", {"en": {"title": "Engines"}}, check=False)
    m2 = catalog.add_module(None, course, "m2", {"en": {"title": "Brakes"}}, check=False)
    lessons = {
        "l1": catalog.add_lesson(None, m1, "l1", "text", {"en": {"title": "Intro"}}, check=False),
        "v1": catalog.add_lesson(
            None, m1, "v1", "video", {"en": {"title": "Engine video"}}, minutes=10, check=False
        ),
        "l2": catalog.add_lesson(None, m2, "l2", "text", {"en": {"title": "Pads"}}, check=False),
        "l3": catalog.add_lesson(
            None, m2, "l3", "text", {"en": {"title": "Extra"}}, required=False, check=False
        ),
    }
    other_m = catalog.add_module(None, other_course, "m1", {"en": {"title": "Arc"}}, check=False)
    catalog.add_lesson(None, other_m, "o1", "text", {"en": {"title": "Arc"}}, check=False)
    cohorts = [Cohort(course_id=course.id, name=n) for n in ("Class A", "Class B")]
    db.session.add_all(cohorts)
    agreement = SelectionAgreement(
        host_id=gx.id,
        partner_id=vn.id,
        term="2027 spring",
        valid_from=date(2027, 1, 1),
        valid_to=date(2027, 12, 31),
        quota=10,
        taken=0,
    )
    db.session.add(agreement)
    db.session.flush()

    students = []
    for i in range(36):
        inst = vn if i % 3 == 0 else gx
        s = make.user("student", inst, country=COUNTRIES[i % len(COUNTRIES)])
        students.append(s)
    seed = Seed(
        gx, vn, teacher, other_teacher, admin, vn_admin, students[1], course, other_course,
        cohorts, [m1, m2], lessons, None, [], None, agreement=agreement,
    )  # fmt: skip

    # enrolments in both courses; months Jan–May 2027 with March left empty
    months = [1, 2, 4, 5]
    taken = 0
    for i, s in enumerate(students):
        for c in (course, other_course) if i % 4 else (course,):
            status = STATUSES[rnd.randrange(len(STATUSES))]
            admitted = status != "pending"
            via = c is course and s.memberships[0].institution_id == vn.id and taken < 4
            when = datetime(2027, months[rnd.randrange(4)], 1 + rnd.randrange(27), 9, tzinfo=UTC)
            e = Enrolment(
                student_id=s.id,
                course_id=c.id,
                cohort_id=cohorts[i % 2].id if c is course and i % 5 else None,
                status=status,
                source="agreement" if via and admitted else "direct",
                agreement_id=agreement.id if via and admitted else None,
                holds_seat=status in ("enrolled", "completed", "failed"),
                requested_at=when - timedelta(days=1),
                enrolled_at=when if admitted else None,
                last_activity_at=(
                    NOW - timedelta(days=rnd.randrange(60), hours=12) if admitted else None
                ),
            )
            if via and admitted:
                taken += 1
            db.session.add(e)
            db.session.flush()
            seed.enrolments.append(
                {
                    "id": e.id,
                    "student": s.id,
                    "course": c.id,
                    "country": s.country,
                    "cohort": e.cohort_id,
                    "status": status,
                    "enrolled_at": e.enrolled_at,
                    "last_activity_at": e.last_activity_at,
                    "agreement": e.agreement_id,
                    "holds_seat": e.holds_seat,
                    "track": c.track,
                    "industry": c.industry,
                }
            )
    agreement.taken = taken

    # progress in course A
    for e in seed.enrolments:
        if e["course"] != course.id or e["status"] == "pending":
            continue
        for key, lesson in lessons.items():
            roll = rnd.random()
            if roll < 0.3:
                continue
            completed = roll > 0.7
            position = rnd.randrange(0, 601) if key == "v1" else 0
            watched = rnd.randrange(0, 601) if key == "v1" else 0
            p = LessonProgress(
                enrolment_id=e["id"],
                lesson_id=lesson.id,
                completed_at=NOW if completed else None,
                position=position,
                seconds_watched=watched,
                watched=[],
            )
            db.session.add(p)
            seed.progress.append(
                {
                    "enrolment": e["id"],
                    "lesson": key,
                    "completed": completed,
                    "position": position,
                    "seconds": watched,
                }
            )

    # a quiz of three questions; first attempts graded, some students try again
    questions = [
        Question(course_id=course.id, qtype="truefalse", name=f"Q{n}", points=Decimal(2))
        for n in (1, 2, 3)
    ]
    db.session.add_all(questions)
    assessment = Assessment(course_id=course.id, title="Quiz 1")
    db.session.add(assessment)
    db.session.flush()
    seed.assessment, seed.questions = assessment, questions
    takers = [e for e in seed.enrolments if e["course"] == course.id and e["enrolled_at"]]
    for e in takers[:24]:
        for number in (1, 2) if e["id"] % 3 == 0 else (1,):
            scores = [Decimal(rnd.choice((0, 2, 2, 1))) for _q in questions]
            status = "graded" if not (number == 1 and e["id"] % 7 == 0) else "submitted"
            a = Attempt(
                assessment_id=assessment.id,
                student_id=e["student"],
                number=number,
                status=status,
                score=sum(scores) if status == "graded" else None,
                max_score=Decimal(6),
                layout=[],
            )
            db.session.add(a)
            db.session.flush()
            seed.attempts.append(
                {
                    "id": a.id,
                    "student": e["student"],
                    "number": number,
                    "status": status,
                    "score": float(sum(scores)),
                    "enrolment": e,
                }
            )
            for pos, (q, sc) in enumerate(zip(questions, scores, strict=True)):
                db.session.add(
                    Response(
                        attempt_id=a.id,
                        question_id=q.id,
                        position=pos,
                        score=sc if status == "graded" else None,
                        max_score=Decimal(2),
                    )
                )
                seed.responses.append(
                    {"attempt": a.id, "question": q.id, "score": float(sc), "max": 2.0}
                )

    # a weekly live session with join / roll-call events over three occurrences
    session = LiveSession(
        course_id=course.id,
        organiser_id=teacher.id,
        titles={"en": "Workshop"},
        source_locale="en",
        starts_at=datetime(2027, 5, 3, 2, tzinfo=UTC),
        timezone="Asia/Shanghai",
        duration_minutes=60,
        rrule="FREQ=WEEKLY;COUNT=3",
        last_ends_at=datetime(2027, 5, 17, 3, tzinfo=UTC),
        provider="external",
        external_url="https://example.org/room",
    )
    db.session.add(session)
    db.session.flush()
    seed.session = session
    occurrences = [session.starts_at + timedelta(weeks=w) for w in range(3)]
    course_students = [e for e in seed.enrolments if e["course"] == course.id]
    for e in course_students:
        for occ in occurrences:
            roll = rnd.random()
            kinds = []
            if roll < 0.35:
                kinds = [("join", None), ("leave", None), ("join", None)]
            elif roll < 0.5:
                kinds = [("present", rnd.choice((0, 30, 60)))]
            elif roll < 0.6:
                kinds = [("leave", None)]
            for kind, minutes in kinds:
                db.session.add(
                    AttendanceEvent(
                        session_id=session.id,
                        user_id=e["student"],
                        occurrence_at=occ,
                        kind=kind,
                        source="roll_call" if kind == "present" else "platform",
                        at=occ + timedelta(minutes=5),
                        minutes=minutes,
                    )
                )
                seed.events.append(
                    {"user": e["student"], "occ": occ, "kind": kind, "minutes": minutes, "e": e}
                )
    # a teacher's own join does not count (not enrolled)
    db.session.add(
        AttendanceEvent(
            session_id=session.id,
            user_id=teacher.id,
            occurrence_at=occurrences[0],
            kind="join",
            source="platform",
        )
    )

    # the ledger: earned records of completed enrolments, one corrected to zero, one
    # corrected to less; recognised at the Vietnamese partner for two of them
    earned = []
    for e in seed.enrolments:
        if e["status"] != "completed":
            continue
        inst = gx
        rec = _record("earned", e, inst, Decimal("2.0"))
        db.session.add(rec)
        db.session.flush()
        earned.append((rec, e))
        seed.records.append(_plain(rec, e, gx.country, corrected=False))
    withdrawn, lessened = earned[0], earned[1]
    for (orig, e), credits in ((withdrawn, Decimal(0)), (lessened, Decimal("1.5"))):
        corr = _record("corrected", e, gx, credits, corrects=orig)
        db.session.add(corr)
        db.session.flush()
        seed.records[[r["id"] for r in seed.records].index(orig.id)]["corrected"] = True
        seed.records.append(_plain(corr, e, gx.country, corrected=False))
    for orig, e in earned[2:4]:
        rec = _record("recognised", e, vn, Decimal("3.0"), source=orig)
        db.session.add(rec)
        db.session.flush()
        seed.records.append(_plain(rec, e, gx.country, corrected=False, home=vn.country))

    for n, status in enumerate(("valid", "superseded", "valid", "revoked")):
        issued = datetime(2027, 3 + n % 2, 10, tzinfo=UTC)
        t = Transcript(
            public_id=f"t{n}",
            student_id=students[n].id,
            institution_id=gx.id,
            version=1,
            status=status,
            credential_id=f"urn:uuid:{n}",
            verification_code=f"CODE{n}",
            snapshot={},
            signed_credential="{}",
            issued_at=issued,
        )
        db.session.add(t)
        seed.transcripts.append({"status": status, "month": issued.strftime("%Y-%m")})
    db.session.flush()
    return seed


def _record(kind, e, inst, credits, *, corrects=None, source=None) -> CreditRecord:
    return CreditRecord(
        kind=kind,
        student_id=e["student"],
        institution_id=inst.id,
        course_id=e["course"],
        enrolment_id=e["id"] if kind == "earned" else None,
        course_code="GX",
        title="Course",
        credits=credits,
        hours=Decimal(32),
        credit_system=f"{inst.country}-CREDIT",
        grade="A",
        percent=Decimal(90),
        grade_scale="S",
        grade_source={"earned": "percent", "corrected": "correction"}.get(kind, "recognition"),
        passed=credits > 0,
        completed_on=date(2027, 6, 1),
        source_record_id=source.id if source else (corrects.source_record_id if corrects else None),
        corrects_id=corrects.id if corrects else None,
    )


def _plain(rec, e, source_country, *, corrected, home=None) -> dict:
    return {
        "id": rec.id,
        "kind": "recognised" if rec.source_record_id else "earned",
        "origin": e["country"] if not rec.source_record_id else source_country,
        "destination": home or "CN",
        "system": rec.credit_system,
        "credits": float(rec.credits),
        "passed": rec.passed,
        "corrected": corrected,
    }


# --- the xAPI tests: one course with a text and a video lesson

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
