"""Query discipline: the main pages run as many SQL statements for 20 items as for 2 (no
query per row, i.e. no N+1), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lms.assessment import attempts
from lms.assessment import services as assessment
from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.credits import ledger
from lms.credits.models import CreditRecord
from lms.enrolment import services as enrolment
from lms.transcripts import issuance
from tests.assessment.conftest import SAMPLE_GIFT
from tests.catalog.conftest import course_factory, gx, staff_client  # noqa: F401  (fixtures)
from tests.conftest import bearer, login
from tests.queries import statements_of
from tests.transcripts.conftest import public_host  # noqa: F401  (fixture)


def same_count(few, many, what: str) -> None:
    assert len(many) == len(few), (
        f"{what}: {len(few)} statements for 2 items, {len(many)} for 20\n"
        f"-- 2 items:\n{few}\n-- 20 items:\n{many}"
    )


def test_catalogue_page_and_api(client, course_factory):  # noqa: F811
    for n in range(2):
        course_factory(f"QC-{n:03d}")
    few_page = statements_of(client, "/courses")
    few_api = statements_of(client, "/api/v1/courses?per_page=50")
    for n in range(2, 20):
        course_factory(f"QC-{n:03d}")
    assert client.get("/api/v1/courses?per_page=50").json["total"] == 20
    same_count(few_page, statements_of(client, "/courses"), "catalogue page")
    same_count(few_api, statements_of(client, "/api/v1/courses?per_page=50"), "catalogue API")


def _lessons(course, start: int, stop: int) -> None:
    for n in range(start, stop):
        module = catalog.add_module(
            None, course, f"m{n + 2}", {"zh_Hans": {"title": f"单元 {n}"}}, check=False
        )
        catalog.add_lesson(
            None,
            module,
            f"x{n}",
            "text",
            {"zh_Hans": {"title": f"课 {n}", "body": "内容"}},
            check=False,
        )


def test_course_and_lesson_pages(staff_client, course_factory):  # noqa: F811
    course = course_factory("QC-COURSE")  # one module, one lesson
    _lessons(course, 0, 1)  # two of each
    url, lesson = f"/courses/{course.code}", f"/courses/{course.code}/lessons/l1"
    few_course, few_lesson = statements_of(staff_client, url), statements_of(staff_client, lesson)
    _lessons(course, 1, 19)  # twenty of each
    same_count(few_course, statements_of(staff_client, url), "course page")
    same_count(few_lesson, statements_of(staff_client, lesson), "lesson page")


def test_dashboard(client, make, gx, course_factory):  # noqa: F811
    student = make.user("student", gx)
    courses = [course_factory(f"QC-D{n:02d}") for n in range(20)]
    for course in courses[:2]:
        enrolment.enrol(student, course, now=utcnow())
    login(client, student)
    few = statements_of(client, "/me/courses")
    for course in courses[2:]:
        enrolment.enrol(student, course, now=utcnow())
    same_count(few, statements_of(client, "/me/courses"), "dashboard")


def test_gradebook(client, make, gx, course_factory):  # noqa: F811
    teacher = make.user("teacher", gx)
    course = course_factory("QC-GRADES", teachers=[teacher.email])
    bank = assessment.import_questions(teacher, course, "gift", SAMPLE_GIFT.read_bytes())
    names = {q.name: q.id for q in bank.imported}
    quiz = assessment.create_assessment(
        teacher, course, "Quiz", question_ids=[names["Spark"], names["Pi"]]
    )

    def students(count: int) -> None:
        for _n in range(count):
            student = make.user("student", gx)
            enrolment.enrol(student, course, now=utcnow())
            attempt = attempts.start_attempt(student, quiz, now=utcnow())
            attempts.submit_attempt(student, attempt, now=utcnow(), answers={names["Pi"]: "3.14"})

    students(2)
    login(client, teacher)
    url = f"/teach/courses/{course.code}/gradebook"
    few = statements_of(client, url)
    students(18)
    same_count(few, statements_of(client, url), "gradebook")


def test_transcript_list(client, make, public_host):  # noqa: F811
    inst = make.institution(names={"en": "Query College", "zh_Hans": "查询学院"})
    student = make.user("student", inst)
    for n in range(3):
        ledger.add(
            None,
            CreditRecord(
                kind="earned",
                student_id=student.id,
                institution_id=inst.id,
                course_code=f"QC-T{n}",
                title=f"Course {n}",
                credits=Decimal(2),
                hours=Decimal(40),
                credit_system="",
                grade="A",
                grade_scale="",
                grade_source="percent",
                passed=True,
                completed_on=date(2026, 6, 1),
            ),
        )
    for _n in range(2):
        issuance.issue(None, student, inst)
    auth = bearer(client, student)
    few = statements_of(client, "/api/v1/transcripts", headers=auth)
    for _n in range(18):
        issuance.issue(None, student, inst)
    assert len(client.get("/api/v1/transcripts", headers=auth).json["items"]) == 20
    same_count(few, statements_of(client, "/api/v1/transcripts", headers=auth), "transcripts")
