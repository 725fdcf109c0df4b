"""Live sessions, their provider settings, attendance, recordings, calendar feeds, reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Institution, User
from lms.catalog.models import Course
from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db
from lms.core.i18n import pick
from lms.enrolment.models import Cohort

PROVIDERS = ("bigbluebutton", "jitsi", "external")
EVENT_KINDS = ("join", "leave", "present")
EVENT_SOURCES = ("platform", "bigbluebutton", "roll_call")


class LiveSession(db.Model):
    """A live class of a course (or one of its cohorts). ``starts_at`` is the first
    occurrence in UTC; ``timezone`` is the organiser's zone, in which the weekly ``rrule``
    is expanded (so 09:00 stays 09:00 for the organiser across daylight-saving changes)."""

    __tablename__ = "live_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: ``{locale: title}`` read along the fallback chain from ``source_locale``
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    source_locale: Mapped[str] = mapped_column(String(16), default="zh_Hans")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    #: RFC 5545 RRULE value (without the ``RRULE:`` prefix), or ""
    rrule: Mapped[str] = mapped_column(String(300), default="")
    #: cancelled occurrences, as local ISO dates (``2027-03-08``)
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: end of the last occurrence, in UTC (for overlap and feed queries)
    last_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    instruction_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    interpretation_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    provider: Mapped[str] = mapped_column(String(16))
    #: BigBlueButton meeting id or Jitsi room name (never secret)
    meeting_ref: Mapped[str] = mapped_column(String(120), default="")
    external_url: Mapped[str] = mapped_column(String(500), default="")
    join_opens_minutes: Mapped[int] = mapped_column(Integer, default=15)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship()
    cohort: Mapped[Cohort | None] = relationship()
    organiser: Mapped[User] = relationship()
    recordings: Mapped[list[LiveRecording]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="LiveRecording.id"
    )

    __table_args__ = (
        CheckConstraint(one_of("provider", PROVIDERS), name="provider_known"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 720", name="duration_range"),
        CheckConstraint("join_opens_minutes BETWEEN 0 AND 120", name="window_range"),
    )

    def title(self, locale: str) -> tuple[str, str | None]:
        return pick(self.titles, locale, self.source_locale)


class ProviderSettings(db.Model):
    """An institution's BigBlueButton server and Jitsi settings. The secrets are only ever
    read by the provider module; no page or API response contains them."""

    __tablename__ = "live_provider_settings"

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True
    )
    bbb_url: Mapped[str] = mapped_column(String(300), default="")
    bbb_secret: Mapped[str] = mapped_column(String(200), default="")
    jitsi_domain: Mapped[str] = mapped_column(String(200), default="meet.jit.si")
    jitsi_app_id: Mapped[str] = mapped_column(String(100), default="")
    jitsi_secret: Mapped[str] = mapped_column(String(200), default="")

    institution: Mapped[Institution] = relationship()


class AttendanceEvent(db.Model):
    """One join, leave, or roll-call mark of a user in one occurrence of a session."""

    __tablename__ = "live_attendance_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    occurrence_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: roll call only: the minutes the teacher records as attended
    minutes: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        CheckConstraint(one_of("kind", EVENT_KINDS), name="kind_known"),
        CheckConstraint(one_of("source", EVENT_SOURCES), name="source_known"),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_positive"),
        Index("ix_live_attendance_session_occurrence", "session_id", "occurrence_at"),
    )


class LiveRecording(db.Model):
    """A recording of a session: a provider URL or a media asset (linked by id only)."""

    __tablename__ = "live_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    occurrence_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    url: Mapped[str] = mapped_column(String(500), default="")
    #: a ``MediaAsset`` id of the media domain (linked by id only)
    media_asset_id: Mapped[str | None] = mapped_column(String(32), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[LiveSession] = relationship(back_populates="recordings")

    __table_args__ = (
        CheckConstraint(
            "(url != '' AND media_asset_id IS NULL) OR (url = '' AND media_asset_id IS NOT NULL)",
            name="one_source",
        ),
    )


class CalendarFeed(db.Model):
    """A user's secret iCalendar feed address (the token is the whole credential)."""

    __tablename__ = "live_calendar_feeds"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderSent(db.Model):
    """A reminder was queued for this user and occurrence (so it is sent once)."""

    __tablename__ = "live_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    occurrence_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("session_id", "user_id", "occurrence_at"),)


def describe(session: LiveSession) -> dict[str, Any]:
    """A JSON-safe summary of a session for audit events."""
    return {
        "course": session.course.code if session.course else None,
        "starts_at": session.starts_at.isoformat() if session.starts_at else None,
        "timezone": session.timezone,
        "duration_minutes": session.duration_minutes,
        "rrule": session.rrule,
        "exdates": list(session.exdates or []),
        "provider": session.provider,
    }
