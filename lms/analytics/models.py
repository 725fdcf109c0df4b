"""Analytics models: xAPI statements (stored with the learning event that produced them,
forwarded to a learning record store when one is configured) and learners' pseudonyms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db

#: the verbs the platform states (short names; the ADL IRIs are in ``lms.analytics.xapi``)
VERBS = (
    "registered",
    "launched",
    "progressed",
    "completed",
    "attempted",
    "passed",
    "failed",
    "attended",
)


class XapiActor(db.Model):
    """The opaque name a learner has in xAPI statements (``actor.account.name``): random,
    stable, and telling nothing about the person (not the e-mail, not the database id)."""

    __tablename__ = "xapi_actors"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class XapiStatement(db.Model):
    """One xAPI 1.0.3 statement. ``id`` is a UUID derived from the event (uuid5), so the same
    event never yields two statements; ``body`` is the statement as exported.

    Forwarding state: ``forwarded_at`` once the LRS accepted it; until then failed tries
    count in ``forward_attempts`` and the next try waits for ``next_attempt_at``."""

    __tablename__ = "xapi_statements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    verb: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    stored: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forward_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (
        CheckConstraint(one_of("verb", VERBS), name="verb_known"),
        Index("ix_xapi_statements_stored", "stored", "id"),
        Index("ix_xapi_statements_course_stored", "course_id", "stored"),
        Index("ix_xapi_statements_pending", "forwarded_at", "next_attempt_at"),
    )
