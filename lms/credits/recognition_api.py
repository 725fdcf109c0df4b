"""Credits API: the ledger (read-only: records are only ever added by the services),
recognition agreements, and the recognition workflow.

No endpoint changes or deletes a ledger record; corrections are new records
(``POST /credit-records/{id}/corrections``)."""

from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms.accounts import services as accounts
from lms.core.api import api_blueprint, auth_required, bearer_user
from lms.core.db import utcnow
from lms.core.errors import NotFound
from lms.core.security import require
from lms.credits import agreements, ledger, qualifications, recognition
from lms.credits.models import CONVERSION_METHODS, FRAMEWORKS, RECORD_KINDS, REQUEST_STATUSES

blp = api_blueprint(
    "recognition_api",
    __name__,
    "Credit ledger (append-only), recognition agreements and recognition requests",
)


def _dec(**kw) -> fields.Decimal:
    return fields.Decimal(places=2, as_string=True, **kw)


class CreditRecordSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(RECORD_KINDS)})
    institution = fields.Function(lambda r: r.institution.slug, required=True)
    course_code = fields.String(required=True)
    title = fields.String(required=True)
    credits = _dec(required=True)
    hours = _dec(required=True, metadata={"description": "Notional learning hours"})
    credit_system = fields.String(required=True)
    grade = fields.String(required=True)
    percent = _dec(allow_none=True)
    grade_scale = fields.String(required=True)
    grade_source = fields.String(
        required=True,
        metadata={"description": "`pass_only` when no result percentage was known"},
    )
    passed = fields.Boolean(required=True)
    completed_on = fields.Date(required=True)
    source_record_id = fields.Integer(allow_none=True)
    corrects_id = fields.Integer(allow_none=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class LedgerArgs(Schema):
    student = fields.String(metadata={"description": "Student e-mail (default: yourself)"})
    institution = fields.String(metadata={"description": "Only this institution's ledger"})


class LedgerSchema(Schema):
    items = fields.List(fields.Nested(CreditRecordSchema), required=True)
    standing = fields.List(
        fields.Integer(), required=True, metadata={"description": "Ids of records that stand"}
    )


class CorrectionSchema(Schema):
    credits = fields.Decimal(allow_nan=False, required=True)
    grade = fields.String(validate=validate.Length(min=1, max=16))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class EquivalenceSchema(Schema):
    source_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    target_code = fields.String(load_default="", validate=validate.Length(max=40))
    target_title = fields.String(load_default="", validate=validate.Length(max=300))


class AgreementSchema(Schema):
    code = fields.String(required=True)
    source = fields.Function(lambda a: a.source.slug, required=True)
    target = fields.Function(lambda a: a.target.slug, required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
    max_credits = _dec(allow_none=True)
    min_percent = _dec(allow_none=True)
    conversion = fields.String(required=True, metadata={"enum": list(CONVERSION_METHODS)})
    notes = fields.String(required=True)
    equivalences = fields.List(fields.Nested(EquivalenceSchema), required=True)


class AgreementCreate(Schema):
    code = fields.String(required=True)
    source = fields.String(required=True, metadata={"description": "Source institution slug"})
    target = fields.String(required=True, metadata={"description": "Receiving institution"})
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
    max_credits = fields.Decimal(allow_nan=False, allow_none=True)
    min_percent = fields.Decimal(allow_nan=False, allow_none=True)
    conversion = fields.String(load_default="percent", validate=validate.OneOf(CONVERSION_METHODS))
    notes = fields.String(load_default="")
    equivalences = fields.List(fields.Nested(EquivalenceSchema), load_default=list)


class AgreementUpdate(Schema):
    valid_from = fields.Date()
    valid_to = fields.Date()
    max_credits = fields.Decimal(allow_nan=False, allow_none=True)
    min_percent = fields.Decimal(allow_nan=False, allow_none=True)
    conversion = fields.String(validate=validate.OneOf(CONVERSION_METHODS))
    notes = fields.String()
    equivalences = fields.List(fields.Nested(EquivalenceSchema))


class AgreementList(Schema):
    items = fields.List(fields.Nested(AgreementSchema), required=True)


class SuggestionSchema(Schema):
    target_code = fields.String(required=True)
    target_title = fields.String(required=True)
    credits = _dec(required=True)
    grade = fields.String(required=True)
    percent = _dec(allow_none=True)
    adjusted = fields.Boolean(required=True)
    eligible = fields.Boolean(required=True)
    problems = fields.List(fields.String(), required=True)


class ItemSchema(Schema):
    id = fields.Integer(required=True)
    decision = fields.String(required=True)
    reason = fields.String(required=True)
    agreement = fields.Function(lambda i: i.agreement.code if i.agreement else None)
    source = fields.Nested(CreditRecordSchema, attribute="source_record", required=True)
    result = fields.Nested(CreditRecordSchema, attribute="result_record", allow_none=True)


class RequestSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(REQUEST_STATUSES)})
    student = fields.Function(lambda r: r.student.email, required=True)
    target = fields.Function(lambda r: r.target.slug, required=True)
    message = fields.String(required=True)
    reason = fields.String(required=True)
    submitted_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(ItemSchema), required=True)


class RequestCreate(Schema):
    target = fields.String(required=True, metadata={"description": "Institution slug"})
    records = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))
    message = fields.String(load_default="", validate=validate.Length(max=1000))


class ReviewSchema(Schema):
    request = fields.Nested(RequestSchema, required=True)
    suggestions = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(SuggestionSchema),
        required=True,
        metadata={"description": "The agreement's suggestion per item id"},
    )


class DecisionSchema(Schema):
    approve = fields.List(fields.Integer(), load_default=list)
    reject = fields.List(fields.Integer(), load_default=list)
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


# ---------------------------------------------------------------------------- ledger


@blp.route("/credit-records", methods=["GET"])
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, LedgerSchema)
@auth_required
def list_records(args):
    """A student's ledger, oldest first (the student; registrars and administrators of
    the student's institutions)."""
    user = bearer_user()
    student = user
    if args.get("student"):
        student = accounts.find_user_by_email(args["student"])
        if student is None:
            raise NotFound(_("No user with this e-mail address."))
    require(user, "credits.view_ledger", student)
    institution = accounts.get_institution(args["institution"]) if args.get("institution") else None
    return {
        "items": ledger.history(student, institution),
        "standing": [r.id for r in ledger.standing(student, institution)],
    }


@blp.route("/credit-records/<int:record_id>", methods=["GET"])
@blp.response(200, CreditRecordSchema)
@auth_required
def get_record(record_id):
    """One ledger record (read-only; there is no way to change or delete it)."""
    rec = ledger.get_record(record_id)
    require(bearer_user(), "credits.view_ledger", rec.student)
    return rec


@blp.route("/credit-records/<int:record_id>/corrections", methods=["POST"])
@blp.arguments(CorrectionSchema)
@blp.response(201, CreditRecordSchema)
@auth_required
def correct_record(body, record_id):
    """Correct a record by a compensating record (registrars and administrators of the
    ledger's institution); the original stays as it was."""
    rec = ledger.get_record(record_id)
    return ledger.correct(
        bearer_user(), rec, credits=body["credits"], grade=body.get("grade"), reason=body["reason"]
    )


# ---------------------------------------------------------------------------- agreements


@blp.route("/agreements", methods=["GET"])
@blp.response(200, AgreementList)
@auth_required
def list_agreements():
    """Agreements where one of your institutions is a party."""
    user = bearer_user()
    items = [
        a
        for a in agreements.list_agreements()
        if user.is_platform_admin
        or any(m.institution_id in (a.source_id, a.target_id) for m in user.active_memberships())
    ]
    return {"items": items}


@blp.route("/agreements", methods=["POST"])
@blp.arguments(AgreementCreate)
@blp.response(201, AgreementSchema)
@auth_required
def create_agreement(body):
    """Create an agreement (registrars and administrators of the receiving institution)."""
    target = accounts.get_institution(body.pop("target"))
    source = accounts.get_institution(body.pop("source"))
    return agreements.create_agreement(bearer_user(), target, source=source, **body)


@blp.route("/agreements/<code>", methods=["PATCH"])
@blp.arguments(AgreementUpdate)
@blp.response(200, AgreementSchema)
@auth_required
def update_agreement(body, code):
    """Change an agreement (the receiving institution's registrars and administrators)."""
    return agreements.update_agreement(bearer_user(), agreements.get_agreement(code), **body)


# ---------------------------------------------------------------------------- recognition


@blp.route("/recognition-requests", methods=["POST"])
@blp.arguments(RequestCreate)
@blp.response(201, RequestSchema)
@auth_required
def submit_request(body):
    """Ask an institution to recognise some of your ledger records."""
    user = bearer_user()
    records = [ledger.get_record(i) for i in body["records"]]
    target = accounts.get_institution(body["target"])
    return recognition.submit(user, target, records, message=body["message"], now=utcnow())


@blp.route("/recognition-requests/<int:request_id>", methods=["GET"])
@blp.response(200, ReviewSchema)
@auth_required
def review_request(request_id):
    """A request with the agreement's suggestion for each item: the student sees it; the
    receiving registrar's first look moves it to `under_review`."""
    user = bearer_user()
    req = recognition.get_request(request_id)
    if user.id == req.student_id:
        suggestions = {
            str(i.id): agreements.suggest(i.agreement, i.source_record, req.target)
            for i in req.items
        }
    else:
        suggestions = {str(r.item.id): r.suggestion for r in recognition.review(user, req)}
    return {"request": req, "suggestions": suggestions}


@blp.route("/recognition-requests/<int:request_id>/decision", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, RequestSchema)
@auth_required
def decide_request(body, request_id):
    """Approve, partly approve or reject (registrars of the receiving institution); every
    item is decided, and a rejection needs a reason."""
    req = recognition.get_request(request_id)
    approvals = {i: True for i in body["approve"]} | {i: False for i in body["reject"]}
    return recognition.decide(bearer_user(), req, approvals, reason=body["reason"], now=utcnow())


# ---------------------------------------------------------------------------- qualifications


class QualificationSchema(Schema):
    code = fields.String(required=True)
    framework = fields.String(required=True, metadata={"enum": list(FRAMEWORKS)})
    level = fields.String(required=True)
    aqrf_level = fields.Integer(required=True)
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    awarding_body = fields.String(required=True)
    hours = _dec(required=True, metadata={"description": "Notional learning hours"})


class QualificationCreate(Schema):
    code = fields.String(required=True)
    framework = fields.String(required=True, validate=validate.OneOf(FRAMEWORKS))
    level = fields.String(
        required=True,
        metadata={"description": "1+X: junior, intermediate, senior; national: 5 … 1"},
    )
    names = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    hours = fields.Decimal(allow_nan=False, required=True)
    awarding_body = fields.String(load_default="", validate=validate.Length(max=300))
    aqrf_level = fields.Integer(validate=validate.Range(min=1, max=8))


class AwardCreate(Schema):
    student = fields.Email(required=True)
    institution = fields.String(required=True)
    awarded_on = fields.Date(required=True)
    certificate_number = fields.String(required=True, validate=validate.Length(min=1, max=200))


class QualificationList(Schema):
    items = fields.List(fields.Nested(QualificationSchema), required=True)


@blp.route("/qualifications", methods=["GET"])
@blp.response(200, QualificationList)
def list_qualifications():
    """The catalogue of 1+X and national skill qualifications with their AQRF levels."""
    return {"items": qualifications.list_qualifications()}


@blp.route("/qualifications", methods=["POST"])
@blp.arguments(QualificationCreate)
@blp.response(201, QualificationSchema)
@auth_required
def create_qualification(body):
    """Add a qualification (platform administrators)."""
    return qualifications.create_qualification(bearer_user(), **body)


@blp.route("/qualifications/<code>/awards", methods=["POST"])
@blp.arguments(AwardCreate)
@blp.response(201, CreditRecordSchema)
@auth_required
def award_qualification(body, code):
    """Record a student's certificate in an institution's ledger (its registrars)."""
    student = accounts.find_user_by_email(body["student"])
    if student is None:
        raise NotFound(_("No user with this e-mail address."))
    return qualifications.award(
        bearer_user(),
        student,
        qualifications.get_qualification(code),
        accounts.get_institution(body["institution"]),
        awarded_on=body["awarded_on"],
        certificate_number=body["certificate_number"],
    )
