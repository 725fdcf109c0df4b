"""Media: uploads, storage objects, processing, subtitles and playback state.

The public face of the media domain. Higher domains (the catalogue's video and document
lessons, enrolment progress) call these functions; they never touch the models. A higher
domain that lets people see an asset (a lesson they may open) says so through
``register_view_check``."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.core import jobs, text
from lms.core.audit import record
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, ValidationError, field_error
from lms.core.extensions import db
from lms.core.i18n import LANGUAGES
from lms.core.security import can, require
from lms.core.storage import LocalStorage, copy_stream, get_storage
from lms.media import processing, subtitles, tasks
from lms.media.models import (
    DATA_SAVER,
    KINDS,
    MediaAsset,
    MediaJob,
    MediaPosition,
    MediaPreference,
    MediaSubtitle,
)
from lms.media.processing import Rejected
from lms.media.urls import Urls

# ---------------------------------------------------------------------------- view checks

ViewCheck = Callable[[Any, MediaAsset], bool]
_VIEW_CHECKS: list[ViewCheck] = []


def register_view_check(fn: ViewCheck) -> ViewCheck:
    """Let a higher domain vouch for viewers: ``fn(user, asset) -> bool`` (``user`` may be
    None for anonymous visitors). The catalogue registers "used in a lesson this user may
    open". Usable as a decorator."""
    if fn not in _VIEW_CHECKS:
        _VIEW_CHECKS.append(fn)
    return fn


def vouched(user: Any, asset: MediaAsset) -> bool:
    return any(check(user, asset) for check in _VIEW_CHECKS)


# ---------------------------------------------------------------------------- messages

ERRORS = {
    "empty": _l("The file is empty."),
    "too_large": _l("The file is too large."),
    "not_video": _l("This file is not a video. Upload an MP4, WebM, MKV, MOV or AVI file."),
    "playlist": _l("Playlists cannot be uploaded. Upload the video file itself."),
    "corrupt": _l("The file is damaged or incomplete. Export it again and upload it once more."),
    "unsupported_codec": _l(
        "The video uses a format we cannot convert. Export it as an H.264 MP4 and upload it again."
    ),
    "not_pdf": _l("Only PDF documents can be uploaded."),
    "encrypted": _l("The PDF is password-protected. Upload a copy without a password."),
    "timeout": _l("Converting took too long and was stopped. Retry, or upload a shorter video."),
    "interrupted": _l("Processing stopped unexpectedly. Retry to start it again."),
    "missing_original": _l("The uploaded file is missing. Please upload it again."),
    "failed": _l("Converting the video failed. Retry, or upload the file again."),
    "kind": _l("Choose whether this is a video or a document."),
}
STATUS_LABELS = {
    "uploaded": _l("Uploaded"),
    "processing": _l("Processing"),
    "ready": _l("Ready"),
    "failed": _l("Failed"),
}
KIND_LABELS = {"video": _l("Video"), "document": _l("Document (PDF)")}
DATA_SAVER_LABELS = {
    "off": _l("Best quality for my connection"),
    "240p": _l("Data saver: 240p video"),
    "audio": _l("Data saver: audio only"),
}


def error_message(code: str) -> str:
    """The translated explanation of a failure code ('' when there is none)."""
    if not code:
        return ""
    return str(ERRORS.get(code, ERRORS["failed"]))


def limit_for(kind: str) -> int:
    cfg = current_app.config
    if kind == "video":
        return int(cfg["MEDIA_MAX_VIDEO_MB"]) * 1024 * 1024
    return int(cfg["MEDIA_MAX_DOCUMENT_MB"]) * 1024 * 1024


def too_large_error(kind: str) -> ValidationError:
    limit = limit_for(kind) // (1024 * 1024)
    return field_error(
        "file", _("The file is too large: the limit is %(limit)s MiB.", limit=f"{limit:,}")
    )


def _rejection(exc: Rejected, kind: str) -> ValidationError:
    if exc.code == "too_large":
        return too_large_error(kind)
    return field_error("file", error_message(exc.code))


# ---------------------------------------------------------------------------- assets


def get_asset(asset_id: str) -> MediaAsset:
    asset = db.session.get(MediaAsset, asset_id) if asset_id and len(asset_id) <= 32 else None
    if asset is None:
        raise NotFound(_("No such media file."))
    return asset


def get_asset_for_viewer(viewer: Any, asset_id: str) -> MediaAsset:
    """The asset, if ``viewer`` may see it (404 when missing, 403/401 when not allowed)."""
    asset = get_asset(asset_id)
    require(viewer, "media.view", asset)
    return asset


def owned_by(user: User) -> Select:
    """The user's own assets, newest first (a statement, for pagination)."""
    return (
        select(MediaAsset)
        .filter_by(owner_id=user.id)
        .order_by(MediaAsset.created_at.desc(), MediaAsset.id)
    )


def clean_title(title: str, filename: str) -> str:
    value = text.display(title or "") or text.display(Path(filename or "").stem)
    return text.truncate(value, 200) or _("Untitled")


def clean_filename(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return text.truncate(text.display(name), 255)


def clean_kind(kind: str) -> str:
    if kind not in KINDS:
        raise field_error("kind", str(ERRORS["kind"]))
    return kind


def ingest_file(
    actor: User,
    path: Path,
    *,
    kind: str,
    title: str = "",
    filename: str = "",
    staged_key: str | None = None,
    start: bool = True,
) -> tuple[MediaAsset, bool]:
    """Accept a complete file as a new asset and start its processing.

    The file is checked completely first (type from the bytes, truncation, ffmpeg probe);
    a refused file leaves nothing behind. The same bytes uploaded again by the same person
    give back the earlier asset (``duplicate`` True) and store nothing. The storage key is
    chosen here, never taken from the file name."""
    require(actor, "media.upload")
    kind = clean_kind(kind)
    try:
        checked = processing.check_file(path, kind, limit_for(kind))
    except Rejected as exc:
        raise _rejection(exc, kind) from None
    existing = db.session.scalar(
        select(MediaAsset).filter_by(owner_id=actor.id, sha256=checked.sha256)
    )
    if existing is not None:
        return existing, True
    asset = MediaAsset(
        owner_id=actor.id,
        kind=kind,
        title=clean_title(title, filename),
        original_filename=clean_filename(filename),
        size=checked.size,
        sha256=checked.sha256,
        mime=checked.mime,
        container=checked.container,
        status="processing",
        original_key="",
    )
    if checked.probe is not None:
        asset.duration = checked.probe.duration
    try:
        with db.session.begin_nested():
            db.session.add(asset)
            db.session.flush()
    except IntegrityError:  # the same bytes completed twice at once
        again = db.session.scalar(
            select(MediaAsset).filter_by(owner_id=actor.id, sha256=checked.sha256)
        )
        if again is None:
            raise
        return again, True
    asset.original_key = f"media/{asset.id}/original.{processing.EXTENSIONS[checked.container]}"
    store = get_storage()
    if staged_key:
        store.copy(staged_key, asset.original_key)
    elif isinstance(store, LocalStorage):
        store.move_in(asset.original_key, path)
    else:
        store.put_file(asset.original_key, path, checked.mime)
    job = MediaJob(asset=asset, kind="transcode" if kind == "video" else "document")
    db.session.add(job)
    record(
        actor,
        "media.uploaded",
        "media_asset",
        asset.id,
        after={"kind": kind, "size": checked.size, "sha256": checked.sha256},
    )
    db.session.flush()
    if start:  # False: only registered, processed later (``lms media process``)
        _start(job)
    return asset, False


def _start(job: MediaJob) -> None:
    jobs.enqueue(tasks.transcode if job.kind == "transcode" else tasks.document, job.id)


def upload_stream(
    actor: User, stream: BinaryIO, *, kind: str, filename: str, title: str = ""
) -> tuple[MediaAsset, bool]:
    """A whole file in one request (the plain form and ``POST /api/v1/media``)."""
    require(actor, "media.upload")
    kind = clean_kind(kind)
    limit = limit_for(kind)
    tmp = get_storage().scratch_dir("uploads") / f"direct-{uuid.uuid4().hex}"
    try:
        with tmp.open("wb") as fh:
            if copy_stream(stream, fh, limit) > limit:
                raise too_large_error(kind)
        return ingest_file(actor, tmp, kind=kind, title=title, filename=filename)
    finally:
        tmp.unlink(missing_ok=True)


def retry(actor: User, asset: MediaAsset) -> MediaJob:
    """Start processing again: after a failure, or when the worker running it died. A job
    that is alive is not started twice."""
    require(actor, "media.manage", asset)
    latest = asset.latest_job
    if asset.status == "ready" and latest is not None and latest.status == "succeeded":
        raise Conflict(_("This file is ready; there is nothing to retry."))
    if latest is not None and latest.status in {"queued", "running"}:
        if not processing.is_stale(latest):
            raise Conflict(_("This file is being processed already."))
        latest.status = "failed"
        latest.error_code = "interrupted"
        latest.finished_at = utcnow()
    job = MediaJob(asset=asset, kind="transcode" if asset.kind == "video" else "document")
    db.session.add(job)
    asset.status = "processing"
    asset.progress = 0
    asset.error_code = ""
    record(actor, "media.retried", "media_asset", asset.id, reason=asset.error_code)
    db.session.flush()
    _start(job)
    return job


def is_interrupted(asset: MediaAsset) -> bool:
    """Processing whose worker died: the teacher may retry it."""
    job = asset.latest_job
    return asset.status == "processing" and job is not None and processing.is_stale(job)


def describe(asset: MediaAsset, viewer: Any) -> dict[str, Any]:
    """What the API and the status poller show about an asset."""
    urls = Urls(asset, viewer)
    error = error_message(asset.error_code) if asset.status == "failed" else ""
    if not error and is_interrupted(asset):
        error = error_message("interrupted")
    return {
        "id": asset.id,
        "kind": asset.kind,
        "title": asset.title,
        "status": asset.status,
        "progress": asset.progress,
        "duration": asset.duration,
        "hls_url": urls.hls(),
        "mp4_url": urls.mp4(),
        "poster_url": urls.poster(),
        "document_url": urls.document(),
        "renditions": [
            {"name": r["name"], "height": r["height"], "bandwidth": r["bandwidth"]}
            for r in asset.renditions or []
        ],
        "subtitles": [{"lang": s.lang, "url": urls.subtitle(s.lang)} for s in asset.subtitles],
        "error": error or None,
        "created_at": asset.created_at,
    }


# ---------------------------------------------------------------------------- subtitles


def subtitle_languages() -> list[tuple[str, str]]:
    return [(code, name) for code, (name, _tag) in LANGUAGES.items()]


def add_subtitle(actor: User, asset: MediaAsset, *, lang: str, data: bytes) -> MediaSubtitle:
    """Add or replace the subtitles of a video in one language. SRT is converted to
    WebVTT; cue text keeps only bold, italic and underline."""
    require(actor, "media.manage", asset)
    if asset.kind != "video":
        raise ValidationError(_("Only videos have subtitles."))
    if lang not in LANGUAGES:
        raise field_error("lang", _("Please choose one of the offered languages."))
    limit = int(current_app.config["MEDIA_MAX_SUBTITLE_KB"]) * 1024
    if len(data) > limit:
        raise field_error(
            "file",
            _("The file is too large: the limit is %(limit)s KiB.", limit=f"{limit // 1024:,}"),
        )
    try:
        vtt, fmt, cues = subtitles.convert(data)
    except subtitles.SubtitleError as exc:
        messages = {
            "encoding": _("Subtitles must be saved as UTF-8 text."),
            "empty": _("The subtitle file contains no subtitles."),
        }
        message = messages.get(exc.reason) or _(
            "This is not a valid SRT or WebVTT file (line %(line)d).", line=exc.line
        )
        raise field_error("file", message) from None
    body = vtt.encode("utf-8")
    key = f"media/{asset.id}/subtitles/{lang}-{hashlib.sha256(body).hexdigest()[:12]}.vtt"
    get_storage().put_bytes(key, body, "text/vtt; charset=utf-8")
    sub = db.session.scalar(select(MediaSubtitle).filter_by(asset_id=asset.id, lang=lang))
    if sub is None:
        sub = MediaSubtitle(asset=asset, lang=lang, key=key, source_format=fmt, cues=cues)
        db.session.add(sub)
    else:
        sub.key, sub.source_format, sub.cues, sub.created_at = key, fmt, cues, utcnow()
    record(actor, "media.subtitles_added", "media_asset", asset.id, after={"lang": lang})
    db.session.flush()
    return sub


def remove_subtitle(actor: User, asset: MediaAsset, lang: str) -> None:
    require(actor, "media.manage", asset)
    sub = db.session.scalar(select(MediaSubtitle).filter_by(asset_id=asset.id, lang=lang))
    if sub is None:
        raise NotFound()
    asset.subtitles.remove(sub)
    record(actor, "media.subtitles_removed", "media_asset", asset.id, before={"lang": lang})
    db.session.flush()


def subtitle(asset: MediaAsset, lang: str) -> MediaSubtitle:
    for sub in asset.subtitles:
        if sub.lang == lang:
            return sub
    raise NotFound()


# ---------------------------------------------------------------------------- playback


def data_saver(user: Any) -> str:
    """The viewer's data saver choice (``off``, ``240p``, ``audio``)."""
    if not getattr(user, "is_authenticated", False):
        return "off"
    pref = db.session.get(MediaPreference, user.id)
    return pref.data_saver if pref else "off"


def set_data_saver(user: User, value: str) -> str:
    """Remember the viewer's data saver choice."""
    if value not in DATA_SAVER:
        raise field_error("data_saver", _("This value is not allowed."))
    pref = db.session.get(MediaPreference, user.id)
    if pref is None:
        db.session.add(MediaPreference(user_id=user.id, data_saver=value))
    else:
        pref.data_saver = value
    db.session.flush()
    return value


def save_position(viewer: User, asset: MediaAsset, seconds: float) -> float:
    """Remember where the viewer is in a video (to resume there)."""
    require(viewer, "media.view", asset)
    try:
        seconds = float(seconds)
    except (TypeError, ValueError):
        raise field_error("seconds", _("Please enter a number.")) from None
    if seconds != seconds or seconds < 0:  # NaN or negative
        raise field_error("seconds", _("This value is out of range."))
    if asset.duration:
        seconds = min(seconds, asset.duration)
    row = db.session.get(MediaPosition, (viewer.id, asset.id))
    if row is None:
        db.session.add(MediaPosition(user_id=viewer.id, asset_id=asset.id, seconds=seconds))
    else:
        row.seconds = seconds
    db.session.flush()
    return seconds


def position(user: Any, asset: MediaAsset) -> float:
    """Where ``user`` stopped in ``asset`` (0 when never watched). For progress tracking."""
    if not getattr(user, "is_authenticated", False):
        return 0.0
    row = db.session.get(MediaPosition, (user.id, asset.id))
    return row.seconds if row else 0.0


def player_context(viewer: Any, asset: MediaAsset) -> dict[str, Any]:
    """Everything the player needs for one viewer (``media/_player.html``); checks that the
    viewer may see the asset."""
    require(viewer, "media.view", asset)
    urls = Urls(asset, viewer)
    saver = data_saver(viewer)
    lowest = min(
        (r for r in asset.renditions or [] if r["height"]), key=lambda r: r["height"], default=None
    )
    has_audio_only = any(r["name"] == "audio" for r in asset.renditions or [])
    if saver == "audio" and has_audio_only:
        source = urls.variant("audio")
    elif saver in {"240p", "audio"} and lowest is not None:
        source = urls.variant(lowest["name"])
    else:
        source = urls.hls()
    start = position(viewer, asset)
    if asset.duration and start >= asset.duration - 3:
        start = 0.0  # finished last time: start again from the beginning
    return {
        "asset": asset,
        "ready": asset.kind == "video" and bool(asset.output_prefix),
        "hls": source,
        "master": urls.hls(),
        "mp4": urls.mp4(),
        "poster": urls.poster() if saver != "audio" else None,
        "thumbnails": urls.thumbnails(),
        "audio_only": saver == "audio" and has_audio_only,
        "data_saver": saver,
        "start": round(start, 1),
        "can_save": getattr(viewer, "is_authenticated", False),
        "subtitles": [
            {
                "lang": s.lang,
                "tag": LANGUAGES[s.lang][1],
                "label": LANGUAGES[s.lang][0],
                "url": urls.subtitle(s.lang),
            }
            for s in asset.subtitles
        ],
    }


def may_view(user: Any, asset: MediaAsset) -> bool:
    return can(user, "media.view", asset)


def subtitle_limit() -> int:
    return int(current_app.config["MEDIA_MAX_SUBTITLE_KB"]) * 1024
