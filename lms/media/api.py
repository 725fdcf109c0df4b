"""Media API: uploads (whole file, resumable chunks, presigned multipart to S3), processing
status, retry, subtitles and playback state."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from lms.core.api import PageArgs, api_blueprint, auth_required, bearer_user, page_body, page_schema
from lms.core.errors import ValidationError
from lms.core.i18n import LOCALES
from lms.core.pagination import paginate
from lms.media import services, uploads
from lms.media.models import DATA_SAVER, KINDS, STATUSES
from lms.media.urls import Urls

blp = api_blueprint(
    "media_api", __name__, "Media: uploads, processing status, subtitles and playback"
)


@blp.before_request
def _allow_large_uploads() -> None:
    """Whole-file uploads may be as large as the video limit (other requests keep the
    application's limit)."""
    if request.endpoint == "media_api.create_media":
        request.max_content_length = services.limit_for("video") + 1024 * 1024


# ---------------------------------------------------------------------------- schemas


class MediaUploadForm(Schema):
    file = Upload(required=True, metadata={"description": "The video or PDF"})
    kind = fields.String(
        load_default="video",
        validate=validate.OneOf(KINDS),
        metadata={"description": "video or document (a form field of the multipart body)"},
    )
    title = fields.String(
        load_default="", metadata={"description": "Title (a form field of the multipart body)"}
    )


class MediaCreated(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    duplicate = fields.Boolean(
        required=True, metadata={"description": "The same file was uploaded before"}
    )


class RenditionSchema(Schema):
    name = fields.String(required=True, metadata={"description": "720p … 240p, or audio"})
    height = fields.Integer(required=True, metadata={"description": "0 for audio-only"})
    bandwidth = fields.Integer(required=True, metadata={"description": "Peak bits per second"})


class SubtitleSchema(Schema):
    lang = fields.String(required=True)
    url = fields.String(required=True)


class MediaSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    progress = fields.Integer(required=True, metadata={"description": "Percent processed"})
    duration = fields.Float(allow_none=True, metadata={"description": "Seconds"})
    hls_url = fields.String(allow_none=True, metadata={"description": "HLS master playlist"})
    mp4_url = fields.String(allow_none=True, metadata={"description": "Progressive fallback"})
    poster_url = fields.String(allow_none=True)
    document_url = fields.String(allow_none=True)
    renditions = fields.List(fields.Nested(RenditionSchema), required=True)
    subtitles = fields.List(fields.Nested(SubtitleSchema), required=True)
    error = fields.String(
        allow_none=True, metadata={"description": "Why processing failed, translated"}
    )
    created_at = fields.DateTime(required=True, format="iso")


MediaPage = page_schema(MediaSchema, "MediaPage")


class UploadStart(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    filename = fields.String(required=True, validate=validate.Length(max=1000))
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    title = fields.String(load_default="", validate=validate.Length(max=1000))


class PartState(Schema):
    part_number = fields.Integer(required=True)
    size = fields.Integer(required=True)


class UploadState(Schema):
    id = fields.String(required=True)
    backend = fields.String(
        required=True,
        metadata={"enum": ["local", "s3"], "description": "local: PUT chunks; s3: presigned"},
    )
    size = fields.Integer(required=True)
    chunk_size = fields.Integer(required=True, metadata={"description": "Chunk or part size"})
    offset = fields.Integer(required=True, metadata={"description": "Bytes received"})
    parts = fields.List(fields.Nested(PartState), required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "completed", "aborted"]})
    asset_id = fields.String(allow_none=True)


class ChunkArgs(Schema):
    offset = fields.Integer(required=True, validate=validate.Range(min=0))


class OffsetSchema(Schema):
    offset = fields.Integer(required=True)


class PartsRequest(Schema):
    part_numbers = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=10000)),
        required=True,
        validate=validate.Length(min=1, max=100),
    )


class PresignedPart(Schema):
    part_number = fields.Integer(required=True)
    url = fields.String(required=True, metadata={"description": "PUT the part's bytes here"})


class PartsResponse(Schema):
    parts = fields.List(fields.Nested(PresignedPart), required=True)


class SubtitleForm(Schema):
    file = Upload(required=True, metadata={"description": "SRT or WebVTT, UTF-8"})
    lang = fields.String(metadata={"enum": list(LOCALES), "description": "Language (a form field)"})


class PositionSchema(Schema):
    seconds = fields.Float(required=True, validate=validate.Range(min=0))


class PreferenceSchema(Schema):
    data_saver = fields.String(required=True, validate=validate.OneOf(DATA_SAVER))


# ---------------------------------------------------------------------------- endpoints


def _created(asset, duplicate: bool):
    body = {"id": asset.id, "status": asset.status, "duplicate": duplicate}
    return body, (200 if duplicate else 202)


@blp.route("/media", methods=["POST"])
@blp.arguments(MediaUploadForm, location="files")
@blp.response(202, MediaCreated)
@blp.alt_response(200, schema=MediaCreated, description="The same file was uploaded before")
@auth_required
def create_media(args):
    """Upload a whole video or PDF (multipart). Processing starts at once; poll
    ``GET /media/{id}``. Large files: use the resumable ``/media/uploads``."""
    form = request.form
    asset, duplicate = services.upload_stream(
        bearer_user(),
        args["file"].stream,
        kind=form.get("kind", "video"),
        filename=args["file"].filename or "",
        title=form.get("title", ""),
    )
    return _created(asset, duplicate)


@blp.route("/media", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, MediaPage)
@auth_required
def list_media(args):
    """Your own media, newest first."""
    user = bearer_user()
    page = paginate(services.owned_by(user), args["page"], args["per_page"])
    page.items = [services.describe(a, user) for a in page.items]
    return page_body(page)


@blp.route("/media/preferences", methods=["GET"])
@blp.response(200, PreferenceSchema)
@auth_required
def get_preferences():
    """Your playback preferences."""
    return {"data_saver": services.data_saver(bearer_user())}


@blp.route("/media/preferences", methods=["PUT"])
@blp.arguments(PreferenceSchema)
@blp.response(200, PreferenceSchema)
@auth_required
def set_preferences(body):
    """Choose the data saver: ``off``, ``240p`` or ``audio``."""
    return {"data_saver": services.set_data_saver(bearer_user(), body["data_saver"])}


@blp.route("/media/<asset_id>", methods=["GET"])
@blp.response(200, MediaSchema)
@auth_required
def get_media(asset_id):
    """Status, progress and URLs of an asset (URLs are signed and expire)."""
    user = bearer_user()
    return services.describe(services.get_asset_for_viewer(user, asset_id), user)


@blp.route("/media/<asset_id>/retry", methods=["POST"])
@blp.response(202, MediaSchema)
@auth_required
def retry_media(asset_id):
    """Process a failed (or interrupted) asset again."""
    user = bearer_user()
    asset = services.get_asset(asset_id)
    services.retry(user, asset)
    return services.describe(asset, user)


@blp.route("/media/<asset_id>/subtitles", methods=["POST"])
@blp.arguments(SubtitleForm, location="files")
@blp.response(201, SubtitleSchema)
@auth_required
def add_subtitles(args, asset_id):
    """Add or replace the subtitles in one language (SRT is converted to WebVTT)."""
    user = bearer_user()
    asset = services.get_asset(asset_id)
    data = args["file"].stream.read(services.subtitle_limit() + 1)
    sub = services.add_subtitle(user, asset, lang=request.form.get("lang", ""), data=data)
    return {"lang": sub.lang, "url": Urls(asset, user).subtitle(sub.lang)}


@blp.route("/media/<asset_id>/position", methods=["PUT"])
@blp.arguments(PositionSchema)
@blp.response(200, PositionSchema)
@auth_required
def save_position(body, asset_id):
    """Remember where you are in a video."""
    asset = services.get_asset(asset_id)
    return {"seconds": services.save_position(bearer_user(), asset, body["seconds"])}


@blp.route("/media/uploads", methods=["POST"])
@blp.arguments(UploadStart)
@blp.response(201, UploadState)
@auth_required
def start_upload(body):
    """Open a resumable upload. ``backend`` says how to send the bytes: ``local`` — PUT
    chunks of ``chunk_size`` to ``/media/uploads/{id}/chunk?offset=N``; ``s3`` — ask for
    presigned part URLs and PUT the parts straight to storage. Then ``complete``."""
    upload = uploads.start_upload(bearer_user(), **body)
    return uploads.upload_state(upload)


@blp.route("/media/uploads/<upload_id>", methods=["GET"])
@blp.response(200, UploadState)
@auth_required
def upload_state(upload_id):
    """Where an upload stands (resume from ``offset``, or send the missing ``parts``)."""
    return uploads.upload_state(uploads.get_upload(bearer_user(), upload_id))


@blp.route("/media/uploads/<upload_id>", methods=["DELETE"])
@blp.response(204)
@auth_required
def abort_upload(upload_id):
    """Give up an upload."""
    user = bearer_user()
    uploads.abort_upload(user, uploads.get_upload(user, upload_id))


@blp.route("/media/uploads/<upload_id>/chunk", methods=["PUT"])
@blp.arguments(ChunkArgs, location="query")
@blp.response(200, OffsetSchema)
@blp.doc(
    requestBody={
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
)
@auth_required
def upload_chunk(args, upload_id):
    """Send the next chunk (``offset`` = bytes received so far). A chunk cut off by a
    dropped connection is discarded whole: ask for the state and send it again."""
    user = bearer_user()
    upload = uploads.get_upload(user, upload_id)
    offset = uploads.receive_chunk(
        user,
        upload,
        offset=args["offset"],
        stream=request.stream,
        length=request.content_length or 0,
    )
    return {"offset": offset}


@blp.route("/media/uploads/<upload_id>/parts", methods=["POST"])
@blp.arguments(PartsRequest)
@blp.response(200, PartsResponse)
@auth_required
def upload_parts(body, upload_id):
    """Presigned URLs for parts of an S3 upload (part N holds bytes from
    ``(N-1)*chunk_size``)."""
    user = bearer_user()
    upload = uploads.get_upload(user, upload_id)
    return {"parts": uploads.presign_parts(user, upload, body["part_numbers"])}


@blp.route("/media/uploads/<upload_id>/complete", methods=["POST"])
@blp.response(202, MediaCreated)
@blp.alt_response(200, schema=MediaCreated, description="The same file was uploaded before")
@auth_required
def complete_upload(upload_id):
    """Check the whole file and start processing it. Completing again returns the same
    asset."""
    user = bearer_user()
    upload = uploads.get_upload(user, upload_id)
    if upload.status == "aborted":
        raise ValidationError(_("This upload is finished."))
    asset, duplicate = uploads.complete_upload(user, upload)
    return _created(asset, duplicate)
