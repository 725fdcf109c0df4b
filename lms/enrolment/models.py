"""Enrolments, cohorts, course mutual-selection agreements, seats and learning progress."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Institution, User
from lms.catalog.models import Course, Lesson
from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db

MODES = ("open", "approval", "invitation", "closed")
AUDIENCES = ("institution", "public")
STATUSES = ("pending", "enrolled", "waitlisted", "withdrawn", "rejected", "completed", "failed")
#: statuses that hold a seat
SEATED = ("enrolled", "completed", "failed")


class EnrolmentPolicy(db.Model):
    """How a course admits students, and when it counts as completed."""

    __tablename__ = "enrolment_policies"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(16), default="open")
    #: who may enrol directly: the institution's own students, or any registered learner
    audience: Mapped[str] = mapped_column(String(16), default="institution")
    invitation_code_hash: Mapped[str] = mapped_column(String(128), default="")
    #: completion: every required lesson done …
    require_lessons: Mapped[bool] = mapped_column(Boolean, default=True)
    #: … every graded assessment passed (the assessment domain answers) …
    require_assessments: Mapped[bool] = mapped_column(Boolean, default=False)
    #: … and at least this share of live-session time attended (the live domain answers)
    min_attendance_percent: Mapped[int | None] = mapped_column(Integer)

    course: Mapped[Course] = relationship()

    __table_args__ = (
        CheckConstraint(one_of("mode", MODES), name="mode_known"),
        CheckConstraint(one_of("audience", AUDIENCES), name="audience_known"),
        CheckConstraint(
            "min_attendance_percent IS NULL OR min_attendance_percent BETWEEN 0 AND 100",
            name="attendance_range",
        ),
    )


cohort_teachers = Table(
    "cohort_teachers",
    db.metadata,
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Cohort(db.Model):
    """A class (班级) of a course with its own teachers, dates and capacity."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)

    course: Mapped[Course] = relationship()
    teachers: Mapped[list[User]] = relationship(secondary=cohort_teachers, order_by=User.id)

    __table_args__ = (UniqueConstraint("course_id", "name"),)


class SeatPool(db.Model):
    """Seats taken in a course (``scope`` "course") or one of its cohorts ("cohort:<id>").
    ``taken`` changes only by a conditional UPDATE against the current capacity (the
    course's or the cohort's), so concurrent requests never oversell."""

    __tablename__ = "seat_pools"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(32))
    taken: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("course_id", "scope"),
        CheckConstraint("taken >= 0", name="taken_positive"),
    )


selection_courses = Table(
    "selection_agreement_courses",
    db.metadata,
    Column(
        "agreement_id", ForeignKey("selection_agreements.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
)


class SelectionAgreement(db.Model):
    """Course mutual selection (课程互选): students of ``partner`` may enrol in the listed
    courses of ``host`` during ``term``, up to ``quota`` seats."""

    __tablename__ = "selection_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    term: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    quota: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    host: Mapped[Institution] = relationship(foreign_keys=[host_id])
    partner: Mapped[Institution] = relationship(foreign_keys=[partner_id])
    courses: Mapped[list[Course]] = relationship(secondary=selection_courses, order_by=Course.code)

    __table_args__ = (
        UniqueConstraint("host_id", "partner_id", "term"),
        CheckConstraint("host_id != partner_id", name="two_institutions"),
        CheckConstraint("quota >= 0 AND taken >= 0 AND taken <= quota", name="within_quota"),
        CheckConstraint("valid_to >= valid_from", name="valid_range"),
    )


class Enrolment(db.Model):
    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="direct")
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("selection_agreements.id", ondelete="SET NULL"), index=True
    )
    #: whether this enrolment holds a course seat and (through an agreement) a quota seat
    holds_seat: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the waitlist is served in this order
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(1000), default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    learning_seconds: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    student: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
    cohort: Mapped[Cohort | None] = relationship()
    agreement: Mapped[SelectionAgreement | None] = relationship()

    __table_args__ = (
        UniqueConstraint("student_id", "course_id"),
        CheckConstraint(one_of("status", STATUSES), name="status_known"),
        CheckConstraint(one_of("source", ("direct", "agreement")), name="source_known"),
        Index("ix_enrolments_waitlist", "course_id", "status", "waitlisted_at"),
    )


class LessonProgress(db.Model):
    """One student's progress in one lesson. ``watched`` holds the merged intervals of video
    actually played, ``[[start, end], …]`` in seconds, so seeking ahead adds nothing."""

    __tablename__ = "lesson_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    position: Mapped[int] = mapped_column(Integer, default=0)
    seconds_watched: Mapped[int] = mapped_column(Integer, default=0)
    watched: Mapped[list[Any]] = mapped_column(JSON, default=list)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    lesson: Mapped[Lesson] = relationship()

    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id"),)
