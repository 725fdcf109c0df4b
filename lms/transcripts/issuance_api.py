"""Transcripts API for registrars: issue, re-issue, read, download (JSON and PDF), revoke.
Students read their own transcripts."""

from __future__ import annotations

from flask import Response
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms.accounts import services as accounts
from lms.core.api import api_blueprint, auth_required, bearer_user
from lms.core.errors import NotFound
from lms.transcripts import issuance, pdf
from lms.transcripts.models import TRANSCRIPT_STATUSES, Transcript

blp = api_blueprint(
    "transcripts_issuance_api", __name__, "Transcripts: issuance, re-issue and revocation"
)


class TranscriptSchema(Schema):
    id = fields.String(attribute="public_id", required=True)
    student = fields.Function(lambda t: t.student.email, required=True)
    institution = fields.Function(lambda t: t.institution.slug, required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(TRANSCRIPT_STATUSES)})
    supersedes = fields.Function(lambda t: t.supersedes.public_id if t.supersedes else None)
    credential_id = fields.String(required=True)
    verification_code = fields.Function(
        lambda t: issuance.format_code(t.verification_code), required=True
    )
    verification_url = fields.Function(pdf.verification_url, required=True)
    issued_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True)
    snapshot = fields.Dict(required=True, metadata={"description": "What was frozen and signed"})


class TranscriptList(Schema):
    items = fields.List(fields.Nested(TranscriptSchema), required=True)


class IssueSchema(Schema):
    student = fields.Email(required=True, metadata={"description": "The student's e-mail"})
    institution = fields.String(
        metadata={"description": "Issuing institution (default: the student's)"}
    )


class RevokeSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


def _readable(transcript: Transcript) -> Transcript:
    return issuance.readable(bearer_user(), transcript)


@blp.route("/transcripts", methods=["POST"])
@blp.arguments(IssueSchema)
@blp.response(201, TranscriptSchema)
@auth_required
def issue_transcript(body):
    """Issue or re-issue a student's transcript (registrars and administrators of the
    issuing institution); the previous version becomes `superseded`."""
    student = accounts.find_user_by_email(body["student"])
    if student is None:
        raise NotFound(_("No user with this e-mail address."))
    institution = (
        accounts.get_institution(body["institution"])
        if body.get("institution")
        else issuance.default_institution(student)
    )
    return issuance.issue(bearer_user(), student, institution)


@blp.route("/transcripts", methods=["GET"])
@blp.response(200, TranscriptList)
@auth_required
def my_transcripts():
    """Your own transcripts, every version."""
    return {"items": issuance.transcripts_of(bearer_user())}


@blp.route("/transcripts/<transcript_id>", methods=["GET"])
@blp.response(200, TranscriptSchema)
@auth_required
def get_transcript(transcript_id):
    """One transcript (the student, or the issuing institution's registrars)."""
    return _readable(issuance.get(transcript_id))


@blp.route("/transcripts/<transcript_id>/credential", methods=["GET"])
@blp.response(200, {"type": "object"}, content_type="application/vc")
@auth_required
def get_credential(transcript_id):
    """The signed ClrCredential exactly as issued."""
    transcript = _readable(issuance.get(transcript_id))
    return Response(transcript.signed_credential, mimetype="application/vc")


@blp.route("/transcripts/<transcript_id>/pdf", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf")
@auth_required
def get_pdf(transcript_id):
    """The printable transcript (bilingual, with a QR code leading to verification)."""
    transcript = _readable(issuance.get(transcript_id))
    resp = Response(pdf.render(transcript), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="transcript-{transcript.public_id}-v{transcript.version}.pdf"'
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@blp.route("/transcripts/<transcript_id>/revoke", methods=["POST"])
@blp.arguments(RevokeSchema)
@blp.response(200, TranscriptSchema)
@auth_required
def revoke_transcript(body, transcript_id):
    """Revoke a transcript (registrars and administrators of the issuing institution)."""
    return issuance.revoke(bearer_user(), issuance.get(transcript_id), reason=body["reason"])
