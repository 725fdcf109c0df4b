"""Live classes: scheduling in the organiser's zone, recurrence, scheduling checks, joining
through the platform, attendance and recordings. The public face of the live domain
(joining: ``joining``; attendance: ``attendance``; recordings: ``recordings``;
calendars and reminders: ``calendar``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from dateutil.rrule import WEEKLY, rrulestr
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import Institution, User
from lms.catalog.models import Course
from lms.core import text
from lms.core.audit import record
from lms.core.errors import Conflict, NotFound, ValidationError, field_error
from lms.core.extensions import db
from lms.core.i18n import LANGUAGES, is_timezone, when
from lms.core.security import require
from lms.enrolment import services as enrolment
from lms.enrolment.models import Enrolment
from lms.live import providers
from lms.live.models import (
    PROVIDERS,
    LiveSession,
    ProviderSettings,
    describe,
)

#: the longest series a session may have
MAX_OCCURRENCES = 200
#: local hours counted as night for the night-time warning: [22:00, 06:00)
NIGHT_START, NIGHT_END = 22, 6
#: warn when at least this share of the enrolled students would join at night
NIGHT_SHARE_WARNING = 0.3

# ---------------------------------------------------------------------------- time


def to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time in ``zone`` → the UTC instant. Times that do not exist (skipped by
    a daylight-saving change) or exist twice are refused rather than guessed."""
    if local.tzinfo is not None:
        raise field_error("starts_at", _("Give the local time without a UTC offset."))
    tz = ZoneInfo(zone)
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back != local:
            raise field_error(
                "starts_at",
                _("This time does not exist in %(zone)s (the clocks change then).", zone=zone),
            )
        raise field_error(
            "starts_at",
            _("This time happens twice in %(zone)s (the clocks change then).", zone=zone),
        )
    return first.astimezone(UTC)


def local_start(session: LiveSession) -> datetime:
    """The first occurrence as naive wall-clock time in the organiser's zone."""
    return session.starts_at.astimezone(ZoneInfo(session.timezone)).replace(tzinfo=None)


def _series(rule: str, dtstart: datetime):
    return rrulestr(rule, dtstart=dtstart, forceset=False)


def _validate_rrule(rule: str, dtstart: datetime) -> str:
    rule = rule.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    if not rule:
        return ""
    try:
        series = _series(rule, dtstart)
    except (ValueError, TypeError):
        raise field_error("rrule", _("This is not a valid recurrence rule.")) from None
    if getattr(series, "_freq", None) != WEEKLY:
        raise field_error("rrule", _("Only weekly recurrence is supported."))
    if series._count is None and series._until is None:
        raise field_error("rrule", _("Give the number of sessions (COUNT) or an end date (UNTIL)."))
    if series._until is not None and series._until.tzinfo is not None:
        raise field_error("rrule", _("Give UNTIL as a local date and time, without a zone."))
    if len(list(series[: MAX_OCCURRENCES + 1])) > MAX_OCCURRENCES:
        raise field_error(
            "rrule", _("A series may have at most %(n)d sessions.", n=MAX_OCCURRENCES)
        )
    return rule


def occurrences(
    session: LiveSession, start: datetime | None = None, end: datetime | None = None
) -> list[datetime]:
    """The UTC start of every occurrence (cancelled dates left out), optionally only those
    overlapping [start, end). The series is expanded in the organiser's wall-clock time,
    then each time is placed in the zone, so a daylight-saving change moves the UTC time,
    not the local one."""
    tz = ZoneInfo(session.timezone)
    first = local_start(session)
    local_times = list(_series(session.rrule, first)) if session.rrule else [first]
    cancelled = set(session.exdates or [])
    length = timedelta(minutes=session.duration_minutes)
    out = []
    for local in local_times[:MAX_OCCURRENCES]:
        if local.date().isoformat() in cancelled:
            continue
        moment = local.replace(tzinfo=tz).astimezone(UTC)
        if start is not None and moment + length <= start:
            continue
        if end is not None and moment >= end:
            continue
        out.append(moment)
    return out


def _all_local(session: LiveSession) -> list[datetime]:
    first = local_start(session)
    return list(_series(session.rrule, first))[:MAX_OCCURRENCES] if session.rrule else [first]


def user_zone(user: User | None, fallback: str = "UTC") -> str:
    """The zone a user reads times in: their own, else their institution's, else ``fallback``."""
    if user is None:
        return fallback
    if user.timezone and is_timezone(user.timezone):
        return user.timezone
    for m in user.active_memberships():
        if m.institution.timezone:
            return m.institution.timezone
    return fallback


def in_zone(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def show_time(moment: datetime, zone: str, locale: str, fmt: str = "medium") -> str:
    """A time as a reader in ``zone`` sees it, in their language, with the zone's name
    (``30 Nov 2026, 09:30:00 (Asia/Bangkok)``)."""
    when = babel_dates.format_datetime(moment, fmt, tzinfo=ZoneInfo(zone), locale=locale or "en")
    return f"{when} ({zone})"


# ---------------------------------------------------------------------------- scheduling


@dataclass
class SessionData:
    titles: dict[str, str]
    local_start: datetime
    timezone: str
    duration_minutes: int
    provider: str
    source_locale: str = ""
    rrule: str = ""
    exdates: list[str] = field(default_factory=list)
    cohort_id: int | None = None
    external_url: str = ""
    instruction_languages: list[str] = field(default_factory=list)
    interpretation_languages: list[str] = field(default_factory=list)
    join_opens_minutes: int = 15


@dataclass
class ScheduleResult:
    session: LiveSession
    warnings: list[str]


def _clean(course: Course, data: SessionData) -> dict[str, Any]:
    errors: list[dict[str, str]] = []

    def bad(name: str, message: str) -> None:
        errors.append({"field": name, "message": message})

    titles = {}
    for locale, value in (data.titles or {}).items():
        if locale not in LANGUAGES:
            bad("title", _("Unknown language: %(code)s", code=locale))
            continue
        try:
            value = text.display(value or "")
        except text.TextError:
            bad("title", _("The title contains characters that are not allowed."))
            continue
        if value:
            titles[locale] = value[:200]
    if not titles:
        bad("title", _("Give the session a title."))
    if not is_timezone(data.timezone):
        bad("timezone", _("Choose a time zone from the list."))
    if not 5 <= int(data.duration_minutes or 0) <= 720:
        bad("duration_minutes", _("The duration must be between 5 and 720 minutes."))
    if data.provider not in PROVIDERS:
        bad("provider", _("Choose BigBlueButton, Jitsi Meet or an external link."))
    if data.provider == "external" and not (data.external_url or "").startswith("https://"):
        bad("external_url", _("Give the meeting link, starting with https://."))
    for name in ("instruction_languages", "interpretation_languages"):
        if any(code not in LANGUAGES for code in getattr(data, name)):
            bad(name, _("Choose languages from the list."))
    if not 0 <= int(data.join_opens_minutes) <= 120:
        bad("join_opens_minutes", _("Joining may open at most 120 minutes before the start."))
    if errors:
        raise ValidationError(errors[0]["message"], errors=errors)
    starts_at = to_utc(data.local_start, data.timezone)
    rule = _validate_rrule(data.rrule, data.local_start)
    exdates = []
    for value in data.exdates or []:
        try:
            exdates.append(date.fromisoformat(str(value)).isoformat())
        except ValueError:
            raise field_error("exdates", _("Give cancelled dates as YYYY-MM-DD.")) from None
    cohort = None
    if data.cohort_id:
        cohort = enrolment.get_cohort(course, data.cohort_id)
    source = data.source_locale if data.source_locale in titles else next(iter(titles))
    return {
        "titles": titles,
        "source_locale": source,
        "starts_at": starts_at,
        "timezone": data.timezone,
        "duration_minutes": int(data.duration_minutes),
        "rrule": rule,
        "exdates": sorted(set(exdates)),
        "cohort": cohort,
        "provider": data.provider,
        "external_url": data.external_url if data.provider == "external" else "",
        "instruction_languages": list(data.instruction_languages),
        "interpretation_languages": list(data.interpretation_languages),
        "join_opens_minutes": int(data.join_opens_minutes),
    }


def _span(session: LiveSession) -> tuple[datetime, datetime]:
    times = occurrences(session)
    if not times:
        raise field_error("exdates", _("Every date of this series is cancelled."))
    return times[0], times[-1] + timedelta(minutes=session.duration_minutes)


def check_double_booking(session: LiveSession) -> None:
    """A teacher cannot be in two live classes at once: no occurrence of the organiser's
    other sessions may overlap one of this session's."""
    first, last_end = _span(session)
    others = db.session.scalars(
        select(LiveSession).where(
            LiveSession.organiser_id == session.organiser.id,
            LiveSession.id != (session.id or 0),
            LiveSession.starts_at < last_end,
            LiveSession.last_ends_at > first,
        )
    )
    mine = [(t, t + timedelta(minutes=session.duration_minutes)) for t in occurrences(session)]
    for other in others:
        length = timedelta(minutes=other.duration_minutes)
        for t in occurrences(other, first, last_end):
            for a, b in mine:
                if a < t + length and t < b:
                    raise Conflict(
                        _(
                            "%(name)s already teaches “%(title)s” at that time (%(when)s).",
                            name=session.organiser.display_name,
                            title=other.title(session.source_locale)[0],
                            when=when(t, "short"),
                        ),
                        slug="teacher-double-booked",
                    )


def participants(session: LiveSession) -> list[User]:
    """Students enrolled in the session's course (and cohort, if it has one)."""
    stmt = (
        select(Enrolment)
        .filter_by(course_id=session.course_id)
        .where(Enrolment.status.in_(enrolment.ACTIVE))
        .options(selectinload(Enrolment.student))
    )
    if session.cohort_id:
        stmt = stmt.where(Enrolment.cohort_id == session.cohort_id)
    return [e.student for e in db.session.scalars(stmt)]


def night_share(session: LiveSession) -> tuple[int, int]:
    """(students for whom the first occurrence starts at night in their zone, students)."""
    students = participants(session)
    start = occurrences(session)[0]
    fallback = session.course.institution.timezone or "UTC"
    night = 0
    for student in students:
        hour = in_zone(start, user_zone(student, fallback)).hour
        if hour >= NIGHT_START or hour < NIGHT_END:
            night += 1
    return night, len(students)


def schedule_warnings(session: LiveSession) -> list[str]:
    night, total = night_share(session)
    if total and night / total >= NIGHT_SHARE_WARNING:
        return [
            _(
                "This session falls at night (22:00–06:00) for %(night)d of %(total)d enrolled "
                "students in their own time zones.",
                night=night,
                total=total,
            )
        ]
    return []


def create_session(
    actor: User | None, course: Course, data: SessionData, *, organiser: User | None = None
) -> ScheduleResult:
    """Schedule a live session (or a weekly series). The start is given in the organiser's
    local time and zone and stored in UTC; the organiser must not be double-booked. Returns
    warnings (night time for many students) that do not stop the scheduling."""
    if actor is not None:
        require(actor, "live.manage", course)
    organiser = organiser or actor
    if organiser is None:
        raise field_error("organiser", _("Name the teacher of this session."))
    values = _clean(course, data)
    session = LiveSession(course=course, organiser=organiser, **values)
    session.last_ends_at = _span(session)[1]
    if session.provider == "bigbluebutton":
        session.meeting_ref = f"lms-{secrets.token_hex(12)}"
    elif session.provider == "jitsi":
        session.meeting_ref = providers.jitsi_room(course.code, 0, secrets.token_hex(8))
    check_double_booking(session)
    db.session.add(session)
    db.session.flush()
    record(actor, "live.session_created", "live_session", session.id, after=describe(session))
    return ScheduleResult(session, schedule_warnings(session))


def cancel_occurrence(actor: User | None, session: LiveSession, day: date) -> LiveSession:
    """Cancel one date of a series (an EXDATE)."""
    if actor is not None:
        require(actor, "live.manage", session.course)
    if day not in {local.date() for local in _all_local(session)}:
        raise field_error("date", _("The series has no session on that date."))
    before = describe(session)
    session.exdates = sorted({*(session.exdates or []), day.isoformat()})
    session.last_ends_at = _span(session)[1]
    db.session.flush()
    record(
        actor,
        "live.occurrence_cancelled",
        "live_session",
        session.id,
        before=before,
        after=describe(session),
    )
    return session


def get_session(session_id: int) -> LiveSession:
    session = db.session.get(LiveSession, session_id)
    if session is None:
        raise NotFound(_("This live session does not exist."))
    return session


def sessions_of(course: Course) -> list[LiveSession]:
    return list(
        db.session.scalars(
            select(LiveSession).filter_by(course_id=course.id).order_by(LiveSession.starts_at)
        )
    )


def upcoming_occurrences(
    sessions: list[LiveSession], now: datetime, limit: int = 10
) -> list[tuple[datetime, LiveSession]]:
    """The next occurrences (still running or to come) of these sessions, soonest first."""
    items = [(t, s) for s in sessions for t in occurrences(s, start=now)]
    return sorted(items, key=lambda item: item[0])[:limit]


def sessions_for_user(user: User, *, since: datetime | None = None) -> list[LiveSession]:
    """Sessions of the courses the user studies (their cohort's or the whole course's) or
    teaches."""
    enrolments = db.session.execute(
        select(Enrolment.course_id, Enrolment.cohort_id).where(
            Enrolment.student_id == user.id, Enrolment.status.in_(enrolment.ACTIVE)
        )
    ).all()
    conditions = [
        (LiveSession.course_id == course_id)
        & (or_(LiveSession.cohort_id.is_(None), LiveSession.cohort_id == cohort_id))
        for course_id, cohort_id in enrolments
    ]
    conditions.append(LiveSession.organiser_id == user.id)
    stmt = select(LiveSession).where(or_(*conditions))
    if since is not None:
        stmt = stmt.where(LiveSession.last_ends_at > since)
    sessions = list(db.session.scalars(stmt.order_by(LiveSession.starts_at)))
    return sessions


# ---------------------------------------------------------------------------- settings


def set_provider_settings(
    actor: User | None,
    institution: Institution,
    *,
    bbb_url: str,
    bbb_secret: str | None,
    jitsi_domain: str,
    jitsi_app_id: str,
    jitsi_secret: str | None,
) -> ProviderSettings:
    """Store the institution's BigBlueButton server and Jitsi settings. A secret given as
    None keeps the stored one (forms never show secrets back)."""
    if actor is not None:
        require(actor, "live.configure", institution)
    bbb_url = (bbb_url or "").strip()
    if bbb_url and not bbb_url.startswith(("https://", "http://")):
        raise field_error("bbb_url", _("Give the server address, starting with https://."))
    settings = settings_for(institution, for_update=True)
    settings.bbb_url = bbb_url
    settings.jitsi_domain = (jitsi_domain or "meet.jit.si").strip().strip("/")
    settings.jitsi_app_id = (jitsi_app_id or "").strip()
    if bbb_secret is not None:
        settings.bbb_secret = bbb_secret.strip()
    if jitsi_secret is not None:
        settings.jitsi_secret = jitsi_secret.strip()
    db.session.flush()
    record(
        actor,
        "live.settings_changed",
        "institution",
        institution.id,
        after={"bbb_url": bbb_url, "jitsi_domain": settings.jitsi_domain},
    )
    return settings


def settings_for(institution: Institution, *, for_update: bool = False) -> ProviderSettings:
    """The institution's provider settings; the defaults when none are stored. Only a
    change stores a row (``for_update``): reading, e.g. for an unauthenticated webhook that
    is then refused, writes nothing."""
    settings = db.session.get(ProviderSettings, institution.id)
    if settings is None:
        settings = ProviderSettings(
            institution_id=institution.id,
            bbb_url="",
            bbb_secret="",
            jitsi_domain="meet.jit.si",
            jitsi_app_id="",
            jitsi_secret="",
        )
        if for_update:
            db.session.add(settings)
            db.session.flush()
    return settings


def is_participant(user: User, session: LiveSession) -> bool:
    """An active student of the course (of the session's cohort, if it has one)."""
    found = enrolment.active_enrolment(user, session.course)
    return found is not None and (not session.cohort_id or found.cohort_id == session.cohort_id)
