"""Attendance: join / leave events (the platform, BigBlueButton webhooks, a teacher's roll
call) → minutes per student per occurrence → percentage; the completion criterion."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts.models import Institution, User
from lms.catalog.models import Course
from lms.core.audit import record
from lms.core.errors import PermissionDenied, ValidationError, field_error
from lms.core.extensions import db
from lms.core.security import can, require
from lms.enrolment import services as enrolment
from lms.enrolment.models import Enrolment
from lms.live import providers
from lms.live.joining import window
from lms.live.models import AttendanceEvent, LiveSession
from lms.live.services import (
    is_participant,
    occurrences,
    participants,
    sessions_of,
    settings_for,
)
from lms.live.signals import attended


def provider_event(
    session: LiveSession, user_id: int, kind: str, *, at: datetime
) -> AttendanceEvent | None:
    """A join or leave reported by BigBlueButton's callback for a user of the platform."""
    user = db.session.get(User, user_id)
    if user is None or kind not in ("join", "leave"):
        return None
    if not (is_participant(user, session) or can(user, "live.manage", session.course)):
        return None
    w = window(session, at)
    if w.occurrence is None or w.state == "not_yet":
        return None
    event = AttendanceEvent(
        session_id=session.id,
        user_id=user.id,
        occurrence_at=w.occurrence,
        kind=kind,
        source="bigbluebutton",
        at=at,
    )
    db.session.add(event)
    db.session.flush()
    if kind == "join":
        attended.send(session, user=user, occurrence=w.occurrence, at=at, minutes=None)
    return event


def roll_call(
    actor: User | None,
    session: LiveSession,
    occurrence: datetime,
    minutes: dict[int, int],
    *,
    now: datetime,
) -> None:
    """A teacher's roll call: minutes attended per student for one occurrence, which then
    count instead of the join and leave events; each student's course completion is
    evaluated again (attendance may now meet the course's minimum)."""
    if actor is not None:
        require(actor, "live.manage", session.course)
    if occurrence not in occurrences(session):
        raise field_error("occurrence", _("The session did not take place at that time."))
    allowed = {u.id for u in participants(session)}
    for user_id, value in minutes.items():
        if user_id not in allowed:
            raise field_error("student", _("This student is not enrolled in the session."))
        if not 0 <= value <= session.duration_minutes:
            raise field_error(
                "minutes",
                _("Minutes must be between 0 and %(n)d.", n=session.duration_minutes),
            )
        db.session.add(
            AttendanceEvent(
                session_id=session.id,
                user_id=user_id,
                occurrence_at=occurrence,
                kind="present",
                source="roll_call",
                minutes=value,
                recorded_by_id=getattr(actor, "id", None),
            )
        )
    db.session.flush()
    record(
        actor,
        "live.roll_call",
        "live_session",
        session.id,
        after={
            "occurrence": occurrence.isoformat(),
            "minutes": {str(k): v for k, v in minutes.items()},
        },
    )
    for student in participants(session):
        found = enrolment.active_enrolment(student, session.course)
        if student.id in minutes and found is not None:
            if minutes[student.id] > 0:
                attended.send(
                    session,
                    user=student,
                    occurrence=occurrence,
                    at=now,
                    minutes=minutes[student.id],
                )
            enrolment.evaluate(found, now=now)


# ---------------------------------------------------------------------------- attendance


def _minutes(events: list[AttendanceEvent], start: datetime, end: datetime, now: datetime) -> int:
    """Minutes attended in one occurrence from its events: the latest roll call wins;
    otherwise the join→leave intervals clipped to the occurrence and merged (an open join
    counts until the end, or until now while the session runs)."""
    calls = [e for e in events if e.kind == "present"]
    if calls:
        return min(
            max(calls, key=lambda e: (e.at, e.id)).minutes or 0,
            int((end - start).total_seconds() // 60),
        )
    intervals: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        if event.kind == "join" and opened is None:
            opened = event.at
        elif event.kind == "leave" and opened is not None:
            intervals.append((opened, event.at))
            opened = None
    if opened is not None:
        intervals.append((opened, min(end, now)))
    total = 0.0
    cursor = start
    for a, b in sorted((max(a, start), min(b, end)) for a, b in intervals):
        a = max(a, cursor)
        if b > a:
            total += (b - a).total_seconds()
            cursor = b
    return round(total / 60)


def attendance(session: LiveSession, *, now: datetime) -> dict[tuple[int, datetime], int]:
    """Minutes attended per (user id, occurrence) for the session's past and running
    occurrences."""
    events = list(db.session.scalars(select(AttendanceEvent).filter_by(session_id=session.id)))
    length = timedelta(minutes=session.duration_minutes)
    grouped: dict[tuple[int, datetime], list[AttendanceEvent]] = {}
    for event in events:
        grouped.setdefault((event.user_id, event.occurrence_at), []).append(event)
    return {
        key: _minutes(evts, key[1], key[1] + length, now)
        for key, evts in grouped.items()
        if key[1] <= now
    }


@dataclass
class ReportRow:
    student: User
    minutes: int
    possible: int

    @property
    def percent(self) -> int:
        return round(100 * self.minutes / self.possible) if self.possible else 0


def attendance_report(actor: User | None, session: LiveSession, *, now: datetime):
    """Per student: minutes attended over the session's held occurrences and the share of
    the time held. Returns (held occurrences, rows)."""
    if actor is not None:
        require(actor, "live.report", session.course)
    held = [t for t in occurrences(session) if t <= now]
    possible = session.duration_minutes * len(held)
    minutes = attendance(session, now=now)
    rows = []
    for student in sorted(participants(session), key=lambda u: (u.display_name, u.id)):
        got = sum(minutes.get((student.id, t), 0) for t in held)
        rows.append(ReportRow(student, got, possible))
    return held, rows


def course_attendance(student: User, course: Course, cohort_id: int | None, *, now: datetime):
    """(minutes attended, minutes held) over the course's sessions that apply to the student,
    or None when the course has no sessions."""
    sessions = [s for s in sessions_of(course) if not s.cohort_id or s.cohort_id == cohort_id]
    if not sessions:
        return None
    got = possible = 0
    for session in sessions:
        held = [
            t
            for t in occurrences(session)
            if t + timedelta(minutes=session.duration_minutes) <= now
        ]
        possible += session.duration_minutes * len(held)
        minutes = attendance(session, now=now)
        got += sum(minutes.get((student.id, t), 0) for t in held)
    return got, possible


def attendance_check(found: Enrolment, *, now: datetime) -> tuple[bool, str] | None:
    """The completion criterion: the student attended at least the policy's share of the
    live-session time held so far; None when the course has no sessions."""
    result = course_attendance(found.student, found.course, found.cohort_id, now=now)
    if result is None:
        return None
    got, possible = result
    required = enrolment.policy_for(found.course).min_attendance_percent or 0
    if not possible:
        return False, _("No live sessions have taken place yet.")
    percent = 100 * got / possible
    return (
        percent >= required,
        _(
            "%(percent)d %% of live-session time attended (%(required)d %% required)",
            percent=round(percent),
            required=required,
        ),
    )


# ---------------------------------------------------------------------------- callbacks


def bbb_webhook(institution: Institution, url: str, body: bytes, checksum: str) -> int:
    """Attendance from a BigBlueButton server's webhooks (bbb-webhooks), configured by the
    institution to post to the platform: the checksum is SHA-1 of the callback URL, the
    raw body and the shared secret. ``user-joined`` / ``user-left`` events of meetings of
    the institution's sessions become join / leave events. Returns the events recorded."""
    settings = settings_for(institution)
    if not settings.bbb_secret:
        raise PermissionDenied(_("BigBlueButton is not configured for this institution."))
    expected = providers.bbb_checksum(url, body.decode("utf-8", "replace"), settings.bbb_secret)
    if not hmac.compare_digest(expected, (checksum or "").lower()):
        raise PermissionDenied(_("The callback signature is not valid."))
    form = dict(parse_qsl(body.decode("utf-8", "replace")))
    try:
        events = json.loads(form.get("event", "[]"))
    except ValueError:
        raise ValidationError(_("The callback body is not valid.")) from None
    recorded = 0
    for item in events if isinstance(events, list) else [events]:
        data = item.get("data", {}) if isinstance(item, dict) else {}
        kind = {"user-joined": "join", "user-left": "leave"}.get(data.get("id"))
        attributes = data.get("attributes") or {}
        meeting = (attributes.get("meeting") or {}).get("external-meeting-id", "")
        user_ref = (attributes.get("user") or {}).get("external-user-id", "")
        stamp = (data.get("event") or {}).get("ts")
        if not (kind and meeting and str(user_ref).isdigit() and isinstance(stamp, int)):
            continue
        session = db.session.scalar(
            select(LiveSession)
            .join(Course, Course.id == LiveSession.course_id)
            .where(LiveSession.meeting_ref == meeting, Course.institution_id == institution.id)
        )
        if session is None:
            continue
        at = datetime.fromtimestamp(stamp / 1000, UTC)
        if provider_event(session, int(user_ref), kind, at=at) is not None:
            recorded += 1
    return recorded
