"""xAPI statements produced by real journeys — enrol, open a lesson, watch a video, complete
lessons and the course, pass and fail a quiz, attend a live class — each valid under the
xAPI 1.0.3 statement rules (our validator from the spec, and TinCanPython's parser), stored
in the event's transaction, and never duplicated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.analytics import xapi
from lms.assessment import services as assessment
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.enrolment import services as enrolment
from lms.live import joining
from lms.live import services as live
from tests.analytics import xapi_spec
from tests.analytics.conftest import statements
from tests.assessment.conftest import SAMPLE_GIFT
from tests.conftest import bearer, login
from tests.live_sessions.conftest import schedule

ADL = "http://adlnet.gov/expapi/verbs/"


def assert_valid(rows):
    assert rows
    for row in rows:
        xapi_spec.validate(row.body)
        assert xapi.validate_statement(row.body) == []
        xapi_spec.parse_with_tincan(row.body)


def test_tincan_is_installed_for_the_independent_check():
    # the dev extra lists it; without it the second, independent check would silently vanish
    import tincan

    assert "1.0.3" in tincan.Version.supported


def test_learning_journey_produces_valid_statements(app, client, make, gx, course):
    base = app.config["BASE_URL"].rstrip("/")
    student = make.user("student", gx, locale="th")
    auth = bearer(client, student)
    text_lesson, video_lesson = course.modules[0].lessons

    resp = client.post(f"/api/v1/courses/{course.code}/enrolments", json={}, headers=auth)
    assert resp.status_code == 201, resp.json
    [registered] = statements("registered")
    assert registered.body["verb"] == {"id": ADL + "registered", "display": {"en-US": "registered"}}
    obj = registered.body["object"]
    assert obj["id"] == f"{base}/courses/{course.code}"
    assert obj["definition"]["name"] == {
        "zh-Hans": "汽车维修",
        "en": "Car repair",
        "th": "ซ่อมรถยนต์",
    }
    assert obj["definition"]["type"] == "http://adlnet.gov/expapi/activities/course"

    login(client, student)
    assert client.get(f"/courses/{course.code}/lessons/{text_lesson.key}").status_code == 200
    [launched] = statements("launched")
    assert launched.body["object"]["id"] == f"{base}/courses/{course.code}/lessons/l1"
    assert launched.body["context"]["contextActivities"]["parent"][0]["id"] == obj["id"]

    # video: 30 s of a 100 s video crosses 25 %; the server clock caps each interval
    t0 = utcnow()
    enrolment.heartbeat(student, video_lesson, position=15, start=0, end=15, duration=100, now=t0)
    assert statements("progressed") == []
    enrolment.heartbeat(
        student,
        video_lesson,
        position=30,
        start=15,
        end=30,
        duration=100,
        now=t0 + timedelta(seconds=15),
    )
    [video] = statements("progressed")
    assert video.body["result"]["extensions"][xapi.EXT_PROGRESS] == 25
    assert video.body["result"]["extensions"][xapi.EXT_VIDEO_TIME] == 30
    assert video.body["result"]["duration"] == "PT30S"

    done = client.post(
        f"/api/v1/lessons/{text_lesson.id}/progress", json={"completed": True}, headers=auth
    )
    assert done.status_code == 200
    done = client.post(
        f"/api/v1/lessons/{video_lesson.id}/progress", json={"completed": True}, headers=auth
    )
    assert done.json["course_status"] == "completed"

    completed = statements("completed")
    lesson_ids = {s.body["object"]["id"] for s in completed}
    assert lesson_ids == {
        f"{base}/courses/{course.code}/lessons/l1",
        f"{base}/courses/{course.code}/lessons/video",
        f"{base}/courses/{course.code}",
    }
    course_done = next(s for s in completed if s.body["object"]["id"].endswith(course.code))
    assert course_done.body["result"]["completion"] is True
    assert course_done.body["result"]["success"] is True
    course_progress = [
        s.body["result"]["extensions"][xapi.EXT_PROGRESS]
        for s in statements("progressed")
        if s.body["object"]["id"].endswith(course.code)
    ]
    assert course_progress == [50, 100]

    rows = statements()
    assert_valid(rows)
    # one learner, one enrolment: one pseudonymous actor and one registration throughout
    assert {s.body["context"]["registration"] for s in rows} == {
        registered.body["context"]["registration"]
    }
    actors = {
        (s.body["actor"]["account"]["homePage"], s.body["actor"]["account"]["name"]) for s in rows
    }
    assert len(actors) == 1
    home, name = actors.pop()
    assert home == base
    assert student.email not in name and name != str(student.id)
    for row in rows:
        text = str(row.body)
        assert student.email not in text and student.display_name not in text
        assert row.body["version"] == "1.0.3"
        assert row.body["context"]["language"] == "zh-Hans"
        assert row.body["context"]["platform"]


@pytest.fixture
def quiz(teacher, course):
    imported = assessment.import_questions(teacher, course, "gift", SAMPLE_GIFT.read_bytes())
    bank = {q.name: q for q in imported.imported}
    quiz = assessment.create_assessment(
        teacher,
        course,
        "Engine quiz",
        question_ids=[bank[n].id for n in ("Spark", "Greeting", "Pi")],
        pass_percent=60,
    )
    return quiz, bank


def _take(client, student, quiz, answers):
    auth = bearer(client, student)
    started = client.post(f"/api/v1/assessments/{quiz.id}/attempts", headers=auth)
    assert started.status_code == 201, started.json
    attempt_id = started.json["id"]
    body = {"answers": answers}
    done = client.post(f"/api/v1/attempts/{attempt_id}/submit", json=body, headers=auth)
    assert done.status_code == 200, done.json
    again = client.post(f"/api/v1/attempts/{attempt_id}/submit", json=body, headers=auth)
    assert again.status_code == 200  # an idempotent submit adds no statement either
    return attempt_id


def test_quiz_pass_and_fail(app, client, make, gx, course, quiz):
    quiz, bank = quiz
    base = app.config["BASE_URL"].rstrip("/")
    good, bad = make.user("student", gx), make.user("student", gx)
    for s in (good, bad):
        enrolment.enrol(s, course, now=utcnow())
    right = {str(bank["Spark"].id): "c1", str(bank["Greeting"].id): "xin chào"}
    right[str(bank["Pi"].id)] = "3.141"
    _take(client, good, quiz, right)
    _take(client, bad, quiz, {str(bank["Spark"].id): "c2"})

    attempted = statements("attempted")
    assert len(attempted) == 2
    [passed] = statements("passed")
    [failed] = statements("failed")
    assert passed.user_id == good.id and failed.user_id == bad.id
    assert passed.body["result"]["score"] == {"scaled": 1.0, "raw": 3.0, "min": 0, "max": 3.0}
    assert passed.body["result"]["success"] is True
    assert failed.body["result"]["score"]["scaled"] == 0.0
    assert failed.body["result"]["success"] is False
    assert passed.body["object"]["id"] == f"{base}/assessments/{quiz.id}"
    assert passed.body["object"]["definition"]["name"] == {"zh-Hans": "Engine quiz"}
    assert passed.body["context"]["contextActivities"]["parent"][0]["id"].endswith(course.code)
    assert all(s.body["result"]["completion"] is True for s in attempted)
    assert_valid([*attempted, passed, failed])


def test_live_attendance(app, make, gx, teacher, course):
    student = make.user("student", gx)
    enrolment.enrol(student, course, now=utcnow())
    session = schedule(teacher, course)
    start = live.occurrences(session)[0]
    joining.join(student, session, now=start + timedelta(minutes=5))
    joining.join(student, session, now=start + timedelta(minutes=20))  # rejoining: same event
    joining.join(teacher, session, now=start)  # staff are not learners: no statement
    [attended] = statements("attended")
    assert attended.user_id == student.id
    assert attended.body["verb"]["id"] == ADL + "attended"
    assert (
        attended.body["object"]["id"] == f"{app.config['BASE_URL'].rstrip('/')}/live/{session.id}"
    )
    assert attended.body["object"]["definition"]["name"]["en"] == "Engine diagnostics"
    assert attended.body["timestamp"] == xapi.rfc3339(start + timedelta(minutes=5))
    # a roll call later gives minutes but is the same attendance: no second statement
    from lms.live import attendance

    attendance.roll_call(teacher, session, start, {student.id: 50}, now=start + timedelta(hours=2))
    assert len(statements("attended")) == 1
    # the next occurrence is a new event (a roll call of someone who never joined counts too)
    other = make.user("student", gx)
    enrolment.enrol(other, course, now=utcnow())
    attendance.roll_call(teacher, session, start, {other.id: 40}, now=start + timedelta(hours=2))
    rows = statements("attended", user_id=other.id)
    assert len(rows) == 1 and rows[0].body["result"]["duration"] == "PT40M"
    assert_valid(statements("attended"))


def test_the_same_event_never_makes_two_statements(make, gx, course):
    student = make.user("student", gx)
    found = enrolment.enrol(student, course, now=utcnow()).enrolment
    lesson = course.modules[0].lessons[0]
    now = utcnow()
    enrolment.complete_lesson(student, lesson, now=now)
    enrolment.complete_lesson(student, lesson, now=now + timedelta(minutes=1))
    before = {s.id for s in statements()}
    # the receivers themselves are idempotent: sending the signals again changes nothing
    xapi.on_enrolment_admitted(found, now=now)
    progress_row = next(
        p for p in db.session.query(enrolment.LessonProgress).filter_by(enrolment_id=found.id)
    )
    xapi.on_lesson_completed(progress_row, now=now + timedelta(minutes=5))
    assert {s.id for s in statements()} == before
    assert len(statements("registered")) == 1
    assert len(statements("completed")) == 1
    # ids are uuid5 of the event: the same on any run of the same platform
    row = statements("registered")[0]
    key = f"registered:{found.id}:{xapi.rfc3339(found.requested_at)}"
    assert row.id == xapi.statement_id(key)


def test_statement_and_event_share_one_transaction(make, gx, course):
    student = make.user("student", gx)
    db.session.commit()  # the setup stays (the test's outer transaction still holds it)
    enrolment.enrol(student, course, now=utcnow())
    assert len(statements("registered")) == 1
    db.session.rollback()  # the request failed after enrolling
    assert enrolment.find_enrolment(student, course) is None
    assert statements("registered") == []


def test_withdraw_and_enrol_again_is_a_new_registration(make, gx, course):
    student = make.user("student", gx)
    first = enrolment.enrol(student, course, now=utcnow()).enrolment
    reg1 = statements("registered")[0].body["context"]["registration"]
    enrolment.withdraw(student, first, now=utcnow())
    enrolment.enrol(student, course, now=utcnow() + timedelta(seconds=1))
    regs = [s.body["context"]["registration"] for s in statements("registered")]
    assert len(regs) == 2 and regs[0] == reg1 and regs[1] != reg1


def test_validator_rejects_what_the_spec_forbids():
    good = {
        "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "actor": {"objectType": "Agent", "account": {"homePage": "https://x.org", "name": "a"}},
        "verb": {"id": ADL + "passed", "display": {"en-US": "passed"}},
        "object": {"objectType": "Activity", "id": "https://x.org/a"},
        "result": {"score": {"scaled": 0.5}, "duration": "PT1H2M"},
        "timestamp": "2027-03-01T02:30:00.000Z",
        "version": "1.0.3",
    }
    xapi_spec.validate(good)
    assert xapi.validate_statement(good) == []
    bad_cases = [
        {"id": "not-a-uuid"},
        {
            "actor": {
                "objectType": "Agent",
                "mbox": "mailto:a@b.c",
                "account": good["actor"]["account"],
            }
        },
        {"actor": {"objectType": "Agent"}},
        {"verb": {"id": "passed", "display": {"en-US": "passed"}}},
        {"object": {"objectType": "Activity", "id": "no iri"}},
        {"result": {"score": {"scaled": 1.5}}},
        {"result": {"duration": "90 minutes"}},
        {"timestamp": "2027-03-01 02:30"},
    ]
    for change in bad_cases:
        statement = {**good, **change}
        with pytest.raises(xapi_spec.Invalid):
            xapi_spec.validate(statement)
        assert xapi.validate_statement(statement), change


def test_formats():
    assert xapi.iso_duration(0) == "PT0S"
    assert xapi.iso_duration(3723) == "PT1H2M3S"
    assert xapi.iso_duration(2.5) == "PT2.5S"
    assert xapi.lang_tag("zh_Hans") == "zh-Hans"
    from datetime import UTC, datetime

    assert xapi.rfc3339(datetime(2027, 3, 1, 2, 30, 0, 123456, tzinfo=UTC)) == (
        "2027-03-01T02:30:00.123Z"
    )
