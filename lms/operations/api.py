"""Operations API: search the audit log, export and erase a person's data."""

from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms.accounts import services as accounts
from lms.core.api import PageArgs, api_blueprint, auth_required, bearer_user, page_body, page_schema
from lms.core.errors import field_error
from lms.core.pagination import paginate
from lms.operations import audit_log, privacy

blp = api_blueprint("operations_api", __name__, "The audit log; personal-data export and erasure")


class AuditArgs(PageArgs):
    actor = fields.String(
        load_default="",
        validate=validate.Length(max=320),
        metadata={"description": "The actor's e-mail (part of it) or user id"},
    )
    action = fields.String(
        load_default="",
        validate=validate.Length(max=80),
        metadata={"description": "The action, or its beginning (`grade.`)"},
    )
    object_type = fields.String(load_default="", validate=validate.Length(max=40))
    object_id = fields.String(load_default="", validate=validate.Length(max=80))
    since = fields.Date(load_default=None, metadata={"description": "First UTC day included"})
    until = fields.Date(load_default=None, metadata={"description": "Last UTC day included"})


class AuditEventSchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor_id = fields.Integer(allow_none=True, required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.String(required=True)
    before = fields.Dict(allow_none=True, required=True)
    after = fields.Dict(allow_none=True, required=True)
    reason = fields.String(required=True)
    remote_addr = fields.String(required=True)


AuditEventPage = page_schema(AuditEventSchema, "AuditEventPage")


PersonalDataSchema = type(
    "PersonalDataSchema",
    (Schema,),
    {
        "__doc__": "Everything held about a person; each list holds one kind of record.",
        "format": fields.String(required=True, metadata={"enum": ["lms-personal-data"]}),
        "format_version": fields.Integer(required=True),
        "generated_at": fields.String(required=True),
        "profile": fields.Dict(required=True),
        **{name: fields.List(fields.Dict(), required=True) for name in privacy.SECTIONS},
    },
)


class EraseRequest(Schema):
    confirm_email = fields.String(
        required=True,
        validate=validate.Length(max=320),
        metadata={"description": "The person's e-mail address, repeated as confirmation"},
    )


@blp.route("/audit-events", methods=["GET"])
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditEventPage)
@auth_required
def list_audit_events(args):
    """Audit events, newest first: all for platform administrators, their institutions'
    objects for registrars and institution administrators."""
    page_no, per_page = args.pop("page"), args.pop("per_page")
    if args["since"] and args["until"] and args["since"] > args["until"]:
        raise field_error("until", _("The end date is before the start date."))
    filters = audit_log.Filters(**args)
    page = paginate(audit_log.search(bearer_user(), filters), page_no, per_page)
    page.items = [audit_log.as_dict(e) for e in page.items]
    return page_body(page)


@blp.route("/me/personal-data", methods=["GET"])
@blp.response(200, PersonalDataSchema)
@auth_required
def my_personal_data():
    """Everything the platform holds about you (secrets left out)."""
    user = bearer_user()
    return privacy.export_personal_data(user, user)


@blp.route("/users/<int:user_id>/personal-data", methods=["GET"])
@blp.response(200, PersonalDataSchema)
@auth_required
def user_personal_data(user_id):
    """A person's data, for an administrator of their institution."""
    return privacy.export_personal_data(bearer_user(), accounts.get_user(user_id))


@blp.route("/users/<int:user_id>/erasure", methods=["POST"])
@blp.arguments(EraseRequest)
@blp.response(204)
@auth_required
def erase_user(body, user_id):
    """Erase a person's personal data (administrator of every institution they belong to).
    Transcripts, credit records, grades and the audit log are kept, pseudonymised."""
    privacy.erase_personal_data(
        bearer_user(), accounts.get_user(user_id), confirm_email=body["confirm_email"]
    )
