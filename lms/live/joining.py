"""Joining a live session through the platform: the join window, the provider's URL
for one user (teachers as moderators), leaving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from lms.accounts.models import User
from lms.core.audit import record
from lms.core.errors import Conflict, PermissionDenied
from lms.core.extensions import db
from lms.core.i18n import when
from lms.core.security import can, require
from lms.live import providers
from lms.live.models import AttendanceEvent, LiveSession
from lms.live.services import (
    is_participant,
    occurrences,
    settings_for,
)
from lms.live.signals import attended


@dataclass
class Window:
    occurrence: datetime | None
    opens_at: datetime | None
    closes_at: datetime | None
    state: str  # "open", "not_yet", "over"


def window(session: LiveSession, now: datetime) -> Window:
    """The join window around the current or next occurrence: it opens
    ``join_opens_minutes`` before the start and closes at the end."""
    length = timedelta(minutes=session.duration_minutes)
    early = timedelta(minutes=session.join_opens_minutes)
    last = None
    for t in occurrences(session):
        if t - early <= now < t + length:
            return Window(t, t - early, t + length, "open")
        if now < t - early:
            return Window(t, t - early, t + length, "not_yet")
        last = t
    return Window(last, None, last + length if last else None, "over")


@dataclass
class JoinResult:
    url: str
    occurrence: datetime
    moderator: bool


def join(user: User, session: LiveSession, *, now: datetime, callback_url: str = "") -> JoinResult:
    """Let an enrolled student or a teacher of the course into the session during its join
    window; the join is recorded for attendance. Teachers join as moderators."""
    moderator = can(user, "live.manage", session.course)
    if not moderator and not is_participant(user, session):
        raise PermissionDenied(_("Only students enrolled in this course can join its sessions."))
    w = window(session, now)
    if w.state == "not_yet":
        raise Conflict(
            _(
                "This session is not open yet. You can join from %(when)s.",
                when=when(w.opens_at, "short"),
            ),
            slug="session-not-open",
        )
    if w.state == "over":
        raise Conflict(
            _(
                "This session ended at %(when)s; joining is closed. "
                "Look for the recording on the session page.",
                when=when(w.closes_at, "short") if w.closes_at else "",
            ),
            slug="session-over",
        )
    url = provider_join_url(user, session, moderator=moderator, callback_url=callback_url)
    db.session.add(
        AttendanceEvent(
            session_id=session.id,
            user_id=user.id,
            occurrence_at=w.occurrence,
            kind="join",
            source="platform",
            at=now,
        )
    )
    db.session.flush()
    attended.send(session, user=user, occurrence=w.occurrence, at=now, minutes=None)
    return JoinResult(url, w.occurrence, moderator)


def provider_join_url(
    user: User, session: LiveSession, *, moderator: bool, callback_url: str = ""
) -> str:
    if session.provider == "external":
        return session.external_url
    settings = settings_for(session.course.institution)
    name = user.display_name or user.email
    if session.provider == "jitsi":
        return providers.jitsi_url(
            settings.jitsi_domain or "meet.jit.si",
            session.meeting_ref,
            app_id=settings.jitsi_app_id,
            secret=settings.jitsi_secret,
            name=name,
            email=user.email,
            moderator=moderator,
        )
    bbb = providers.BigBlueButton(settings.bbb_url, settings.bbb_secret)
    bbb.create(
        session.meeting_ref,
        session.title(session.source_locale)[0],
        duration=session.duration_minutes + session.join_opens_minutes,
        callback_url=callback_url,
    )
    return bbb.join_url(
        session.meeting_ref, full_name=name, user_id=str(user.id), moderator=moderator
    )


def end_meeting(actor: User, session: LiveSession) -> None:
    """End a BigBlueButton meeting for everyone (teachers only)."""
    require(actor, "live.manage", session.course)
    if session.provider != "bigbluebutton":
        raise Conflict(_("Only BigBlueButton meetings can be ended from here."))
    settings = settings_for(session.course.institution)
    providers.BigBlueButton(settings.bbb_url, settings.bbb_secret).end(session.meeting_ref)
    record(actor, "live.meeting_ended", "live_session", session.id)


def leave(user: User, session: LiveSession, *, now: datetime, source: str = "platform") -> None:
    """Record that a user left the occurrence running now (or that just ended)."""
    w = window(session, now)
    if w.occurrence is None:
        return
    db.session.add(
        AttendanceEvent(
            session_id=session.id,
            user_id=user.id,
            occurrence_at=w.occurrence,
            kind="leave",
            source=source,
            at=now,
        )
    )
    db.session.flush()
