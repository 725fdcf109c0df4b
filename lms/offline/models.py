"""Operations made offline and sent later: each is remembered by its client-generated id, so
sending the same batch again changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db

#: what a client may do offline and send later
OPERATION_KINDS = ("lesson.complete", "quiz.answer", "quiz.submit")
OUTCOMES = ("applied", "rejected")


class SyncOperation(db.Model):
    """One processed offline operation and what came of it. The unique (user, operation id)
    pair makes a replay — the same batch sent twice, or by two tabs at once — a no-op."""

    __tablename__ = "sync_operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the client's UUID for the operation (canonical lower-case form)
    operation_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(16))
    #: for a rejection: the problem slug and the message as the student read it
    reason_slug: Mapped[str] = mapped_column(String(60), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "operation_id"),
        CheckConstraint(one_of("kind", OPERATION_KINDS), name="kind_known"),
        CheckConstraint(one_of("outcome", OUTCOMES), name="outcome_known"),
    )
