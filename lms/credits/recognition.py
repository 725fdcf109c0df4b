"""The recognition workflow: a student asks an institution to recognise completed courses;
its registrar reviews each source record with the agreement's suggestion and approves,
partly approves or rejects with a reason; approved items become ``recognised`` ledger
records, and the student is told in their own language. Every step is audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts.models import Institution, User
from lms.core import mail
from lms.core.audit import record
from lms.core.errors import Conflict, NotFound, PermissionDenied, ValidationError, field_error
from lms.core.extensions import db
from lms.core.security import require
from lms.credits import agreements, ledger
from lms.credits.models import CreditRecord, RecognitionItem, RecognitionRequest

DECIDE = "credits.decide_recognition"
OPEN = ("submitted", "under_review")


def _state(req: RecognitionRequest) -> dict[str, Any]:
    return {
        "student": req.student.email,
        "target": req.target.slug,
        "status": req.status,
        "items": [
            {
                "record": i.source_record_id,
                "decision": i.decision,
                "result": i.result_record_id,
                "reason": i.reason,
            }
            for i in req.items
        ],
    }


def submit(
    student: User,
    target: Institution,
    records: Sequence[CreditRecord],
    *,
    message: str = "",
    now: datetime,
) -> RecognitionRequest:
    """A student asks ``target`` to recognise some of their own standing records earned or
    recognised elsewhere. Each record may be asked for once while a request is open and not
    again once recognised there. Audited."""
    errors: list[ValidationError] = []
    if not records:
        raise field_error("records", _("Choose at least one completed course."))
    standing = {r.id for r in ledger.standing(student)}
    for rec in records:
        if rec.student_id != student.id:
            raise PermissionDenied()
        if rec.id not in standing:
            errors.append(
                field_error("records", _("Only courses that earned credit can be recognised."))
            )
        elif rec.institution_id == target.id:
            errors.append(
                field_error("records", _("This course is already in this institution's record."))
            )
        elif _already_asked(rec, target):
            errors.append(
                field_error(
                    "records", _("This course has already been submitted to this institution.")
                )
            )
    if errors:
        raise ValidationError(errors[0].message, errors=[e.errors[0] for e in errors])
    req = RecognitionRequest(
        student=student, target=target, message=(message or "").strip()[:1000], submitted_at=now
    )
    for rec in records:
        agreement = agreements.agreement_for(rec.institution_id, target, rec.completed_on)
        req.items.append(RecognitionItem(source_record_id=rec.id, agreement=agreement))
    db.session.add(req)
    db.session.flush()
    record(student, "recognition.submitted", "recognition_request", req.id, after=_state(req))
    return req


def _already_asked(rec: CreditRecord, target: Institution) -> bool:
    return (
        db.session.scalar(
            select(RecognitionItem.id)
            .join(RecognitionRequest)
            .where(
                RecognitionItem.source_record_id == rec.id,
                RecognitionRequest.target_id == target.id,
                RecognitionItem.decision != "rejected",
            )
            .limit(1)
        )
        is not None
    )


def get_request(request_id: int) -> RecognitionRequest:
    req = db.session.get(RecognitionRequest, request_id)
    if req is None:
        raise NotFound(_("No recognition request with this number."))
    return req


def queue(target: Institution) -> list[RecognitionRequest]:
    """Open requests to ``target``, oldest first."""
    return list(
        db.session.scalars(
            select(RecognitionRequest)
            .where(RecognitionRequest.target_id == target.id, RecognitionRequest.status.in_(OPEN))
            .order_by(RecognitionRequest.submitted_at)
        )
    )


def requests_of(student: User) -> list[RecognitionRequest]:
    return list(
        db.session.scalars(
            select(RecognitionRequest)
            .filter_by(student_id=student.id)
            .order_by(RecognitionRequest.submitted_at.desc())
        )
    )


@dataclass
class Review:
    item: RecognitionItem
    source: CreditRecord
    suggestion: agreements.Suggestion


def review(actor: User | None, req: RecognitionRequest) -> list[Review]:
    """What the registrar weighs for each item: the source record and the agreement's
    suggestion (converted credits and grade, and any reason it cannot be recognised).
    Opening the review moves a submitted request to ``under_review``."""
    if actor is not None:
        require(actor, DECIDE, req.target)
    if req.status == "submitted":
        req.status = "under_review"
        req.reviewed_by_id = getattr(actor, "id", None)
        db.session.flush()
        record(actor, "recognition.under_review", "recognition_request", req.id)
    return [
        Review(i, i.source_record, agreements.suggest(i.agreement, i.source_record, req.target))
        for i in req.items
    ]


def decide(
    actor: User | None,
    req: RecognitionRequest,
    approvals: Mapping[int, bool],
    *,
    reason: str = "",
    now: datetime,
) -> RecognitionRequest:
    """Decide a request: ``approvals`` maps each item id to approve (True) or reject
    (False). An approved item must be eligible under its agreement (equivalence, minimum
    result, credit limit) and becomes a ``recognised`` record with the suggested credits and
    grade. All approved → ``approved``; none → ``rejected``; some → ``partly_approved``;
    a rejection needs a reason. The student is e-mailed in their language. Audited."""
    if actor is not None:
        require(actor, DECIDE, req.target)
    if req.status not in OPEN:
        raise Conflict(_("This request has already been decided."))
    ids = {i.id for i in req.items}
    if set(approvals) != ids:
        raise field_error("items", _("Decide every course of the request."))
    reason = (reason or "").strip()
    if not all(approvals.values()) and not reason:
        raise field_error("reason", _("Give a reason when a course is not recognised."))
    before = _state(req)
    approved = 0
    for item in req.items:
        if not approvals[item.id]:
            item.decision, item.reason = "rejected", reason[:1000]
            continue
        suggestion = agreements.suggest(item.agreement, item.source_record, req.target)
        if not suggestion.eligible:
            raise field_error(f"items.{item.id}", suggestion.problems[0])
        source = item.source_record
        result = ledger.add_recognised(
            actor,
            source=source,
            institution=req.target,
            course_code=suggestion.target_code or source.course_code,
            title=suggestion.target_title,
            credits=suggestion.credits,
            hours=suggestion.hours,
            grade=suggestion.grade,
            percent=suggestion.percent,
            agreement_id=item.agreement_id,
            note=_elective_note(suggestion, source),
        )
        item.decision, item.result_record = "approved", result
        approved += 1
    if approved == len(req.items):
        req.status = "approved"
    elif approved == 0:
        req.status = "rejected"
    else:
        req.status = "partly_approved"
    req.reason = reason[:1000]
    req.decided_at = now
    req.reviewed_by_id = getattr(actor, "id", None)
    db.session.flush()
    record(
        actor,
        f"recognition.{req.status}",
        "recognition_request",
        req.id,
        before=before,
        after=_state(req),
        reason=reason,
    )
    _tell(req)
    return req


def _elective_note(suggestion: agreements.Suggestion, source: CreditRecord) -> str:
    if suggestion.target_code:
        return f"recognised from {source.course_code}"
    return f"elective credit for {source.course_code}"


def _tell(req: RecognitionRequest) -> None:
    student = req.student
    locale = student.locale or req.target.default_locale or "en"
    mail.queue(
        student.email,
        locale,
        "credits.recognition_decision",
        "credits/recognition_decision",
        student=student,
        req=req,
        institution=req.target.name_in(locale)[0] or req.target.slug,
    )
