"""The sync endpoint for work done offline: each operation applied once through the same
services as the pages (a replay is a no-op), the server's rules and clock decide, a
malformed batch changes nothing, and nobody writes into another student's attempt."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update

from lms.assessment import attempts
from lms.assessment.models import Attempt, Response
from lms.catalog.models import Lesson
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.enrolment.models import LessonProgress
from lms.offline.models import SyncOperation
from tests.conftest import bearer, login


def _op(kind: str, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, **fields}


def _lesson(course) -> Lesson:
    return db.session.scalar(select(Lesson).where(Lesson.course_id == course.id))


def _completions(lesson) -> list[LessonProgress]:
    return list(
        db.session.scalars(
            select(LessonProgress).where(
                LessonProgress.lesson_id == lesson.id, LessonProgress.completed_at.is_not(None)
            )
        )
    )


def _response(attempt_id: int, question_id: int) -> Response:
    return db.session.scalar(
        select(Response).where(
            Response.attempt_id == attempt_id, Response.question_id == question_id
        )
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_batch_applied_once_and_replay_changes_nothing(client, course, quiz, bank, student):
    auth = bearer(client, student)
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    lesson = _lesson(course)
    spark = bank["Spark"].id
    batch = {
        "operations": [
            _op("lesson.complete", lesson_id=lesson.id, made_at="2026-11-30T08:00:00Z"),
            _op("quiz.answer", attempt_id=attempt.id, answers={str(spark): "c1"}),
            _op("quiz.answer", attempt_id=attempt.id, form=[[f"q-{bank['Pi'].id}", "3.141"]]),
        ]
    }
    first = client.post("/api/v1/sync", json=batch, headers=auth)
    assert first.status_code == 200, first.json
    assert [r["status"] for r in first.json["results"]] == ["applied"] * 3
    assert [r["id"] for r in first.json["results"]] == [o["id"] for o in batch["operations"]]
    done = _completions(lesson)
    assert len(done) == 1
    completed_at = done[0].completed_at
    answer = _response(attempt.id, spark)
    assert answer.answer == "c1"
    saved_at = answer.saved_at
    assert _response(attempt.id, bank["Pi"].id).answer == "3.141"  # the page's form fields

    again = client.post("/api/v1/sync", json=batch, headers=auth)
    assert again.status_code == 200
    assert [r["status"] for r in again.json["results"]] == ["duplicate"] * 3
    assert {r["original_status"] for r in again.json["results"]} == {"applied"}
    db.session.expire_all()
    assert len(_completions(lesson)) == 1
    assert _completions(lesson)[0].completed_at == completed_at
    assert _response(attempt.id, spark).saved_at == saved_at
    assert _count(SyncOperation) == 3
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_same_id_twice_in_one_batch_is_malformed(client, course, student):
    auth = bearer(client, student)
    lesson = _lesson(course)
    op = _op("lesson.complete", lesson_id=lesson.id)
    resp = client.post("/api/v1/sync", json={"operations": [op, dict(op)]}, headers=auth)
    assert resp.status_code == 400
    assert resp.json["type"].endswith("/malformed-batch")
    assert _completions(lesson) == [] and _count(SyncOperation) == 0


def test_course_not_enrolled_is_rejected_with_translated_reason(
    client, make, gx, course_factory, student
):
    other = course_factory("GX-OTHER")
    lesson = _lesson(other)
    auth = bearer(client, student)
    op = _op("lesson.complete", lesson_id=lesson.id)
    resp = client.post("/api/v1/sync?lang=en", json={"operations": [op]}, headers=auth)
    result = resp.json["results"][0]
    assert resp.status_code == 200
    assert result["status"] == "rejected" and result["reason_type"] == "forbidden"
    assert result["reason"] == "Enrol in this course to record your progress."
    assert _completions(lesson) == []
    # a rejection is final too: the replay says so and still changes nothing
    op2 = _op("lesson.complete", lesson_id=lesson.id)
    zh = client.post("/api/v1/sync?lang=zh_Hans", json={"operations": [op2]}, headers=auth)
    assert zh.json["results"][0]["status"] == "rejected"
    assert zh.json["results"][0]["reason"] != result["reason"]  # in the reader's language
    replay = client.post("/api/v1/sync", json={"operations": [op]}, headers=auth)
    assert replay.json["results"][0]["status"] == "duplicate"
    assert replay.json["results"][0]["original_status"] == "rejected"
    assert _completions(lesson) == []


def test_late_answer_rejected_by_server_time(client, course, quiz, bank, student):
    auth = bearer(client, student)
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    spark = bank["Spark"].id
    attempts.save_answers(student, attempt, {spark: "c2"}, now=utcnow())
    past = utcnow() - timedelta(minutes=30)
    db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id).values(deadline=past, started_at=past)
    )
    db.session.flush()
    # the student answered "in time" by the device's clock; the server judges by its own
    op = _op(
        "quiz.answer",
        attempt_id=attempt.id,
        answers={str(spark): "c1"},
        made_at=(past - timedelta(minutes=5)).isoformat(),
    )
    submit = _op("quiz.submit", attempt_id=attempt.id, answers={str(spark): "c1"})
    resp = client.post("/api/v1/sync", json={"operations": [op, submit]}, headers=auth)
    assert resp.status_code == 200
    statuses = [(r["status"], r.get("reason_type")) for r in resp.json["results"]]
    assert statuses == [("rejected", "conflict"), ("rejected", "conflict")]
    db.session.expire_all()
    assert _response(attempt.id, spark).answer == "c2"


def test_malformed_batch_changes_nothing(client, course, quiz, bank, student):
    auth = bearer(client, student)
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    lesson = _lesson(course)
    good = _op("lesson.complete", lesson_id=lesson.id)
    for body in (
        {"operations": [good, {"id": "not-a-uuid", "type": "lesson.complete", "lesson_id": 1}]},
        {"operations": [good, _op("lesson.complete")]},  # no lesson
        {"operations": [good, _op("quiz.answer", attempt_id=attempt.id)]},  # no answers
        {"operations": [good, _op("grade.change", attempt_id=attempt.id)]},  # unknown kind
        {"operations": []},
        {"ops": [good]},
        [good],
    ):
        resp = client.post("/api/v1/sync", json=body, headers=auth)
        assert resp.status_code == 400, (body, resp.json)
        assert resp.mimetype == "application/problem+json"
    raw = client.post(
        "/api/v1/sync", data="{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert raw.status_code == 400
    assert _completions(lesson) == [] and _count(SyncOperation) == 0


def test_another_students_attempt_is_rejected(client, course, quiz, bank, student, other_student):
    theirs = attempts.start_attempt(other_student, quiz, now=utcnow())
    spark = bank["Spark"].id
    attempts.save_answers(other_student, theirs, {spark: "c3"}, now=utcnow())
    auth = bearer(client, student)
    ops = [
        _op("quiz.answer", attempt_id=theirs.id, answers={str(spark): "c1"}),
        _op("quiz.submit", attempt_id=theirs.id),
    ]
    resp = client.post("/api/v1/sync", json={"operations": ops}, headers=auth)
    assert [r["status"] for r in resp.json["results"]] == ["rejected", "rejected"]
    assert {r["reason_type"] for r in resp.json["results"]} == {"not-found"}
    db.session.expire_all()
    assert _response(theirs.id, spark).answer == "c3"
    assert db.session.get(Attempt, theirs.id).status == "in_progress"


def test_operation_ids_belong_to_their_user(client, course, student, other_student):
    """The same UUID from two accounts is two operations (a replay is per account)."""
    lesson = _lesson(course)
    op = _op("lesson.complete", lesson_id=lesson.id)
    for who in (student, other_student):
        resp = client.post("/api/v1/sync", json={"operations": [op]}, headers=bearer(client, who))
        assert resp.json["results"][0]["status"] == "applied"
    assert len(_completions(lesson)) == 2


def test_sync_needs_authentication(client, course):
    lesson = _lesson(course)
    op = _op("lesson.complete", lesson_id=lesson.id)
    assert client.post("/api/v1/sync", json={"operations": [op]}).status_code == 401
    assert client.post("/offline/sync", json={"operations": [op]}).status_code == 401


def test_page_endpoint_needs_the_csrf_header(client, app, course, student):
    login(client, student)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        _page_sync(client, course, student)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _page_sync(client, course, student):
    lesson = _lesson(course)
    op = _op("lesson.complete", lesson_id=lesson.id)
    refused = client.post("/offline/sync", json={"operations": [op]})
    assert refused.status_code == 400
    assert _completions(lesson) == []
    session = client.get("/offline/session")
    assert session.json["user_id"] == student.id
    assert session.headers["Cache-Control"] == "no-store"
    ok = client.post(
        "/offline/sync",
        json={"operations": [op]},
        headers={"X-CSRFToken": session.json["csrf_token"]},
    )
    assert ok.status_code == 200, ok.get_data(as_text=True)[:300]
    assert ok.json["results"][0]["status"] == "applied"
    assert len(_completions(lesson)) == 1
