"""Attempts: server-side time limit, autosave, idempotent submit, automatic submit at the
deadline, late policy, review settings, and no reading of another student's attempt."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text, update

from lms.assessment import attempts, services
from lms.assessment.models import Attempt
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound
from lms.core.extensions import db
from lms.core.models import AuditEvent
from tests.assessment.conftest import SAMPLE_GIFT
from tests.conftest import bearer


@pytest.fixture
def bank(teacher, course):
    result = services.import_questions(teacher, course, "gift", SAMPLE_GIFT.read_bytes())
    return {q.name: q for q in result.imported}


def make_quiz(teacher, course, bank, **kw):
    names = kw.pop("names", ["Spark", "Greeting", "Pi"])
    return services.create_assessment(
        teacher,
        course,
        kw.pop("title", "Engine quiz"),
        question_ids=[bank[n].id for n in names],
        **kw,
    )


RIGHT = {"Spark": "c1", "Greeting": "Xin Chào", "Pi": "3.141"}


def _answers(bank, which=RIGHT):
    return {str(bank[name].id): value for name, value in which.items()}


def _expire(attempt_id, minutes):
    """Move an attempt's deadline into the past, as the server's clock passing would."""
    past = utcnow() - timedelta(minutes=minutes)
    db.session.execute(
        update(Attempt).where(Attempt.id == attempt_id).values(deadline=past, started_at=past)
    )
    db.session.flush()


def test_full_attempt_over_api(client, teacher, course, bank, student):
    quiz = make_quiz(teacher, course, bank, time_limit_minutes=20, review="immediately")
    auth = bearer(client, student)
    started = client.post(f"/api/v1/assessments/{quiz.id}/attempts", headers=auth)
    assert started.status_code == 201, started.json
    body = started.json
    assert 1190 <= body["remaining_seconds"] <= 1200
    assert "fraction" not in json.dumps(body)  # the answer key never reaches the student
    assert "correct" not in json.dumps(body)
    spark = next(q for q in body["questions"] if q["question_id"] == bank["Spark"].id)
    assert sorted(c["id"] for c in spark["choices"]) == ["c1", "c2", "c3"]
    saved = client.put(
        f"/api/v1/attempts/{body['id']}/answers", json={"answers": _answers(bank)}, headers=auth
    )
    assert saved.status_code == 200
    done = client.post(f"/api/v1/attempts/{body['id']}/submit", json={}, headers=auth)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "graded" and done.json["score"] == "3.00"
    again = client.post(f"/api/v1/attempts/{body['id']}/submit", json={}, headers=auth)
    assert again.json["score"] == "3.00" and again.json["submitted_at"] == done.json["submitted_at"]
    events = db.session.query(AuditEvent).filter_by(action="attempt.submit").all()
    assert len(events) == 1
    late_save = client.put(
        f"/api/v1/attempts/{body['id']}/answers", json={"answers": {}}, headers=auth
    )
    assert late_save.status_code == 409


@pytest.mark.parametrize("action", ["answers", "submit"])
def test_answers_and_grades_are_stored_before_the_attempt_view_is_built(
    client, teacher, course, bank, student, monkeypatch, action
):
    """An autosave or a submission is committed first (SQLite's writer turn and
    PostgreSQL's row lock are given back), then the view is built from what was written,
    not read again."""
    from lms.assessment import present

    quiz = make_quiz(teacher, course, bank, review="immediately")
    auth = bearer(client, student)
    attempt = client.post(f"/api/v1/assessments/{quiz.id}/attempts", headers=auth).json
    seen = []
    view = present.attempt_view

    def watch(row, *args, **kwargs):
        session = db.session()
        seen.append((session.in_transaction(), row.status, row in session))
        return view(row, *args, **kwargs)

    monkeypatch.setattr(present, "attempt_view", watch)
    send = client.put if action == "answers" else client.post
    done = send(
        f"/api/v1/attempts/{attempt['id']}/{action}",
        json={"answers": _answers(bank)},
        headers=auth,
    )
    assert done.status_code == 200
    if action == "submit":
        assert done.json["score"] == "3.00" and seen == [(False, "graded", True)]
    else:
        assert done.json["questions"][0]["answer"] is not None
        assert seen == [(False, "in_progress", True)]


def test_a_submission_stores_every_answer_and_score_and_leaves_the_unanswered_null(
    teacher, course, bank, student, db_session
):
    quiz = make_quiz(teacher, course, bank)
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    partial = {"Spark": "c1", "Pi": "2.5"}  # Greeting left unanswered, Pi wrong
    answers = {bank[name].id: value for name, value in partial.items()}
    done = attempts.submit_attempt(student, attempt, now=utcnow(), answers=answers).attempt
    assert not db_session.dirty  # written, not waiting for a flush
    rows = db_session.execute(
        text(
            "SELECT question_id, answer IS NULL, score FROM attempt_responses WHERE attempt_id = :a"
        ),
        {"a": done.id},
    ).all()
    stored = {qid: (bool(unanswered), Decimal(str(score))) for qid, unanswered, score in rows}
    assert stored == {
        bank["Spark"].id: (False, Decimal("1")),
        bank["Greeting"].id: (True, Decimal("0")),
        bank["Pi"].id: (False, Decimal("0")),
    }
    assert done.status == "graded" and done.score == Decimal("1")


def _meanwhile(stmt, params):
    """Change rows past the ORM, as another request would between this request's reading
    of the attempt and its writer's turn (the objects read keep their old values)."""
    db.session.connection().execute(text(stmt), params)


def _read_for_writing(teacher, course, bank, student, db_session):
    """A started attempt, committed, then read as a submit or autosave reads it before its
    writer's turn."""
    attempt = attempts.start_attempt(student, make_quiz(teacher, course, bank), now=utcnow())
    db_session.commit()
    return attempts.get_attempt(student, attempt.id, now=utcnow(), finalise=False)


def test_a_submit_grades_the_answers_saved_after_its_attempt_was_read(
    teacher, course, bank, student, db_session
):
    attempt = read = _read_for_writing(teacher, course, bank, student, db_session)
    assert all(r.answer is None for r in read.responses)
    # an autosave lands after the read: every answer right
    for name, value in RIGHT.items():
        _meanwhile(
            "UPDATE attempt_responses SET answer = :v WHERE attempt_id = :a AND question_id = :q",
            {"v": json.dumps(value), "a": attempt.id, "q": bank[name].id},
        )
    done = attempts.submit_attempt(student, read, now=utcnow()).attempt
    assert done.status == "graded" and done.score == Decimal("3")
    assert {r.question_id: r.answer for r in done.responses} == {
        bank[name].id: value for name, value in RIGHT.items()
    }


def test_a_submit_after_another_submit_since_the_read_changes_nothing(
    teacher, course, bank, student, db_session
):
    attempt = read = _read_for_writing(teacher, course, bank, student, db_session)
    assert read.status == "in_progress"
    _meanwhile("UPDATE attempts SET status = 'graded', score = 2 WHERE id = :a", {"a": attempt.id})
    with pytest.raises(Conflict):  # an autosave, which has no other guard than the re-read
        attempts.save_answers(student, read, _answers(bank), now=utcnow())
    assert all(r.answer is None for r in read.responses)
    result = attempts.submit_attempt(student, read, now=utcnow(), answers=_answers(bank))
    assert not result.first
    assert result.attempt.status == "graded" and result.attempt.score == Decimal("2")
    assert not db_session.query(AuditEvent).filter_by(action="attempt.submit").count()


def test_answers_saved_survive_a_new_session(client, app, teacher, course, bank, student):
    quiz = make_quiz(teacher, course, bank, time_limit_minutes=30)
    auth = bearer(client, student)
    attempt = client.post(f"/api/v1/assessments/{quiz.id}/attempts", headers=auth).json
    client.put(
        f"/api/v1/attempts/{attempt['id']}/answers",
        json={"answers": {str(bank["Greeting"].id): "xin chao"}},
        headers=auth,
    )
    # the connection drops; a new client with a new token resumes the same attempt
    other = app.test_client()
    auth2 = bearer(other, student)
    resumed = other.post(f"/api/v1/assessments/{quiz.id}/attempts", headers=auth2).json
    assert resumed["id"] == attempt["id"]
    greeting = next(q for q in resumed["questions"] if q["question_id"] == bank["Greeting"].id)
    assert greeting["answer"] == "xin chao" and greeting["saved_at"]


def test_submit_after_deadline_refused_by_server_time(client, teacher, course, bank, student):
    quiz = make_quiz(
        teacher, course, bank, time_limit_minutes=10, late_policy="refuse", review="immediately"
    )
    auth = bearer(client, student)
    attempt = client.post(f"/api/v1/assessments/{quiz.id}/attempts", headers=auth).json
    client.put(
        f"/api/v1/attempts/{attempt['id']}/answers",
        json={"answers": _answers(bank, {"Spark": "c1"})},
        headers=auth,
    )
    _expire(attempt["id"], 11)
    # whatever the client claims about its clock, the server's decides
    late = client.post(
        f"/api/v1/attempts/{attempt['id']}/submit",
        json={"answers": _answers(bank)},
        headers={**auth, "Date": "Mon, 01 Jan 2024 00:00:00 GMT"},
    )
    assert late.status_code == 409
    assert late.mimetype == "application/problem+json"
    # the attempt is then submitted automatically with what was saved before the deadline
    result = client.get(f"/api/v1/attempts/{attempt['id']}/result", headers=auth)
    assert result.status_code == 200
    assert result.json["auto_submitted"] is True and result.json["late"] is False
    assert result.json["score"] == "1.00"


def test_late_policy_marks_late(teacher, course, bank, student):
    quiz = make_quiz(
        teacher, course, bank, time_limit_minutes=10, late_policy="late", late_grace_minutes=30
    )
    now = utcnow()
    attempt = attempts.start_attempt(student, quiz, now=now)
    result = attempts.submit_attempt(
        student, attempt, now=now + timedelta(minutes=15), answers={bank["Spark"].id: "c1"}
    )
    assert result.first and result.attempt.late and result.attempt.status == "graded"
    quiz2 = make_quiz(
        teacher,
        course,
        bank,
        title="Second",
        time_limit_minutes=10,
        late_policy="late",
        late_grace_minutes=30,
    )
    attempt2 = attempts.start_attempt(student, quiz2, now=now)
    with pytest.raises(Conflict):
        attempts.submit_attempt(student, attempt2, now=now + timedelta(minutes=41))


def test_close_time_cuts_deadline_and_auto_submit(teacher, course, bank, student):
    now = utcnow()
    quiz = make_quiz(
        teacher, course, bank, time_limit_minutes=60, closes_at=now + timedelta(minutes=5)
    )
    attempt = attempts.start_attempt(student, quiz, now=now)
    assert attempt.deadline == quiz.closes_at
    attempts.save_answers(student, attempt, {bank["Pi"].id: "3.14"}, now=now)
    assert attempts.close_overdue(now=now + timedelta(minutes=6)) == 1
    assert attempt.status == "graded" and attempt.auto_submitted
    assert attempt.submitted_at == attempt.deadline and attempt.score == 1
    with pytest.raises(Conflict):
        attempts.start_attempt(student, quiz, now=now + timedelta(minutes=6))


def test_attempts_limit_and_window(teacher, course, bank, student):
    now = utcnow()
    quiz = make_quiz(teacher, course, bank, opens_at=now + timedelta(hours=1))
    with pytest.raises(Conflict):
        attempts.start_attempt(student, quiz, now=now)
    later = now + timedelta(hours=2)
    first = attempts.start_attempt(student, quiz, now=later)
    attempts.submit_attempt(student, first, now=later)
    with pytest.raises(Conflict):
        attempts.start_attempt(student, quiz, now=later)


def test_review_after_close_hides_score_and_key(client, teacher, course, bank, student):
    now = utcnow()
    quiz = make_quiz(teacher, course, bank, review="after_close", closes_at=now + timedelta(days=1))
    attempt = attempts.start_attempt(student, quiz, now=now)
    attempts.submit_attempt(student, attempt, now=now, answers={bank["Spark"].id: "c1"})
    auth = bearer(client, student)
    body = client.get(f"/api/v1/attempts/{attempt.id}/result", headers=auth).json
    assert body["score"] is None and body["review_answers"] is False
    assert all("correct" not in q and "score" not in q for q in body["questions"])
    staff = client.get(f"/api/v1/attempts/{attempt.id}/result", headers=bearer(client, teacher))
    assert staff.json["score"] == "1.00"
    spark = next(q for q in staff.json["questions"] if q["question_id"] == bank["Spark"].id)
    assert spark["correct"] == ["c1"]


def test_student_cannot_read_or_touch_another_attempt(
    client, teacher, course, bank, student, other_student
):
    quiz = make_quiz(teacher, course, bank, review="immediately")
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    intruder = bearer(client, other_student)
    base = f"/api/v1/attempts/{attempt.id}"
    assert client.get(base, headers=intruder).status_code == 404
    assert client.get(f"{base}/result", headers=intruder).status_code == 404
    assert client.put(f"{base}/answers", json={"answers": {}}, headers=intruder).status_code == 404
    assert client.post(f"{base}/submit", json={}, headers=intruder).status_code == 404
    key = client.get(f"/api/v1/courses/{course.code}/questions/export", headers=intruder)
    assert key.status_code == 403
    assert (
        client.get(f"/api/v1/courses/{course.code}/gradebook", headers=intruder).status_code == 403
    )
    with pytest.raises(NotFound):
        attempts.get_attempt(other_student, attempt.id, now=utcnow())
    assert attempt.status == "in_progress"


def test_import_endpoint(client, teacher, course, student):
    resp = client.post(
        f"/api/v1/courses/{course.code}/questions/import",
        data={"format": "gift", "file": (SAMPLE_GIFT.open("rb"), "bank.gift")},
        headers=bearer(client, teacher),
    )
    assert resp.status_code == 200, resp.json
    assert resp.json == {"imported": 12, "errors": []}
    bad = client.post(
        f"/api/v1/courses/{course.code}/questions/import",
        data={
            "format": "gift",
            "file": (__import__("io").BytesIO(b"Q {~a ~b}\n\nQ2 {T}"), "x.gift"),
        },
        headers=bearer(client, teacher),
    )
    assert bad.json["imported"] == 1
    assert bad.json["errors"] == [{"position": "line 1", "message": "No answer earns any credit."}]
    denied = client.post(
        f"/api/v1/courses/{course.code}/questions/import",
        data={"format": "gift", "file": (SAMPLE_GIFT.open("rb"), "bank.gift")},
        headers=bearer(client, student),
    )
    assert denied.status_code == 403
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/courses/{code}/questions/import" in spec["paths"]
    assert "/api/v1/attempts/{attempt_id}/submit" in spec["paths"]


def test_pools_shuffle_and_cohort_windows(teacher, course, bank, student):
    from lms.enrolment import services as enrolment

    now = utcnow()
    for i in range(6):
        services.create_question(
            teacher,
            course,
            services.QuestionSpec(
                "truefalse", f"Pool statement {i}", {"answer": True}, tags=["pool-a"]
            ),
        )
    quiz = services.create_assessment(
        teacher,
        course,
        "Drawn",
        question_ids=[bank["Spark"].id, bank["Tyres"].id],
        pools=[("pool-a", 3)],
        shuffle_questions=True,
        shuffle_choices=True,
        max_attempts=30,
        closes_at=now - timedelta(minutes=1),
    )
    # closed for everyone … except the student's cohort, which has its own window
    with pytest.raises(Conflict):
        attempts.start_attempt(student, quiz, now=now)
    cohort = enrolment.create_cohort(teacher, course, name="Evening")
    enrolment.active_enrolment(student, course).cohort_id = cohort.id
    services.set_cohort_window(
        teacher, quiz, cohort.id, now - timedelta(hours=1), now + timedelta(hours=1)
    )
    orders, choice_orders = set(), set()
    for _i in range(12):
        a = attempts.start_attempt(student, quiz, now=now)
        qids = [e["question_id"] for e in a.layout]
        assert len(qids) == 5 and len(set(qids)) == 5
        assert {bank["Spark"].id, bank["Tyres"].id} <= set(qids)
        assert all(
            "pool-a" in db.session.get(services.Question, q).tags
            for q in qids
            if q not in (bank["Spark"].id, bank["Tyres"].id)
        )
        orders.add(tuple(qids))
        choice_orders.add(
            tuple(next(e for e in a.layout if e["question_id"] == bank["Spark"].id)["choices"])
        )
        assert a.deadline == now + timedelta(hours=1)
        attempts.submit_attempt(student, a, now=now)
    assert len(orders) > 1 and len(choice_orders) > 1


def test_question_text_follows_reader_language(client, teacher, course, bank, student):
    q = services.create_question(
        teacher,
        course,
        services.QuestionSpec("truefalse", "机油会老化。", {"answer": True}),
        locale="zh_Hans",
    )
    services.translate_question(teacher, q, "vi", "Dầu máy bị lão hóa.")
    quiz = services.create_assessment(teacher, course, "Lang", question_ids=[q.id])
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    body = client.get(f"/api/v1/attempts/{attempt.id}?lang=vi", headers=bearer(client, student))
    assert body.json["questions"][0]["stem"] == "Dầu máy bị lão hóa."
    assert body.json["questions"][0]["stem_locale"] == "vi"
    body = client.get(f"/api/v1/attempts/{attempt.id}?lang=th", headers=bearer(client, student))
    assert body.json["questions"][0]["stem_locale"] in ("zh_Hans", "vi")


def test_the_periodic_tick_submits_overdue_attempts(runner, teacher, course, bank, student):
    from unittest import mock

    now = utcnow()
    quiz = make_quiz(teacher, course, bank, time_limit_minutes=5)
    attempt = attempts.start_attempt(student, quiz, now=now)
    attempts.save_answers(student, attempt, {bank["Pi"].id: "3.14"}, now=now)
    with mock.patch("lms.cli.utcnow", return_value=now + timedelta(minutes=1)):
        early = runner.invoke(args=["lms", "tick"])
    assert early.exit_code == 0, early.output
    assert "assessment.close-overdue: submitted 0 overdue attempt(s)" in early.output
    with mock.patch("lms.cli.utcnow", return_value=now + timedelta(minutes=6)):
        late = runner.invoke(args=["lms", "tick"])
    assert "assessment.close-overdue: submitted 1 overdue attempt(s)" in late.output
    db.session.refresh(attempt)
    assert attempt.status == "graded" and attempt.auto_submitted and attempt.score == 1
