"""Gradebook: weighted categories with drop-lowest give the hand-computed final grade;
pass / fail against the course's pass mark; completion criterion; teacher view and CSV."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from lms.assessment import attempts, gradebook, services
from lms.assessment.spec import QuestionSpec
from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from tests.conftest import bearer


def _setup(teacher, course, student):
    now = utcnow()
    spark = services.create_question(
        teacher,
        course,
        QuestionSpec(
            "single",
            "Spark?",
            {"choices": [{"id": "a", "text": "plug", "fraction": 1}, {"id": "b", "text": "glow"}]},
        ),
    )
    pi = services.create_question(
        teacher,
        course,
        QuestionSpec("numerical", "Pi?", {"answers": [{"value": 3.14, "tolerance": 0.01}]}),
    )
    quiz = services.create_assessment(teacher, course, "Quiz 1", question_ids=[spark.id, pi.id])
    attempt = attempts.start_attempt(student, quiz, now=now)
    attempts.submit_attempt(student, attempt, now=now, answers={spark.id: "a", pi.id: "2"})
    services.create_assessment(  # closed, never attempted: counts as 0 %
        teacher,
        course,
        "Midterm",
        kind="exam",
        category="exams",
        question_ids=[spark.id],
        opens_at=now - timedelta(days=3),
        closes_at=now - timedelta(days=2),
    )
    for category, title, score, out_of in (
        ("quizzes", "Quiz 2", 8, 10),
        ("quizzes", "Quiz 3", 5, 5),
        ("assignments", "Workshop report", 14, 20),
        ("exams", "Practical exam", 50, 50),
        ("attendance", "Attendance", 1, 10),
    ):
        gradebook.record_manual_grade(
            teacher, course, student, category, title, Decimal(score), Decimal(out_of)
        )
    gradebook.set_category(teacher, course, "quizzes", Decimal("30"), drop_lowest=1)
    gradebook.set_category(teacher, course, "assignments", Decimal("30"))
    gradebook.set_category(teacher, course, "exams", Decimal("40"))
    gradebook.set_category(teacher, course, "attendance", Decimal("0"))
    return now


def test_weighted_categories_give_hand_computed_grade(teacher, course, student):
    now = _setup(teacher, course, student)
    result = gradebook.student_result(course, student, now=now)
    cats = {c.key: c for c in result.categories}
    # quizzes: 50 %, 80 %, 100 %; the lowest (50) dropped → 90
    assert [(i.title, i.percent, i.dropped) for i in cats["quizzes"].items] == [
        ("Quiz 1", Decimal("50.00"), True),
        ("Quiz 2", Decimal("80.00"), False),
        ("Quiz 3", Decimal("100.00"), False),
    ]
    assert cats["quizzes"].percent == Decimal("90.00")
    assert cats["assignments"].percent == Decimal("70.00")
    assert cats["exams"].percent == Decimal("50.00")  # (0 + 100) / 2
    assert cats["attendance"].percent == Decimal("10.00")  # weight 0: no effect
    # 0.3 × 90 + 0.3 × 70 + 0.4 × 50 = 68
    assert result.final_percent == Decimal("68.00")
    assert result.pass_mark == Decimal("60") and result.passed is True
    gradebook.set_pass_mark(teacher, course, Decimal("70"))
    assert gradebook.student_result(course, student, now=now).passed is False


def test_completion_criterion(teacher, course, student):
    _setup(teacher, course, student)
    row = enrolment.active_enrolment(student, course)
    assert enrolment.completion_checks["assessments"](row) == (False, "1 of 2 assessments passed")


def test_completion_none_without_assessments(course, student):
    row = enrolment.active_enrolment(student, course)
    assert enrolment.completion_checks["assessments"](row) is None


def test_teacher_gradebook_api_and_own_row(client, teacher, course, student, other_student):
    _setup(teacher, course, student)
    book = client.get(f"/api/v1/courses/{course.code}/gradebook", headers=bearer(client, teacher))
    assert book.status_code == 200
    rows = {r["student_id"]: r for r in book.json["items"]}
    assert rows[student.id]["final_percent"] == "68.00" and rows[student.id]["passed"] is True
    mine = client.get(
        f"/api/v1/courses/{course.code}/gradebook/me", headers=bearer(client, other_student)
    )
    assert mine.json["student_id"] == other_student.id
    assert mine.json["final_percent"] == "0.00"  # only the closed midterm counts
