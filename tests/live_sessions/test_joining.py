from datetime import datetime, timedelta

import pytest

from lms.core.errors import Conflict, PermissionDenied
from lms.enrolment import services as enrolment
from lms.live import joining, services
from lms.live.models import AttendanceEvent
from tests.conftest import bearer, login
from tests.live_sessions.conftest import schedule


@pytest.fixture
def session(teacher, course):
    return schedule(teacher, course)


def start_of(session) -> datetime:
    return services.occurrences(session)[0]


def test_enrolled_student_joins_in_the_window_and_it_is_recorded(session, student, db_session):
    now = start_of(session) - timedelta(minutes=10)
    result = joining.join(student, session, now=now)
    assert result.url == "https://meeting.tencent.com/dm/abc" and not result.moderator
    events = db_session.query(AttendanceEvent).filter_by(session_id=session.id).all()
    assert [(e.user_id, e.kind, e.source) for e in events] == [(student.id, "join", "platform")]


def test_student_not_enrolled_cannot_join(session, make, gx):
    outsider = make.user("student", gx)
    with pytest.raises(PermissionDenied, match="Only students enrolled"):
        joining.join(outsider, session, now=start_of(session))


def test_withdrawn_student_cannot_join(session, student, course):
    found = enrolment.find_enrolment(student, course)
    enrolment.withdraw(student, found, now=start_of(session) - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        joining.join(student, session, now=start_of(session))


def test_too_early_and_too_late_are_refused_with_a_clear_message(session, student):
    start = start_of(session)
    with pytest.raises(Conflict, match="not open yet") as early:
        joining.join(student, session, now=start - timedelta(minutes=16))
    assert early.value.slug == "session-not-open"
    with pytest.raises(Conflict, match=r"ended at .*joining is closed") as late:
        joining.join(student, session, now=start + timedelta(minutes=61))
    assert late.value.slug == "session-over"


def test_late_arrival_through_the_api_gets_problem_json(app, client, session, student):
    from unittest import mock

    headers = bearer(client, student)
    late = start_of(session) + timedelta(hours=2)
    with mock.patch("lms.live.api.utcnow", return_value=late):
        resp = client.get(f"/api/v1/sessions/{session.id}/join", headers=headers)
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    assert resp.json["type"].endswith("/session-over")
    assert "joining is closed" in resp.json["detail"]


def test_join_page_refuses_another_course_student(client, session, make, gx, course_factory):
    other_course = course_factory("GX-OTHER")
    other = make.user("student", gx)
    enrolment.enrol(other, other_course, now=start_of(session) - timedelta(days=3))
    login(client, other)
    assert client.get(f"/live/{session.id}").status_code == 403
    assert client.post(f"/live/{session.id}/join").status_code == 403
    assert client.get(f"/live/{session.id}/attendance").status_code == 403
    assert client.get(f"/live/{session.id}/session.ics").status_code == 403
    assert client.get(f"/courses/{session.course.code}/live").status_code == 403


def test_teacher_joins_as_moderator(session, teacher):
    result = joining.join(teacher, session, now=start_of(session))
    assert result.moderator
