"""Checking uploaded files and running processing jobs (called by services and tasks).

A file is checked completely before anything is stored: its type sniffed from the bytes,
an MP4's box structure and a PDF's trailer checked for truncation, a video probed by ffmpeg
with the demuxer the sniffing chose. A job claims its row with a compare-and-set, works in a
private folder, publishes the finished set under a new prefix and only then points the
asset at it, so a lesson never shows a half-written ladder."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.core.storage import LocalStorage, get_storage
from lms.media import ffmpeg, sniff, transcode
from lms.media.ffmpeg import FFmpegError
from lms.media.models import MediaAsset, MediaJob

log = logging.getLogger(__name__)

#: a running job whose heartbeat is older than this is taken to be dead
STALE_SECONDS = 90
HEARTBEAT_SECONDS = 1.0
EXTENSIONS = {
    "mp4": "mp4",
    "mov": "mov",
    "matroska": "mkv",
    "avi": "avi",
    "mpegts": "ts",
    "pdf": "pdf",
}


class Rejected(Exception):
    """The file is refused; ``code`` names why (mapped to a translated message)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass
class Checked:
    container: str
    mime: str
    sha256: str
    size: int
    probe: ffmpeg.Probe | None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path, kind: str, limit: int) -> Checked:
    """Everything that decides whether a file is accepted; raises ``Rejected``."""
    size = path.stat().st_size
    if size == 0:
        raise Rejected("empty")
    if size > limit:
        raise Rejected("too_large")
    with path.open("rb") as fh:
        found = sniff.sniff(fh.read(sniff.HEAD_BYTES))
    info = None
    if kind == "video":
        if found.container == "playlist":
            raise Rejected("playlist")
        if not found.is_video:
            raise Rejected("not_video", found.container)
        if found.container in {"mp4", "mov"} and sniff.iso_bmff_truncated(path):
            raise Rejected("corrupt", "box runs past the end of the file")
        try:
            info = ffmpeg.probe(path, found.container)
        except FFmpegError as exc:
            code = exc.code if exc.code in {"not_video", "unsupported_codec"} else "corrupt"
            raise Rejected(code, exc.detail[-500:]) from None
    elif kind == "document":
        if found.container != "pdf":
            raise Rejected("not_pdf", found.container)
        if sniff.pdf_truncated(path):
            raise Rejected("corrupt", "no %%EOF")
    else:
        raise Rejected("kind")
    return Checked(found.container, found.mime, sha256_of(path), size, info)


# ---------------------------------------------------------------------------- claiming


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(job: MediaJob, now=None) -> bool:
    """True when the job's worker is gone: its process no longer exists on this host, or
    it has not beaten its heart for ``STALE_SECONDS``."""
    now = now or utcnow()
    if job.status == "queued":
        return job.created_at < now - timedelta(seconds=STALE_SECONDS)
    if job.status != "running":
        return False
    host, _, pid = job.worker.rpartition(":")
    same_host = host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid()
    if same_host and not _pid_alive(int(pid)):
        return True
    beat = job.heartbeat_at or job.started_at or job.created_at
    return beat < now - timedelta(seconds=STALE_SECONDS)


def claim(job_id: int) -> MediaJob | None:
    """Take the job for this worker, or None when it is finished or another live worker
    holds it (so a redelivered message does no harm)."""
    job = db.session.get(MediaJob, job_id)
    if job is None or job.status in {"succeeded", "failed"}:
        return None
    if job.status == "running" and not is_stale(job):
        return None
    now = utcnow()
    result = db.session.execute(
        update(MediaJob)
        .where(
            MediaJob.id == job.id,
            MediaJob.status == job.status,
            MediaJob.worker == job.worker,
            MediaJob.runs == job.runs,
        )
        .values(
            status="running",
            worker=worker_id(),
            runs=job.runs + 1,
            heartbeat_at=now,
            started_at=now,
            progress=0,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return None
    db.session.refresh(job)
    job.asset.status = "processing"
    job.asset.progress = 0
    job.asset.error_code = ""
    db.session.commit()
    return job


def _finish_failed(job: MediaJob, code: str, detail: str) -> None:
    job.status = "failed"
    job.error_code = code
    job.error_detail = detail[-2000:]
    job.finished_at = utcnow()
    job.asset.status = "failed"
    job.asset.error_code = code
    db.session.commit()
    log.warning("media job %s for %s failed: %s %s", job.id, job.asset_id, code, detail[-300:])


# ---------------------------------------------------------------------------- jobs


def _source(asset: MediaAsset, work: Path) -> Path:
    store = get_storage()
    local = store.local_path(asset.original_key)
    if local is not None:
        return local
    target = work / f"source.{EXTENSIONS.get(asset.container, 'bin')}"
    store.download(asset.original_key, target)
    return target


def run_transcode(job_id: int) -> None:
    """Make the HLS ladder, poster, thumbnails and MP4 fallback of a video and publish them."""
    job = claim(job_id)
    if job is None:
        return
    asset = job.asset
    store = get_storage()
    # what killed runs of this asset's jobs left behind (none of them can be running now)
    for earlier in asset.jobs:
        if earlier.id == job.id or earlier.status != "running":
            for leftover in store.scratch_dir("work").glob(f"{earlier.id}-*"):
                shutil.rmtree(leftover, ignore_errors=True)
    work = store.scratch_dir("work", f"{job.id}-{uuid.uuid4().hex[:8]}")
    try:
        src = _source(asset, work)
        info = ffmpeg.probe(src, asset.container)
        asset.duration = info.duration
        asset.width, asset.height = transcode.display_size(info)
        asset.codecs = {"video": info.video_codec, "audio": info.audio_codec}
        db.session.commit()
        last = [0.0]

        def beat(seconds: float) -> None:
            now = time.monotonic()
            if now - last[0] < HEARTBEAT_SECONDS:
                return
            last[0] = now
            pct = min(99, int(seconds * 100 / info.duration)) if info.duration else 0
            job.progress = asset.progress = max(asset.progress, pct)
            job.heartbeat_at = utcnow()
            db.session.commit()

        out = work / "out"
        out.mkdir()
        result = transcode.transcode(
            src,
            asset.container,
            info,
            out,
            timeout=float(current_app.config["FFMPEG_TIMEOUT"]),
            preset=current_app.config["MEDIA_X264_PRESET"],
            on_progress=beat,
        )
        prefix = f"media/{asset.id}/v/{uuid.uuid4().hex[:12]}"
        store.publish_dir(out, prefix)
    except FFmpegError as exc:
        _finish_failed(job, exc.code, exc.detail)
        return
    except FileNotFoundError as exc:
        _finish_failed(job, "missing_original", str(exc))
        return
    finally:
        shutil.rmtree(work, ignore_errors=True)
    previous = asset.output_prefix
    asset.output_prefix = prefix  # the switch: readers see the old set or the new, whole
    asset.renditions = result["renditions"]
    asset.thumbnails = result["thumbnails"]
    asset.status = "ready"
    asset.progress = 100
    asset.error_code = ""
    asset.ready_at = utcnow()
    job.status = "succeeded"
    job.progress = 100
    job.finished_at = utcnow()
    db.session.commit()
    _sweep(asset.id, keep=prefix, previous=previous)


def _sweep(asset_id: str, *, keep: str, previous: str | None) -> None:
    """Remove what earlier or killed attempts left under the asset's output folder."""
    store = get_storage()
    root = f"media/{asset_id}/v"
    if isinstance(store, LocalStorage):
        base = store.root / root
        for child in base.iterdir() if base.is_dir() else ():
            if f"{root}/{child.name}" != keep:
                shutil.rmtree(child, ignore_errors=True)
        return
    prefixes = {"/".join(k.split("/")[:4]) for k in store.list(root)}
    for prefix in prefixes - {keep}:
        store.delete_prefix(prefix)


def run_document(job_id: int) -> None:
    """Read a PDF through (pypdf): count its pages, refuse encrypted or unreadable ones."""
    job = claim(job_id)
    if job is None:
        return
    asset = job.asset
    store = get_storage()
    work = store.scratch_dir("work", f"{job.id}-{uuid.uuid4().hex[:8]}")
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        src = _source(asset, work)
        try:
            reader = PdfReader(str(src), strict=False)
            if reader.is_encrypted:
                _finish_failed(job, "encrypted", "")
                return
            pages = len(reader.pages)
        except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
            _finish_failed(job, "corrupt", repr(exc))
            return
    except FileNotFoundError as exc:
        _finish_failed(job, "missing_original", str(exc))
        return
    finally:
        shutil.rmtree(work, ignore_errors=True)
    asset.page_count = pages
    asset.status = "ready"
    asset.progress = 100
    asset.ready_at = utcnow()
    job.status = "succeeded"
    job.progress = 100
    job.finished_at = utcnow()
    db.session.commit()
