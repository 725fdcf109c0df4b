"""Resumable uploads: chunks to the app (local storage) or parts straight to S3 by presigned
multipart upload. Part of the media domain's public face, beside ``services``: a finished
upload becomes an asset through ``services.ingest_file``."""

from __future__ import annotations

import fcntl
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _
from werkzeug.exceptions import ClientDisconnected

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, field_error
from lms.core.extensions import db
from lms.core.security import require
from lms.core.storage import copy_stream, get_storage
from lms.media.models import MediaAsset, MediaUpload
from lms.media.services import (
    ERRORS,
    clean_filename,
    clean_kind,
    clean_title,
    get_asset,
    ingest_file,
    limit_for,
    too_large_error,
)


def _chunk_size() -> int:
    return int(current_app.config["MEDIA_CHUNK_BYTES"])


def start_upload(
    actor: User, *, kind: str, filename: str, size: int, title: str = ""
) -> MediaUpload:
    """Open a resumable upload. With S3 configured the browser sends parts straight to the
    store (presigned multipart); otherwise it sends chunks to the app."""
    require(actor, "media.upload")
    kind = clean_kind(kind)
    if not isinstance(size, int) or size <= 0:
        raise field_error("size", str(ERRORS["empty"]))
    if size > limit_for(kind):
        raise too_large_error(kind)
    store = get_storage()
    upload = MediaUpload(
        owner_id=actor.id,
        kind=kind,
        title=clean_title(title, filename),
        filename=clean_filename(filename),
        size=size,
        backend="s3" if store.supports_presigned_upload else "local",
        expires_at=utcnow() + timedelta(seconds=int(current_app.config["MEDIA_URL_TTL"])),
    )
    db.session.add(upload)
    db.session.flush()
    if store.supports_presigned_upload:
        upload.staging_key = f"staging/{upload.id}"
        upload.s3_upload_id = store.create_multipart(upload.staging_key, "application/octet-stream")
    else:
        _part_path(upload).touch()
    db.session.flush()
    return upload


def get_upload(actor: User, upload_id: str) -> MediaUpload:
    upload = db.session.get(MediaUpload, upload_id) if len(upload_id or "") <= 32 else None
    if upload is None or upload.owner_id != getattr(actor, "id", None):
        raise NotFound(_("No such upload."))
    return upload


def _part_path(upload: MediaUpload) -> Path:
    return get_storage().scratch_dir("uploads") / f"{upload.id}.part"


def _require_open(upload: MediaUpload) -> None:
    if upload.status != "open":
        raise Conflict(_("This upload is finished."), slug="upload-closed")
    if upload.expires_at < utcnow():
        raise Conflict(_("This upload has expired. Please start again."), slug="upload-expired")


def upload_state(upload: MediaUpload) -> dict[str, Any]:
    """Where a resumable upload stands: bytes received (chunks) or parts stored (S3)."""
    state: dict[str, Any] = {
        "id": upload.id,
        "backend": upload.backend,
        "size": upload.size,
        "chunk_size": _chunk_size(),
        "status": upload.status,
        "asset_id": upload.asset_id,
        "offset": upload.received,
        "parts": [],
    }
    if upload.backend == "s3" and upload.status == "open":
        parts = get_storage().list_parts(upload.staging_key, upload.s3_upload_id)
        state["parts"] = [{"part_number": p.part_number, "size": p.size} for p in parts]
        state["offset"] = sum(p.size for p in parts)
    return state


def receive_chunk(
    actor: User, upload: MediaUpload, *, offset: int, stream: BinaryIO, length: int
) -> int:
    """Append one chunk (chunks to the app). ``offset`` must be where the upload stands; a
    chunk cut off by a dropped connection is discarded whole, so the client resumes from
    the last complete chunk. Returns the new offset."""
    _require_open(upload)
    if upload.backend != "local":
        raise Conflict(_("This upload goes straight to storage."))
    if offset != upload.received:
        raise Conflict(
            _("The upload continues at byte %(offset)s.", offset=upload.received),
            slug="upload-offset",
        )
    if length <= 0 or length > _chunk_size() or offset + length > upload.size:
        raise field_error("chunk", _("This chunk does not fit the upload."))
    path = _part_path(upload)
    if not path.exists():
        raise Conflict(_("This upload has expired. Please start again."), slug="upload-expired")
    with path.open("r+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(_("Another chunk of this upload is arriving.")) from None
        fh.truncate(offset)
        fh.seek(offset)
        try:
            copied = copy_stream(stream, fh, length)
        except (ClientDisconnected, OSError):
            copied = -1
        if copied != length:
            fh.truncate(offset)
            raise field_error("chunk", _("The chunk arrived incomplete. Send it again."))
        fh.flush()
    upload.received = offset + length
    db.session.flush()
    return upload.received


def presign_parts(actor: User, upload: MediaUpload, part_numbers: list[int]) -> list[dict]:
    """Presigned URLs the browser PUTs parts to (S3). Parts are ``chunk_size`` bytes, the
    last one the rest."""
    _require_open(upload)
    if upload.backend != "s3":
        raise Conflict(_("This upload goes to the app in chunks."))
    count = -(-upload.size // _chunk_size())
    if not part_numbers or any(not 1 <= n <= count for n in part_numbers):
        raise field_error("part_numbers", _("This chunk does not fit the upload."))
    ttl = int(current_app.config["MEDIA_URL_TTL"])
    store = get_storage()
    return [
        {
            "part_number": n,
            "url": store.presign_part(upload.staging_key, upload.s3_upload_id, n, ttl),
        }
        for n in sorted(set(part_numbers))
    ]


def complete_upload(actor: User, upload: MediaUpload) -> tuple[MediaAsset, bool]:
    """Finish a resumable upload: check the whole file and make it an asset. Completing an
    upload again returns the same asset; a refused file is removed."""
    if upload.status == "completed" and upload.asset_id:
        return get_asset(upload.asset_id), False
    _require_open(upload)
    store = get_storage()
    if upload.backend == "local":
        path = _part_path(upload)
        if upload.received != upload.size or not path.exists():
            raise Conflict(_("The upload is not complete yet."), slug="upload-incomplete")
        try:
            asset, duplicate = ingest_file(
                actor, path, kind=upload.kind, title=upload.title, filename=upload.filename
            )
        finally:
            path.unlink(missing_ok=True)
    else:
        parts = store.list_parts(upload.staging_key, upload.s3_upload_id)
        if sum(p.size for p in parts) != upload.size:
            raise Conflict(_("The upload is not complete yet."), slug="upload-incomplete")
        store.complete_multipart(upload.staging_key, upload.s3_upload_id, parts)
        local = store.scratch_dir("uploads") / f"{upload.id}.staged"
        try:
            store.download(upload.staging_key, local)
            asset, duplicate = ingest_file(
                actor,
                local,
                kind=upload.kind,
                title=upload.title,
                filename=upload.filename,
                staged_key=upload.staging_key,
            )
        finally:
            local.unlink(missing_ok=True)
            store.delete(upload.staging_key)
    upload.status = "completed"
    upload.asset_id = asset.id
    db.session.flush()
    return asset, duplicate


def abort_upload(actor: User, upload: MediaUpload) -> None:
    """Give up an upload and remove what arrived."""
    if upload.status != "open":
        return
    store = get_storage()
    if upload.backend == "s3":
        store.abort_multipart(upload.staging_key, upload.s3_upload_id)
    else:
        _part_path(upload).unlink(missing_ok=True)
    upload.status = "aborted"
    db.session.flush()
