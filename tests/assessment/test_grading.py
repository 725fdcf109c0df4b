"""Manual grading: the queue of essays and uploads, rubrics, feedback, regrading, and an
audit event for every grade change (who, before, after, why)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lms.assessment import attempts, services
from lms.assessment.spec import QuestionSpec
from lms.core.db import utcnow
from lms.core.errors import PermissionDenied, ValidationError
from lms.core.extensions import db
from lms.core.models import AuditEvent
from tests.conftest import bearer


@pytest.fixture
def essay_quiz(teacher, course):
    rubric = services.create_rubric(
        teacher,
        course,
        "Explanation",
        [
            {
                "name": "Accuracy",
                "levels": [
                    {"label": "Poor", "points": 0},
                    {"label": "Good", "points": 2},
                    {"label": "Excellent", "points": 4},
                ],
            },
            {
                "name": "Clarity",
                "levels": [{"label": "Unclear", "points": 0}, {"label": "Clear", "points": 1}],
            },
        ],
    )
    essay = services.create_question(
        teacher,
        course,
        QuestionSpec("essay", "Explain the four strokes.", {}, points=Decimal("10")),
        rubric=rubric,
    )
    tf = services.create_question(
        teacher, course, QuestionSpec("truefalse", "Oil wears out.", {"answer": True})
    )
    quiz = services.create_assessment(
        teacher,
        course,
        "Written",
        kind="assignment",
        category="assignments",
        question_ids=[essay.id, tf.id],
    )
    return quiz, essay, tf


def test_queue_rubric_grade_and_regrade_are_audited(teacher, course, student, essay_quiz):
    quiz, essay, tf = essay_quiz
    now = utcnow()
    attempt = attempts.start_attempt(student, quiz, now=now)
    attempts.submit_attempt(
        student,
        attempt,
        now=now,
        answers={essay.id: "Intake, compression, power, exhaust.", tf.id: True},
    )
    assert attempt.status == "needs_grading" and attempt.score is None
    queue = attempts.grading_queue(teacher, course, now=now)
    assert [r.question_id for r in queue] == [essay.id]
    with pytest.raises(PermissionDenied):
        attempts.grading_queue(student, course, now=now)
    resp = queue[0]
    attempts.grade_response(teacher, resp, rubric_levels=[1, 1], feedback="Clear, brief.")
    assert resp.score == Decimal("6.00")  # (2 + 1) / 5 × 10
    assert attempt.status == "graded" and attempt.score == Decimal("7.00")
    with pytest.raises(ValidationError):  # a change needs a reason
        attempts.grade_response(teacher, resp, score=Decimal("8"))
    with pytest.raises(ValidationError):
        attempts.grade_response(teacher, resp, score=Decimal("11"), reason="typo")
    attempts.grade_response(teacher, resp, score=Decimal("8"), reason="Second marker agreed")
    assert attempt.score == Decimal("9.00")
    events = (
        db.session.query(AuditEvent)
        .filter_by(action="grade.change", object_id=str(resp.id))
        .order_by(AuditEvent.id)
        .all()
    )
    assert [(e.actor_id, e.before["score"], e.after["score"], e.reason) for e in events] == [
        (teacher.id, None, "6.00", ""),
        (teacher.id, "6.00", "8", "Second marker agreed"),
    ]
    assert attempts.grading_queue(teacher, course, now=now) == []


def test_regrade_after_key_fix(teacher, course, student, essay_quiz):
    _quiz, _essay, _tf = essay_quiz
    q = services.create_question(
        teacher,
        course,
        QuestionSpec(
            "short", "Capital of Guangxi?", {"answers": [{"text": "Nanning", "fraction": 1.0}]}
        ),
    )
    quiz = services.create_assessment(teacher, course, "Short", question_ids=[q.id])
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    attempts.submit_attempt(student, attempt, now=utcnow(), answers={q.id: "南宁"})
    assert attempt.score == 0
    q.data = {**q.data, "answers": [*q.data["answers"], {"text": "南宁", "fraction": 1.0}]}
    assert attempts.regrade_question(teacher, q, reason="Accept the Chinese name") == 1
    assert attempt.score == Decimal("1.00")
    event = db.session.query(AuditEvent).filter_by(action="grade.change").one()
    assert event.reason == "Accept the Chinese name" and event.before == {"score": "0.00"}


def test_grading_api_forbidden_to_students(client, teacher, course, student, essay_quiz):
    quiz, essay, _tf = essay_quiz
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    attempts.submit_attempt(student, attempt, now=utcnow(), answers={essay.id: "text"})
    resp_id = attempt.responses[0].id
    url = f"/api/v1/responses/{resp_id}/grade"
    assert client.post(url, json={"score": "5"}, headers=bearer(client, student)).status_code == 404
    ok = client.post(url, json={"score": "5", "feedback": "ok"}, headers=bearer(client, teacher))
    assert ok.status_code == 200, ok.json
    queue = client.get(
        f"/api/v1/courses/{course.code}/grading-queue", headers=bearer(client, teacher)
    )
    assert queue.json == []
