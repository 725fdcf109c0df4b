"""Offline study API: the idempotent sync endpoint for operations made offline, and a
course's offline manifest (what saving it takes, with sizes)."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields

from lms.catalog import services as catalog
from lms.core.api import api_blueprint, auth_required, bearer_user
from lms.core.db import utcnow
from lms.core.i18n import current_locale
from lms.offline import services, sync

blp = api_blueprint("offline_api", __name__, "Offline study: manifests and sync of offline work")


class OperationResultSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["applied", "duplicate", "rejected"]})
    reason = fields.String(metadata={"description": "Why (translated), for rejected/duplicate"})
    reason_type = fields.String(metadata={"description": "Stable slug of the reason"})
    original_status = fields.String(metadata={"description": "For a duplicate: the outcome then"})
    lesson_id = fields.Integer()
    completed_at = fields.String()
    attempt_id = fields.Integer()
    attempt_status = fields.String()


class SyncResultSchema(Schema):
    results = fields.List(fields.Nested(OperationResultSchema), required=True)


class EntrySchema(Schema):
    url = fields.String(required=True)
    kind = fields.String(required=True)
    bytes = fields.Integer(allow_none=True)
    lesson = fields.String(allow_none=True)


class PlaylistSchema(Schema):
    url = fields.String(required=True)
    body = fields.String(required=True)
    lesson = fields.String()


class ManifestSchema(Schema):
    course = fields.String(required=True)
    title = fields.String(required=True)
    generated_at = fields.String(required=True)
    lessons = fields.Integer(required=True)
    total_bytes = fields.Integer(required=True)
    files = fields.Integer(required=True)
    entries = fields.List(fields.Nested(EntrySchema), required=True)
    playlists = fields.List(fields.Nested(PlaylistSchema), required=True)


@blp.route("/sync", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "content": {"application/json": {"schema": sync.BatchSchema}},
    }
)
@blp.response(200, SyncResultSchema)
@auth_required
def sync_batch():
    """Apply operations made offline, in order.

    Each carries a client-generated UUID; one already processed is answered ``duplicate``
    and changes nothing. The server's rules and clock decide (enrolment, quiz deadlines at
    the time the batch arrives, attempts); a refused operation is ``rejected`` with a
    translated reason. A malformed batch is refused as a whole (400) and changes nothing."""
    operations = sync.parse_batch(request.get_json(silent=True))
    results = sync.apply_batch(bearer_user(), operations, now=utcnow())
    return {"results": [r.as_dict() for r in results]}


@blp.route("/courses/<code>/offline", methods=["GET"])
@blp.response(200, ManifestSchema)
@auth_required
def manifest(code):
    """What saving the course for offline study takes.

    Pages, images, subtitles and the 240p or audio-only rendition of each video, with sizes
    from the stored objects."""
    course = catalog.get_visible_course(bearer_user(), code)
    return services.course_manifest(
        bearer_user(), course, locale=current_locale(), now=utcnow()
    ).as_dict()
