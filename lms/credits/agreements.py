"""Credit mutual-recognition agreements (学分互认协议) and what they suggest for a record.

An agreement is kept by the receiving (target) institution's registrars and administrators:
its validity, its course equivalence table (a source course counts as a target course, or as
elective credit), the most credit a student may transfer under it, the lowest result it
accepts and how grades are converted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts.models import Institution, User
from lms.core.audit import record
from lms.core.errors import NotFound, ValidationError, field_error
from lms.core.extensions import db
from lms.core.security import require
from lms.credits import scales, services, validation
from lms.credits.models import CONVERSION_METHODS, Agreement, CreditRecord, Equivalence

MANAGE = "credits.manage_agreements"


def _state(agreement: Agreement) -> dict[str, Any]:
    return {
        "code": agreement.code,
        "source": agreement.source.slug,
        "target": agreement.target.slug,
        "valid_from": agreement.valid_from.isoformat(),
        "valid_to": agreement.valid_to.isoformat(),
        "max_credits": None if agreement.max_credits is None else str(agreement.max_credits),
        "min_percent": None if agreement.min_percent is None else str(agreement.min_percent),
        "conversion": agreement.conversion,
        "equivalences": [
            {"source": e.source_code, "target": e.target_code, "title": e.target_title}
            for e in agreement.equivalences
        ],
    }


def _optional_decimal(errors: list, name: str, value: Any, lo: Decimal, hi: Decimal) -> Any:
    if value is None or value == "":
        return None
    try:
        number = scales.to_decimal(value)
    except scales.ScaleError:
        errors.append(field_error(name, _("Enter a number.")))
        return None
    if not (lo <= number <= hi):
        errors.append(field_error(name, _("This number is out of range.")))
        return None
    return number


def _clean(data: Mapping[str, Any], errors: list) -> dict[str, Any]:
    out: dict[str, Any] = {}
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    if not isinstance(valid_from, date):
        errors.append(field_error("valid_from", _("Enter a date.")))
    if not isinstance(valid_to, date):
        errors.append(field_error("valid_to", _("Enter a date.")))
    if isinstance(valid_from, date) and isinstance(valid_to, date) and valid_to < valid_from:
        errors.append(field_error("valid_to", _("The agreement must end after it starts.")))
    out["valid_from"], out["valid_to"] = valid_from, valid_to
    out["max_credits"] = _optional_decimal(
        errors, "max_credits", data.get("max_credits"), Decimal("0.5"), Decimal(1000)
    )
    out["min_percent"] = _optional_decimal(
        errors, "min_percent", data.get("min_percent"), Decimal(0), Decimal(100)
    )
    conversion = data.get("conversion") or "percent"
    if conversion not in CONVERSION_METHODS:
        errors.append(field_error("conversion", _("This value is not allowed.")))
    out["conversion"] = conversion
    out["notes"] = str(data.get("notes") or "")[:1000]
    rows: list[Equivalence] = []
    seen: set[str] = set()
    for n, row in enumerate(data.get("equivalences") or []):
        source = str(row.get("source_code") or "").strip().upper()
        if not source or len(source) > 40:
            errors.append(field_error(f"equivalences.{n}.source_code", _("Enter a course code.")))
            continue
        if source in seen:
            errors.append(
                field_error(f"equivalences.{n}.source_code", _("This course is listed twice."))
            )
            continue
        seen.add(source)
        rows.append(
            Equivalence(
                source_code=source,
                target_code=str(row.get("target_code") or "").strip().upper()[:40],
                target_title=str(row.get("target_title") or "").strip()[:300],
            )
        )
    out["equivalences"] = rows
    return out


def create_agreement(
    actor: User | None,
    target: Institution,
    *,
    source: Institution,
    code: str,
    valid_from: date,
    valid_to: date,
    equivalences: Sequence[Mapping[str, Any]] = (),
    max_credits: Any = None,
    min_percent: Any = None,
    conversion: str = "percent",
    notes: str = "",
) -> Agreement:
    """Record an agreement under which ``target`` recognises credit earned at ``source``
    (the target's registrars and administrators). Dates must be in order, the limits in
    range, each source course listed once; the code is unique. Audited."""
    if actor is not None:
        require(actor, MANAGE, target)
    errors: list[ValidationError] = []
    clean_code = validation.collect(errors, validation.clean_code, code)
    if source.id == target.id:
        errors.append(field_error("source", _("An agreement is between two institutions.")))
    cleaned = _clean(
        {
            "valid_from": valid_from,
            "valid_to": valid_to,
            "equivalences": equivalences,
            "max_credits": max_credits,
            "min_percent": min_percent,
            "conversion": conversion,
            "notes": notes,
        },
        errors,
    )
    validation.raise_all(errors)
    if db.session.scalar(select(Agreement.id).filter_by(code=clean_code)):
        raise field_error("code", _("This code is already used."))
    agreement = Agreement(code=clean_code, source=source, target=target, **cleaned)
    db.session.add(agreement)
    db.session.flush()
    record(actor, "agreement.created", "agreement", agreement.id, after=_state(agreement))
    return agreement


def update_agreement(actor: User | None, agreement: Agreement, **changes: Any) -> Agreement:
    """Change an agreement's validity, limits, conversion, notes or equivalence table (the
    target's registrars and administrators); records already written are not touched."""
    if actor is not None:
        require(actor, MANAGE, agreement.target)
    current = {
        "valid_from": agreement.valid_from,
        "valid_to": agreement.valid_to,
        "max_credits": agreement.max_credits,
        "min_percent": agreement.min_percent,
        "conversion": agreement.conversion,
        "notes": agreement.notes,
        "equivalences": [
            {
                "source_code": e.source_code,
                "target_code": e.target_code,
                "target_title": e.target_title,
            }
            for e in agreement.equivalences
        ],
    }
    unknown = set(changes) - set(current)
    if unknown:
        raise ValidationError(
            errors=[{"field": f, "message": _("This field is not recognised.")} for f in unknown]
        )
    errors: list[ValidationError] = []
    cleaned = _clean({**current, **changes}, errors)
    validation.raise_all(errors)
    before = _state(agreement)
    rows = cleaned.pop("equivalences")
    for name, value in cleaned.items():
        setattr(agreement, name, value)
    if "equivalences" in changes:
        agreement.equivalences.clear()
        db.session.flush()
        agreement.equivalences.extend(rows)
    db.session.flush()
    record(
        actor,
        "agreement.updated",
        "agreement",
        agreement.id,
        before=before,
        after=_state(agreement),
    )
    return agreement


def get_agreement(code: str) -> Agreement:
    agreement = db.session.scalar(select(Agreement).filter_by(code=(code or "").strip().upper()))
    if agreement is None:
        raise NotFound(_("No agreement with this code."))
    return agreement


def list_agreements(institution: Institution | None = None) -> list[Agreement]:
    """Agreements, those where ``institution`` is a party when given."""
    stmt = select(Agreement).order_by(Agreement.code)
    if institution is not None:
        stmt = stmt.where(
            (Agreement.source_id == institution.id) | (Agreement.target_id == institution.id)
        )
    return list(db.session.scalars(stmt))


def agreement_for(source_id: int, target: Institution, on: date) -> Agreement | None:
    """The agreement in force on ``on`` under which ``target`` recognises ``source``."""
    return db.session.scalar(
        select(Agreement)
        .where(
            Agreement.source_id == source_id,
            Agreement.target_id == target.id,
            Agreement.valid_from <= on,
            Agreement.valid_to >= on,
        )
        .order_by(Agreement.valid_from.desc())
        .limit(1)
    )


def transferred_credits(agreement: Agreement, student_id: int) -> Decimal:
    """Credits already recognised for a student under an agreement (latest versions)."""
    rows = list(
        db.session.scalars(
            select(CreditRecord).where(
                CreditRecord.agreement_id == agreement.id,
                CreditRecord.student_id == student_id,
                CreditRecord.kind.in_(("recognised", "corrected")),
            )
        )
    )
    corrected = {r.corrects_id for r in rows if r.corrects_id}
    total = sum((r.credits for r in rows if r.id not in corrected), Decimal(0))
    return Decimal(total)


@dataclass
class Suggestion:
    """What an agreement suggests for one ledger record: the target course (or elective
    credit), the converted credits and grade, and any reasons it cannot be recognised."""

    target_code: str
    target_title: str
    credits: Decimal
    hours: Decimal
    grade: str
    percent: Decimal | None
    adjusted: bool
    problems: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.problems


def suggest(agreement: Agreement | None, rec: CreditRecord, target: Institution) -> Suggestion:
    """Convert a record of another institution for ``target``: credits through notional
    hours into the target's credit system, the grade through the result percentage (or the
    grade's representative percent) into the target's scale, never turning a pass into a
    fail; with the agreement's equivalence, minimum result and remaining credit checked."""
    problems: list[str] = []
    settings = services.settings_for(target)
    source_settings = services.settings_for(rec.institution)
    equivalence = None
    if agreement is None:
        problems.append(_("No agreement in force covers this institution."))
    else:
        equivalence = next(
            (e for e in agreement.equivalences if e.source_code == rec.course_code), None
        )
    target_code = (equivalence.target_code if equivalence else "") or ""
    target_title = (equivalence.target_title if equivalence else "") or rec.title
    credits = Decimal(0)
    if settings.credit_system is not None and rec.hours:
        credits = services.credits_for_hours(settings.credit_system, rec.hours)
    elif settings.credit_system is None:
        problems.append(_("The receiving institution has no credit system."))
    percent = rec.percent
    grade, adjusted = "", False
    src_scale, dst_scale = source_settings.grade_scale, settings.grade_scale
    if dst_scale is None:
        problems.append(_("The receiving institution has no grade scale."))
    elif rec.grade_source in ("pass_only", "qualification") or src_scale is None:
        grade = "pass"
    else:
        use_percent = percent is not None and (
            agreement is None or agreement.conversion == "percent"
        )
        conversion = services.convert_grade(
            src_scale,
            dst_scale,
            percent=percent if use_percent else None,
            grade=None if use_percent else rec.grade,
        )
        grade, adjusted = conversion.target.label, conversion.adjusted
        percent = conversion.percent
    if agreement is not None:
        if agreement.min_percent is not None:
            if percent is None:
                problems.append(_("The agreement needs a result percentage, and none is known."))
            elif percent < agreement.min_percent:
                problems.append(_("The result is below the agreement's minimum."))
        if agreement.max_credits is not None:
            left = agreement.max_credits - transferred_credits(agreement, rec.student_id)
            if credits > left:
                problems.append(
                    _("This would exceed the agreement's maximum of transferable credits.")
                )
    return Suggestion(
        target_code=target_code,
        target_title=target_title,
        credits=credits,
        hours=rec.hours,
        grade=grade,
        percent=percent,
        adjusted=adjusted,
        problems=problems,
    )
