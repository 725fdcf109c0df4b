import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lms.core.errors import Conflict, ValidationError
from lms.enrolment import services as enrolment
from lms.live import services
from lms.live.models import LiveSession
from tests.conftest import login
from tests.live_sessions.conftest import schedule, session_data


def test_yangon_start_is_stored_in_utc_and_shown_in_each_zone(
    app, client, teacher, course, student, db_session
):
    session = schedule(teacher, course)
    db_session.expire_all()
    stored = db_session.get(LiveSession, session.id)
    assert stored.starts_at == datetime(2027, 3, 1, 2, 30, tzinfo=UTC)
    assert stored.timezone == "Asia/Yangon"
    assert services.local_start(stored) == datetime(2027, 3, 1, 9, 0)

    login(client, student)
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    your_time = page.split('class="local-time">')[1].split("</dd>")[0]
    assert re.search(r"\b9:30", your_time) and "Asia/Bangkok" in your_time
    client.post("/logout")

    login(client, teacher)
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    your_time = page.split('class="local-time">')[1].split("</dd>")[0]
    assert "10:30" in your_time and "Asia/Shanghai" in your_time
    # the organiser's own wall-clock time is shown too
    assert re.search(r"\b9:00.{0,20}\(Asia/Yangon\)", page)


def test_times_that_do_not_exist_or_happen_twice_are_refused(teacher, course):
    with pytest.raises(ValidationError, match="does not exist"):
        schedule(
            teacher, course, timezone="Europe/Berlin", local_start=datetime(2027, 3, 28, 2, 30)
        )
    with pytest.raises(ValidationError, match="twice"):
        schedule(
            teacher, course, timezone="Europe/Berlin", local_start=datetime(2027, 10, 31, 2, 30)
        )


def test_weekly_series_with_a_cancelled_date_across_daylight_saving(teacher, course):
    # every Monday 18:00 in Berlin, six weeks around the change of 28 March 2027
    session = schedule(
        teacher,
        course,
        timezone="Europe/Berlin",
        local_start=datetime(2027, 3, 15, 18, 0),
        rrule="FREQ=WEEKLY;COUNT=6",
        exdates=["2027-03-22"],
    )
    times = services.occurrences(session)
    berlin = ZoneInfo("Europe/Berlin")
    local = [t.astimezone(berlin) for t in times]
    assert [t.date() for t in local] == [
        date(2027, 3, 15),
        date(2027, 3, 29),
        date(2027, 4, 5),
        date(2027, 4, 12),
        date(2027, 4, 19),
    ]
    assert all((t.hour, t.minute) == (18, 0) for t in local)
    # the UTC instant moves by an hour with summer time
    assert times[0].hour == 17 and times[1].hour == 16
    assert date(2027, 3, 22) not in [t.date() for t in local]


def test_bangkok_series_seen_from_berlin_shifts_with_berlin_summer_time(teacher, course):
    session = schedule(
        teacher,
        course,
        timezone="Asia/Bangkok",
        local_start=datetime(2027, 3, 22, 15, 0),
        rrule="FREQ=WEEKLY;COUNT=3",
        exdates=["2027-03-29"],
    )
    berlin = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in services.occurrences(session)]
    assert [(t.date(), t.hour) for t in berlin] == [
        (date(2027, 3, 22), 9),
        (date(2027, 4, 5), 10),
    ]


def test_cancelling_a_date_later(teacher, course):
    session = schedule(teacher, course, rrule="FREQ=WEEKLY;COUNT=3")
    services.cancel_occurrence(teacher, session, date(2027, 3, 8))
    assert len(services.occurrences(session)) == 2
    with pytest.raises(ValidationError):
        services.cancel_occurrence(teacher, session, date(2027, 3, 9))


@pytest.mark.parametrize(
    "rule", ["FREQ=DAILY;COUNT=3", "FREQ=WEEKLY", "nonsense", "FREQ=WEEKLY;COUNT=500"]
)
def test_bad_recurrence_is_refused(teacher, course, rule):
    with pytest.raises(ValidationError):
        schedule(teacher, course, rrule=rule)


def test_a_teacher_cannot_be_double_booked(teacher, course, course_factory):
    schedule(teacher, course, rrule="FREQ=WEEKLY;COUNT=4")
    other = course_factory("GX-LIVE2", teachers=[teacher.email])
    # third week, overlapping by half an hour (Shanghai 11:00 = Yangon 09:30)
    with pytest.raises(Conflict, match="already teaches"):
        schedule(teacher, other, timezone="Asia/Shanghai", local_start=datetime(2027, 3, 15, 11, 0))
    # right after the class is fine
    schedule(teacher, other, timezone="Asia/Shanghai", local_start=datetime(2027, 3, 15, 11, 30))


def test_night_warning_for_many_students(teacher, course, make, gx):
    for _ in range(3):
        s = make.user("student", gx, timezone="America/Lima")
        enrolment.enrol(s, course, now=datetime.now(UTC))
    s = make.user("student", gx, timezone="Asia/Jakarta")
    enrolment.enrol(s, course, now=datetime.now(UTC))
    # 09:00 Yangon = 21:30 the day before in Lima
    quiet = services.create_session(teacher, course, session_data())
    assert quiet.warnings == []
    late = services.create_session(
        teacher, course, session_data(local_start=datetime(2027, 3, 2, 11, 0))
    )  # 23:30 in Lima for 3 of 4 students
    assert late.warnings and "3 of 4" in late.warnings[0]


def test_students_cannot_schedule(student, course):
    from lms.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        schedule(student, course)


def test_occurrences_window_filter(teacher, course):
    session = schedule(teacher, course, rrule="FREQ=WEEKLY;COUNT=3")
    first = services.occurrences(session)[0]
    assert services.occurrences(session, start=first + timedelta(minutes=61)) == [
        first + timedelta(days=7),
        first + timedelta(days=14),
    ]
