"""Media assets (videos, documents), their processing jobs, subtitles, resumable uploads and
each viewer's playback state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db

KINDS = ("video", "document")
STATUSES = ("uploaded", "processing", "ready", "failed")
JOB_STATUSES = ("queued", "running", "succeeded", "failed")
DATA_SAVER = ("off", "240p", "audio")


def new_id() -> str:
    return uuid.uuid4().hex


class MediaAsset(db.Model):
    """An uploaded video or document. The original is kept; generated files (HLS ladder,
    poster, thumbnails, MP4 fallback) live under ``output_prefix``, which is set only once
    a complete set has been published."""

    __tablename__ = "media_assets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    original_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    #: sniffed from the bytes: ``video/mp4``, ``video/webm``, ``application/pdf`` …
    mime: Mapped[str] = mapped_column(String(64))
    #: the ffmpeg demuxer chosen from the sniffed type (videos), or ``pdf``
    container: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="uploaded")
    progress: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[str] = mapped_column(String(40), default="")
    duration: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    #: ``{"video": "h264", "audio": "aac"}`` as probed
    codecs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output_prefix: Mapped[str | None] = mapped_column(String(200))
    #: ``[{"name", "height", "width", "bandwidth"}]``; audio-only has height 0
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    thumbnails: Mapped[int] = mapped_column(default=0)
    page_count: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User] = relationship()
    subtitles: Mapped[list[MediaSubtitle]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="MediaSubtitle.lang"
    )
    jobs: Mapped[list[MediaJob]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="MediaJob.id"
    )

    __table_args__ = (
        UniqueConstraint("owner_id", "sha256"),
        CheckConstraint(one_of("kind", KINDS), name="kind_known"),
        CheckConstraint(one_of("status", STATUSES), name="status_known"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
    )

    @property
    def latest_job(self) -> MediaJob | None:
        return self.jobs[-1] if self.jobs else None


class MediaJob(db.Model):
    """One attempt at processing an asset. A job is claimed by one worker at a time (a
    compare-and-set on ``status``/``worker``); a worker that died leaves a stale claim that
    the next attempt may take over."""

    __tablename__ = "media_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[str] = mapped_column(
        ForeignKey("media_assets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[str] = mapped_column(String(40), default="")
    #: technical detail for operators (ffmpeg's last lines); never shown to users
    error_detail: Mapped[str] = mapped_column(String(2000), default="")
    #: ``host:pid`` of the worker holding the claim
    worker: Mapped[str] = mapped_column(String(200), default="")
    runs: Mapped[int] = mapped_column(default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    asset: Mapped[MediaAsset] = relationship(back_populates="jobs")

    __table_args__ = (
        CheckConstraint(one_of("status", JOB_STATUSES), name="status_known"),
        CheckConstraint("kind IN ('transcode', 'document')", name="kind_known"),
    )


class MediaSubtitle(db.Model):
    """A WebVTT subtitle track of a video in one language (SRT uploads are converted)."""

    __tablename__ = "media_subtitles"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[str] = mapped_column(
        ForeignKey("media_assets.id", ondelete="CASCADE"), index=True
    )
    lang: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    source_format: Mapped[str] = mapped_column(String(8))
    cues: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    asset: Mapped[MediaAsset] = relationship(back_populates="subtitles")

    __table_args__ = (
        UniqueConstraint("asset_id", "lang"),
        CheckConstraint("source_format IN ('srt', 'vtt')", name="format_known"),
    )


class MediaUpload(db.Model):
    """A resumable upload in progress: chunks to the app (local backend) or parts straight
    to S3 (presigned multipart). Completing it twice gives the same asset."""

    __tablename__ = "media_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(BigInteger)
    backend: Mapped[str] = mapped_column(String(8))
    #: bytes received so far (chunks to the app)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    staging_key: Mapped[str] = mapped_column(String(200), default="")
    s3_upload_id: Mapped[str] = mapped_column(String(1024), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("media_assets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(one_of("kind", KINDS), name="kind_known"),
        CheckConstraint("backend IN ('local', 's3')", name="backend_known"),
        CheckConstraint("status IN ('open', 'completed', 'aborted')", name="status_known"),
    )


class MediaPreference(db.Model):
    """A viewer's playback preferences (the data saver choice)."""

    __tablename__ = "media_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    data_saver: Mapped[str] = mapped_column(String(8), default="off")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (CheckConstraint(one_of("data_saver", DATA_SAVER), name="data_saver_known"),)


class MediaPosition(db.Model):
    """Where a viewer stopped in a video, to resume there."""

    __tablename__ = "media_positions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[str] = mapped_column(
        ForeignKey("media_assets.id", ondelete="CASCADE"), primary_key=True
    )
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("seconds >= 0", name="seconds_positive"),
        Index("ix_media_positions_asset_id", "asset_id"),
    )
