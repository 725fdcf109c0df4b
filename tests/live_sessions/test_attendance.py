import csv
import io
from datetime import timedelta

import pytest

from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from lms.live import attendance, joining, services
from tests.conftest import login
from tests.live_sessions.conftest import schedule


@pytest.fixture
def session(teacher, course):
    return schedule(teacher, course)


def test_45_of_60_minutes_is_75_percent_and_completion_uses_it(
    session, teacher, student, course, make, gx
):
    start = services.occurrences(session)[0]
    # the student joins 15 minutes late and stays to the end
    joining.join(student, session, now=start + timedelta(minutes=15))
    after = start + timedelta(hours=2)
    held, rows = attendance.attendance_report(teacher, session, now=after)
    assert len(held) == 1
    row = next(r for r in rows if r.student.id == student.id)
    assert (row.minutes, row.possible, row.percent) == (45, 60, 75)

    found = enrolment.find_enrolment(student, course)
    require_attendance(teacher, course, 75)
    met, detail = attendance.attendance_check(found, now=after)
    assert met and "75 %" in detail
    require_attendance(teacher, course, 80)
    met, detail = attendance.attendance_check(found, now=after)
    assert not met
    # and the enrolment domain's completion rule asks the live domain


def require_attendance(teacher, course, percent):
    enrolment.set_policy(
        teacher,
        course,
        mode="open",
        audience="institution",
        require_lessons=False,
        min_attendance_percent=percent,
    )


def test_completion_rule_through_enrolment(session, teacher, student, course, monkeypatch):
    start = services.occurrences(session)[0]
    joining.join(student, session, now=start)
    joining.leave(student, session, now=start + timedelta(minutes=45))
    found = enrolment.find_enrolment(student, course)
    require_attendance(teacher, course, 75)
    monkeypatch.setattr("lms.live.utcnow", lambda: start + timedelta(minutes=30))
    assert ("attendance", False) in [(n, ok) for n, ok, _ in enrolment.criteria(found)]
    monkeypatch.setattr("lms.live.utcnow", lambda: start + timedelta(days=1))
    assert ("attendance", True) in [(n, ok) for n, ok, _ in enrolment.criteria(found)]
    assert enrolment.evaluate(found, now=start + timedelta(days=1)) == "completed"


def test_no_sessions_means_no_attendance_criterion(course, student):
    found = enrolment.find_enrolment(student, course)
    assert attendance.attendance_check(found, now=utcnow()) is None


def test_roll_call_overrides_events_and_leaving_twice_does_not_double_count(
    session, teacher, student
):
    start = services.occurrences(session)[0]
    joining.join(student, session, now=start)
    joining.join(student, session, now=start + timedelta(minutes=5))
    joining.leave(student, session, now=start + timedelta(minutes=30))
    _, rows = attendance.attendance_report(teacher, session, now=start + timedelta(hours=1))
    assert rows[0].minutes == 30
    attendance.roll_call(teacher, session, start, {student.id: 50}, now=start + timedelta(hours=1))
    _, rows = attendance.attendance_report(teacher, session, now=start + timedelta(hours=1))
    assert rows[0].minutes == 50


def test_csv_export_is_safe(client, session, teacher, make, gx, course):
    evil = make.user("student", gx, display_name='=HYPERLINK("http://x")')
    enrolment.enrol(evil, course, now=services.occurrences(session)[0] - timedelta(days=1))
    login(client, teacher)
    resp = client.get(f"/live/{session.id}/attendance?format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names


def test_report_page_for_teacher_not_for_student(client, session, teacher, student):
    login(client, student)
    assert client.get(f"/live/{session.id}/attendance").status_code == 403
    client.post("/logout")
    login(client, teacher)
    page = client.get(f"/live/{session.id}/attendance")
    assert page.status_code == 200 and student.display_name in page.get_data(as_text=True)


def test_roll_call_page_completes_the_course_when_attendance_suffices(
    client, session, teacher, student, course, monkeypatch
):
    start = services.occurrences(session)[0]
    later = start + timedelta(days=1)
    require_attendance(teacher, course, 75)
    monkeypatch.setattr("lms.live.utcnow", lambda: later)
    monkeypatch.setattr("lms.live.views.utcnow", lambda: later)
    login(client, teacher)
    resp = client.post(
        f"/live/{session.id}/roll-call",
        data={"occurrence": start.isoformat(), f"minutes-{student.id}": "50"},
    )
    assert resp.status_code == 302
    assert enrolment.find_enrolment(student, course).status == "completed"
    bad = client.post(
        f"/live/{session.id}/roll-call",
        data={"occurrence": start.isoformat(), f"minutes-{student.id}": "61"},
    )
    assert bad.status_code == 422
