"""The credit ledger: append-only records of credit earned, recognised and corrected.

Completing a course writes an ``earned`` record in the offering institution's ledger, in its
credit system and with the result converted to its grade scale; recognition writes a
``recognised`` record in the receiving institution's ledger pointing at its source; a
correction is a compensating ``corrected`` record that replaces what an earlier one says.
Records are never updated or deleted: a session guard refuses it here, and on PostgreSQL a
trigger refuses it in the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lms.accounts.models import Institution, User
from lms.core.audit import record
from lms.core.errors import Conflict, NotFound, field_error
from lms.core.extensions import db
from lms.core.security import require
from lms.credits import scales, services
from lms.credits.models import CreditRecord

MANAGE = "credits.manage_ledger"

#: where a course result percentage comes from: ``fn(enrolment) -> Decimal | None``, asked in
#: order; the assessment domain registers its final percentage here
result_sources: list[Callable[[Any], Decimal | None]] = []

PASS_GRADE = "pass"


class AppendOnlyViolation(Conflict):
    slug = "ledger-append-only"


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session: Session, _context: Any, _instances: Any) -> None:
    """The ledger is append-only: changing or deleting a record is a programming error."""
    for obj in session.deleted:
        if isinstance(obj, CreditRecord):
            raise AppendOnlyViolation(_("Credit records cannot be changed or deleted."))
    for obj in session.dirty:
        if isinstance(obj, CreditRecord) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyViolation(_("Credit records cannot be changed or deleted."))


def _state(rec: CreditRecord) -> dict[str, Any]:
    return {
        "kind": rec.kind,
        "student": rec.student.email if rec.student else rec.student_id,
        "institution": rec.institution.slug if rec.institution else rec.institution_id,
        "course": rec.course_code,
        "credits": str(rec.credits),
        "hours": str(rec.hours),
        "credit_system": rec.credit_system,
        "grade": rec.grade,
        "percent": None if rec.percent is None else str(rec.percent),
        "grade_scale": rec.grade_scale,
        "grade_source": rec.grade_source,
        "source_record": rec.source_record_id,
        "corrects": rec.corrects_id,
    }


def add(actor: User | None, rec: CreditRecord, reason: str = "") -> CreditRecord:
    """Append a record to the ledger and audit it (the only way records are written)."""
    db.session.add(rec)
    db.session.flush()
    record(
        actor,
        f"credit_record.{rec.kind}",
        "credit_record",
        rec.id,
        after=_state(rec),
        reason=reason,
    )
    return rec


def course_percent(enrolment: Any) -> Decimal | None:
    """The course result percentage of an enrolment from the first source that knows it."""
    for source in result_sources:
        value = source(enrolment)
        if value is not None:
            return Decimal(str(value))
    return None


def record_earned(enrolment: Any, *, now: datetime | None = None) -> CreditRecord | None:
    """Write the ``earned`` record of a completed enrolment (once per enrolment) in the
    offering institution's ledger: the course's credits in its credit system and the result
    converted to its grade scale. Without a known percentage the record says ``pass`` and
    ``grade_source="pass_only"``; a result below the pass mark earns no credit. An enrolment
    that is not completed writes nothing."""
    if enrolment.status != "completed":
        return None
    existing = db.session.scalar(
        select(CreditRecord).filter_by(kind="earned", enrolment_id=enrolment.id)
    )
    if existing is not None:
        return existing
    course = enrolment.course
    institution = course.institution
    settings = services.settings_for(institution)
    system, scale = settings.credit_system, settings.grade_scale
    percent = course_percent(enrolment)
    if percent is not None and scale is not None:
        band = scales.band_for_percent(services.scale_of(scale), percent)
        grade, passed, source = band.label, band.passing, "percent"
    else:
        grade, passed, source = PASS_GRADE, True, "pass_only"
    hours = Decimal(course.learning_hours or 0)
    if not hours and system is not None and course.credits:
        hours = services.hours_for_credits(system, course.credits)
    finished = enrolment.finished_at or now
    title = course.title(institution.default_locale)[0] or course.code
    rec = CreditRecord(
        kind="earned",
        student_id=enrolment.student_id,
        institution_id=institution.id,
        course_id=course.id,
        enrolment_id=enrolment.id,
        course_code=course.code,
        title=title[:300],
        credits=Decimal(course.credits or 0) if passed else Decimal(0),
        hours=hours if passed else Decimal(0),
        credit_system=system.ref if system else "",
        grade=grade,
        percent=percent,
        grade_scale=scale.ref if scale else "",
        grade_source=source,
        passed=passed,
        completed_on=finished.date() if finished else date.today(),
        note="" if source == "percent" else "no course result percentage was available",
    )
    return add(None, rec)


def on_enrolment_finished(enrolment: Any) -> None:
    """Receiver of ``lms.enrolment.signals.enrolment_finished``."""
    record_earned(enrolment)


def add_recognised(
    actor: User | None,
    *,
    source: CreditRecord,
    institution: Institution,
    course_code: str,
    title: str,
    credits: Decimal,
    hours: Decimal,
    grade: str,
    percent: Decimal | None,
    agreement_id: int | None,
    note: str = "",
) -> CreditRecord:
    """Write a ``recognised`` record in ``institution``'s ledger pointing at ``source``
    (called by the recognition workflow, which checks permission and the agreement)."""
    settings = services.settings_for(institution)
    rec = CreditRecord(
        kind="recognised",
        student_id=source.student_id,
        institution_id=institution.id,
        course_code=course_code,
        title=title[:300],
        credits=credits,
        hours=hours,
        credit_system=settings.credit_system.ref if settings.credit_system else "",
        grade=grade,
        percent=percent,
        grade_scale=settings.grade_scale.ref if settings.grade_scale else "",
        grade_source="recognition",
        passed=True,
        completed_on=source.completed_on,
        source_record_id=source.id,
        agreement_id=agreement_id,
        note=note[:1000],
        created_by_id=getattr(actor, "id", None),
    )
    return add(actor, rec)


def correct(
    actor: User | None,
    original: CreditRecord,
    *,
    credits: Any = None,
    grade: str | None = None,
    reason: str,
) -> CreditRecord:
    """Correct a record by a compensating ``corrected`` record that replaces its credits
    and grade (zero credits withdraws it). Only the current version of a record can be
    corrected, a reason is required, and the institution's registrars or administrators
    may do it. Audited."""
    if actor is not None:
        require(actor, MANAGE, original.institution)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Give a reason for the correction."))
    if current_version(original).id != original.id:
        raise Conflict(_("This record has been corrected already; correct its latest version."))
    new_credits = original.credits if credits is None else scales.to_decimal(credits)
    if not new_credits.is_finite() or new_credits < 0:
        raise field_error("credits", _("Credits must be zero or more."))
    rec = CreditRecord(
        kind="corrected",
        student_id=original.student_id,
        institution_id=original.institution_id,
        course_id=original.course_id,
        course_code=original.course_code,
        title=original.title,
        credits=new_credits,
        hours=original.hours if new_credits else Decimal(0),
        credit_system=original.credit_system,
        grade=(grade or original.grade).strip()[:16],
        percent=original.percent if grade is None else None,
        grade_scale=original.grade_scale,
        grade_source="correction",
        passed=new_credits > 0,
        completed_on=original.completed_on,
        source_record_id=original.source_record_id,
        corrects_id=original.id,
        agreement_id=original.agreement_id,
        note=reason[:1000],
        created_by_id=getattr(actor, "id", None),
    )
    return add(actor, rec, reason)


def current_version(rec: CreditRecord) -> CreditRecord:
    """The latest record of a chain of corrections starting at ``rec``."""
    while True:
        newer = db.session.scalar(select(CreditRecord).filter_by(corrects_id=rec.id))
        if newer is None:
            return rec
        rec = newer


def history(student: User, institution: Institution | None = None) -> list[CreditRecord]:
    """Every record of a student (in one institution's ledger, if given), oldest first."""
    stmt = select(CreditRecord).filter_by(student_id=student.id)
    if institution is not None:
        stmt = stmt.filter_by(institution_id=institution.id)
    return list(db.session.scalars(stmt.order_by(CreditRecord.id)))


def standing(student: User, institution: Institution | None = None) -> list[CreditRecord]:
    """The records that stand: each chain's latest version, with credit (passed)."""
    records = history(student, institution)
    corrected = {r.corrects_id for r in records if r.corrects_id}
    return [r for r in records if r.id not in corrected and r.passed and r.credits > 0]


def get_record(record_id: int) -> CreditRecord:
    rec = db.session.get(CreditRecord, record_id)
    if rec is None:
        raise NotFound(_("No credit record with this number."))
    return rec
