from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr

from lms.core.models import OutboxMessage
from lms.live import calendar, services
from tests.conftest import bearer, login
from tests.live_sessions.conftest import schedule


def test_api_schedules_lists_and_the_feed_gives_the_same_instant(client, teacher, student, course):
    headers = bearer(client, teacher)
    resp = client.post(
        f"/api/v1/courses/{course.code}/sessions",
        json={
            "title": "Engine diagnostics",
            "starts_at": "2027-03-01T09:00:00",
            "timezone": "Asia/Yangon",
            "duration_minutes": 60,
            "provider": "jitsi",
        },
        headers=headers,
    )
    assert resp.status_code == 201, resp.json
    body = resp.json["session"]
    assert body["starts_at"].startswith("2027-03-01T02:30:00")
    assert body["local_starts_at"] == "2027-03-01T09:00:00"

    listing = client.get(f"/api/v1/courses/{course.code}/sessions", headers=bearer(client, student))
    assert [s["id"] for s in listing.json["items"]] == [body["id"]]

    feed_url = client.get("/api/v1/me/calendar", headers=bearer(client, student)).json["url"]
    ics = client.get(feed_url.replace("http://localhost", ""))
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(ics.data)
    events = [e for e in cal.walk("VEVENT") if str(e["uid"]).startswith("live-session-")]
    assert len(events) == 1
    start = events[0].decoded("dtstart")
    assert start == datetime(2027, 3, 1, 2, 30, tzinfo=UTC)
    assert start.astimezone(ZoneInfo("Asia/Bangkok")).strftime("%H:%M") == "09:30"
    assert start.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M") == "10:30"
    assert cal.walk("VTIMEZONE"), "the zone of DTSTART is described in the file"


def test_api_validation_and_permissions(client, teacher, student, course):
    headers = bearer(client, teacher)
    bad = client.post(
        f"/api/v1/courses/{course.code}/sessions",
        json={
            "title": "x",
            "starts_at": "2027-03-01T09:00:00",
            "timezone": "Mars/Base",
            "duration_minutes": 60,
            "provider": "jitsi",
        },
        headers=headers,
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["errors"][0]["field"] == "timezone"
    refused = client.post(
        f"/api/v1/courses/{course.code}/sessions",
        json={
            "title": "x",
            "starts_at": "2027-03-01T09:00:00",
            "timezone": "Asia/Yangon",
            "duration_minutes": 60,
            "provider": "jitsi",
        },
        headers=bearer(client, student),
    )
    assert refused.status_code == 403
    spec = client.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/courses/{code}/sessions",
        "/api/v1/sessions/{session_id}/join",
        "/api/v1/me/calendar",
    ):
        assert path in spec["paths"]


def test_recurring_ics_expands_like_the_server_across_berlin_dst(client, teacher, student, course):
    session = schedule(
        teacher,
        course,
        timezone="Europe/Berlin",
        local_start=datetime(2027, 3, 15, 18, 0),
        rrule="FREQ=WEEKLY;COUNT=6",
        exdates=["2027-03-22"],
    )
    login(client, student)
    resp = client.get(f"/live/{session.id}/session.ics")
    assert resp.status_code == 200
    event = next(iter(icalendar.Calendar.from_ical(resp.data).walk("VEVENT")))
    dtstart = event.decoded("dtstart")
    rule = rrulestr(event["rrule"].to_ical().decode(), dtstart=dtstart)
    exdates = {d.dt for ex in [event["exdate"]] for d in (ex.dts if hasattr(ex, "dts") else [])}
    expanded = [t for t in rule if t not in exdates]
    assert [t.astimezone(UTC) for t in expanded] == services.occurrences(session)


def test_feed_token_is_secret_and_renewable(client, student):
    token = calendar.feed_token(student)
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    new = calendar.feed_token(student, renew=True)
    assert new != token
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_reminders_in_the_users_language_and_zone_once(
    app, runner, teacher, student, course, db_session
):
    student.locale = "zh_Hans"
    session = schedule(teacher, course)
    start = services.occurrences(session)[0]
    assert calendar.send_reminders(start - timedelta(minutes=30)) == 2
    assert calendar.send_reminders(start - timedelta(minutes=20)) == 0
    mails = {
        m.to_address: m for m in db_session.query(OutboxMessage).filter_by(kind="live.reminder")
    }
    to_student = mails[student.email]
    assert "发动机诊断" in to_student.subject
    assert "Asia/Bangkok" in to_student.body and "9:30" in to_student.body
    assert f"/live/{session.id}" in to_student.body
    assert "Asia/Shanghai" in mails[teacher.email].body


def test_remind_command(runner, teacher, student, course):
    session = schedule(teacher, course)
    start = services.occurrences(session)[0]
    with mock.patch("lms.live.cli.utcnow", return_value=start - timedelta(minutes=10)):
        result = runner.invoke(args=["lms", "live", "remind"])
    assert result.exit_code == 0, result.output
    assert "queued 2 reminders" in result.output


def test_dashboard_and_course_page_list_upcoming_sessions(client, teacher, student, course):
    schedule(
        teacher, course, local_start=datetime.now(UTC).replace(tzinfo=None) + timedelta(days=2)
    )
    login(client, student)
    page = client.get(f"/courses/{course.code}").get_data(as_text=True)
    assert "Engine diagnostics" in page or "发动机诊断" in page
    dash = client.get("/me/courses")
    assert dash.status_code == 200
    text = dash.get_data(as_text=True)
    assert "Engine diagnostics" in text or "发动机诊断" in text
