"""Signing keys of institutions and the status lists that revoke credentials.

Transcripts themselves (snapshot, versions, the signed credential) arrive with issuance;
these tables are what the signing and verification core needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Institution, User
from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db

#: W3C Bitstring Status List v1.0 §2.1: at least 16 KiB of bits, for group privacy
MIN_LIST_BITS = 131_072
STATUS_PURPOSES = ("revocation",)


class IssuerKey(db.Model):
    """One Ed25519 signing key of an institution, published in its DID document as
    ``<did>#<fragment>``. The private part is stored encrypted (AES-256-GCM under a key
    derived from ``LMS_KEY_ENCRYPTION_KEY``, bound to this row's institution and fragment).
    Retired keys stay published, so the credentials they signed still verify; at most one
    key per institution is active."""

    __tablename__ = "issuer_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    fragment: Mapped[str] = mapped_column(String(64))
    public_multikey: Mapped[str] = mapped_column(String(64), unique=True)
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship()

    __table_args__ = (
        UniqueConstraint("institution_id", "fragment"),
        Index(
            "uq_issuer_keys_one_active",
            "institution_id",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def __repr__(self) -> str:
        return f"<IssuerKey {self.institution_id}#{self.fragment}>"


class StatusList(db.Model):
    """A W3C Bitstring Status List of one institution, served signed at
    ``/institutions/<slug>/status/<public_id>``. Its bits are the entries' states; the
    signed list credential is kept with it and re-signed whenever a bit changes."""

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16), default="revocation")
    size: Mapped[int] = mapped_column(Integer, default=MIN_LIST_BITS)
    #: the signed BitstringStatusListCredential, re-signed at every change (JSON text as
    #: signed): serving and verifying it need no private key
    signed_credential: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()

    __table_args__ = (
        CheckConstraint(
            one_of("purpose", STATUS_PURPOSES),
            name="purpose_known",
        ),
        CheckConstraint(f"size >= {MIN_LIST_BITS}", name="size_min"),
    )


class StatusListEntry(db.Model):
    """The index one credential holds in a status list; its bit is set when ``set_at`` is.
    Indexes are drawn at random (the spec's advice against correlation) and never reused."""

    __tablename__ = "status_list_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id", ondelete="RESTRICT"))
    bit_index: Mapped[int] = mapped_column(Integer)
    credential_id: Mapped[str] = mapped_column(String(200), unique=True)
    allocated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    status_list: Mapped[StatusList] = relationship()

    __table_args__ = (
        UniqueConstraint("status_list_id", "bit_index"),
        CheckConstraint("bit_index >= 0", name="index_positive"),
    )


TRANSCRIPT_STATUSES = ("valid", "revoked", "superseded")


class Transcript(db.Model):
    """One issued version of a student's transcript at an institution: the frozen snapshot
    it was built from, the signed ``ClrCredential`` exactly as issued, and the short code
    that leads a reader of the printed copy to verification. A re-issue is a new row with
    ``version + 1`` that ``supersedes`` the previous one; the content is never changed, only
    ``status`` moves (valid → superseded or revoked)."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcripts.id", ondelete="RESTRICT"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="valid")
    credential_id: Mapped[str] = mapped_column(String(200), unique=True)
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    snapshot: Mapped[dict] = mapped_column(JSON)
    signed_credential: Mapped[str] = mapped_column(Text)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str] = mapped_column(String(1000), default="")

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    institution: Mapped[Institution] = relationship()
    supersedes: Mapped[Transcript | None] = relationship(remote_side=[id])

    __table_args__ = (
        UniqueConstraint("student_id", "institution_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            one_of("status", TRANSCRIPT_STATUSES),
            name="status_known",
        ),
    )

    def __repr__(self) -> str:
        return f"<Transcript {self.public_id} v{self.version} {self.status}>"
