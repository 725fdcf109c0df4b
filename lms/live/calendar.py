"""iCalendar (RFC 5545) feeds and files, and e-mail reminders before sessions."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from icalendar import Calendar, Event, vRecur
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.core import mail
from lms.core.extensions import db
from lms.enrolment import services as enrolment
from lms.live import services
from lms.live.models import CalendarFeed, LiveSession, ReminderSent

PRODID = "-//China-ASEAN Vocational Cloud LMS//Live classes//EN"
#: reminders go out this long before an occurrence
REMINDER_LEAD = timedelta(hours=1)


def feed_token(user: User, *, renew: bool = False) -> str:
    """The user's secret feed token (created on first use; ``renew`` replaces it, so an
    address that leaked stops working)."""
    feed = db.session.get(CalendarFeed, user.id)
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token=secrets.token_urlsafe(32))
        db.session.add(feed)
    elif renew:
        feed.token = secrets.token_urlsafe(32)
    db.session.flush()
    return feed.token


def user_for_feed(token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    feed = db.session.scalar(select(CalendarFeed).filter_by(token=token))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.is_active else None


def _event(session: LiveSession, locale: str, now: datetime) -> Event:
    tz = ZoneInfo(session.timezone)
    event = Event()
    event.add("uid", f"live-session-{session.id}@lms.china-asean")
    event.add("dtstamp", now)
    event.add("summary", session.title(locale)[0])
    event.add("dtstart", services.local_start(session).replace(tzinfo=tz))
    event.add("duration", timedelta(minutes=session.duration_minutes))
    if session.rrule:
        event.add("rrule", vRecur.from_ical(session.rrule))
        first = services.local_start(session)
        for day in session.exdates or []:
            moment = datetime.fromisoformat(day).replace(
                hour=first.hour, minute=first.minute, second=first.second
            )
            event.add("exdate", moment.replace(tzinfo=tz))
    link = url_for("live.session", session_id=session.id, _external=True)
    event.add("url", link)
    event.add("description", session.course.title(locale)[0] + "\n" + link)
    return event


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    return cal


def session_ics(session: LiveSession, locale: str, *, now: datetime) -> bytes:
    """One session (with its recurrence) as an .ics file for "add to calendar"."""
    cal = _calendar(session.title(locale)[0])
    cal.add_component(_event(session, locale, now))
    cal.add_missing_timezones()
    return cal.to_ical()


def user_feed(user: User, locale: str, *, now: datetime) -> bytes:
    """The user's feed: their live sessions (with recurrence) and their deadlines (the
    dated items other domains put on the dashboard, and course end dates)."""
    cal = _calendar(_("My classes"))
    for session in services.sessions_for_user(user, since=now - timedelta(days=90)):
        cal.add_component(_event(session, locale, now))
    enrolments = [e for e in enrolment.my_enrolments(user) if e.status in enrolment.ACTIVE]
    for item in enrolment.upcoming(user, enrolments):
        if item.get("kind") == "live":
            continue
        event = Event()
        event.add("uid", f"{item.get('kind', 'item')}-{item.get('id', item['url'])}@lms")
        event.add("dtstamp", now)
        event.add("summary", item["title"])
        event.add("dtstart", item["when"])
        event.add("duration", timedelta(minutes=0))
        event.add("url", item["url"])
        cal.add_component(event)
    for found in enrolments:
        if found.course.ends_on:
            event = Event()
            event.add("uid", f"course-end-{found.course.id}@lms")
            event.add("dtstamp", now)
            event.add("summary", _("Course ends: %(title)s", title=found.course.title(locale)[0]))
            event.add("dtstart", found.course.ends_on)
            cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


# ---------------------------------------------------------------------------- reminders


def _locale(user: User, session: LiveSession) -> str:
    return user.locale or session.course.institution.default_locale or "en"


def due_reminders(now: datetime, lead: timedelta = REMINDER_LEAD):
    """(session, occurrence) pairs starting within ``lead`` from now."""
    sessions = db.session.scalars(
        select(LiveSession).where(
            LiveSession.starts_at <= now + lead, LiveSession.last_ends_at > now
        )
    )
    for session in sessions:
        for moment in services.occurrences(session, start=now, end=now + lead):
            if moment > now:
                yield session, moment


def send_reminders(now: datetime, lead: timedelta = REMINDER_LEAD) -> int:
    """Queue one e-mail per participant (students and the organiser) for each occurrence
    starting within ``lead``, in the recipient's language and time zone; never twice."""
    sent = 0
    for session, moment in list(due_reminders(now, lead)):
        people = {u.id: u for u in services.participants(session)}
        people[session.organiser.id] = session.organiser
        already = set(
            db.session.scalars(
                select(ReminderSent.user_id).filter_by(session_id=session.id, occurrence_at=moment)
            )
        )
        fallback = session.course.institution.timezone or "UTC"
        for user in people.values():
            if user.id in already or not user.is_active:
                continue
            zone = services.user_zone(user, fallback)
            locale = _locale(user, session)
            try:
                with db.session.begin_nested():
                    db.session.add(
                        ReminderSent(session_id=session.id, user_id=user.id, occurrence_at=moment)
                    )
                    db.session.flush()
            except IntegrityError:
                continue
            mail.queue(
                user.email,
                locale,
                "live.reminder",
                "live/reminder",
                user=user,
                session=session,
                title=session.title(locale)[0],
                course_title=session.course.title(locale)[0],
                when=services.show_time(moment, zone, locale, "full"),
            )
            sent += 1
    return sent
