from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lms.live.models import LiveSession
from tests.conftest import login
from tests.live_sessions.conftest import schedule


def test_teacher_schedules_a_weekly_class_through_the_form(client, teacher, course, db_session):
    login(client, teacher)
    page = client.get(f"/courses/{course.code}/live")
    assert page.status_code == 200 and 'name="starts_at"' in page.get_data(as_text=True)
    resp = client.post(
        f"/courses/{course.code}/live",
        data={
            "title": "Wiring practice",
            "starts_at": "2027-03-01T09:00",
            "timezone": "Asia/Yangon",
            "duration_minutes": "90",
            "weeks": "4",
            "provider": "jitsi",
            "instruction_languages": ["zh_Hans", "my"],
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    created = db_session.query(LiveSession).filter_by(course_id=course.id).one()
    assert created.starts_at == datetime(2027, 3, 1, 2, 30, tzinfo=UTC)
    assert created.rrule == "FREQ=WEEKLY;COUNT=4" and created.instruction_languages == [
        "zh_Hans",
        "my",
    ]
    session_page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Wiring practice" in session_page and "Attendance" in session_page
    # a bad zone is shown on the form, nothing is stored
    bad = client.post(
        f"/courses/{course.code}/live",
        data={
            "title": "X",
            "starts_at": "2027-03-01T09:00",
            "timezone": "Nowhere/City",
            "duration_minutes": "60",
            "provider": "jitsi",
        },
    )
    assert bad.status_code == 200 and "Choose a time zone" in bad.get_data(as_text=True)
    assert db_session.query(LiveSession).filter_by(course_id=course.id).count() == 1


def test_student_sees_sessions_but_no_schedule_form(client, teacher, student, course):
    schedule(
        teacher, course, local_start=datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    )
    login(client, student)
    page = client.get(f"/courses/{course.code}/live").get_data(as_text=True)
    assert "Engine diagnostics" in page or "发动机诊断" in page
    assert 'name="starts_at"' not in page
    assert client.post(f"/courses/{course.code}/live", data={}).status_code == 403


def test_calendar_page_shows_the_feed_address(client, student):
    login(client, student)
    page = client.get("/me/calendar").get_data(as_text=True)
    assert "/calendar/" in page and ".ics" in page


def test_join_button_redirects_through_the_platform(client, teacher, student, course, db_session):
    from lms.live.models import AttendanceEvent

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    local = now.astimezone(ZoneInfo("Asia/Yangon")).replace(tzinfo=None)
    s = schedule(
        teacher,
        course,
        local_start=local + timedelta(minutes=5),
        instruction_languages=["zh_Hans", "my"],
    )
    login(client, student)
    page = client.get(f"/live/{s.id}").get_data(as_text=True)
    assert "Join now" in page and "မြန်မာ" in page
    resp = client.post(f"/live/{s.id}/join")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "https://meeting.tencent.com/dm/abc"
    assert db_session.query(AttendanceEvent).filter_by(user_id=student.id).count() == 1


def test_api_accepts_title_translations(client, teacher, course):
    from tests.conftest import bearer

    resp = client.post(
        f"/api/v1/courses/{course.code}/sessions?lang=en",
        json={
            "title": "Welding",
            "titles": {"th": "การเชื่อม"},
            "starts_at": "2027-05-03T14:00:00",
            "timezone": "Asia/Bangkok",
            "duration_minutes": 45,
            "provider": "jitsi",
        },
        headers=bearer(client, teacher),
    )
    assert resp.status_code == 201
    listing = client.get(
        f"/api/v1/courses/{course.code}/sessions?lang=th", headers=bearer(client, teacher)
    )
    item = listing.json["items"][0]
    assert (item["title"], item["title_locale"]) == ("การเชื่อม", "th")


def test_settings_form_keeps_the_stored_secret(client, make, gx, db_session):
    from lms.live.models import ProviderSettings

    login(client, make.user("admin", gx))
    url = f"/institutions/{gx.slug}/live"
    data = {
        "bbb_url": "https://bbb.gx.example/bigbluebutton/",
        "bbb_secret": "s3cret-value",
        "jitsi_domain": "meet.gx.example",
        "jitsi_app_id": "",
        "jitsi_secret": "",
    }
    assert client.post(url, data=data).status_code == 302
    data["bbb_secret"] = ""
    assert client.post(url, data=data).status_code == 302
    stored = db_session.get(ProviderSettings, gx.id)
    assert stored.bbb_secret == "s3cret-value" and stored.jitsi_domain == "meet.gx.example"
    page = client.get(url).get_data(as_text=True)
    assert "s3cret-value" not in page and "A secret is stored." in page


def test_teacher_cancels_a_date_from_the_session_page(client, teacher, course):
    s = schedule(teacher, course, rrule="FREQ=WEEKLY;COUNT=3")
    login(client, teacher)
    resp = client.post(f"/live/{s.id}/cancel", data={"date": "2027-03-08"})
    assert resp.status_code == 302
    assert s.exdates == ["2027-03-08"]
    resp = client.post(f"/live/{s.id}/recordings", data={"url": "https://rec.example/1"})
    assert resp.status_code == 302 and s.recordings[0].url == "https://rec.example/1"
