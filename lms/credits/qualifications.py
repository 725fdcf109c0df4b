"""Vocational qualifications: 1+X skill certificates and national skill levels, mapped to
AQRF levels, recorded in the credit ledger and recognised like courses.

A registrar records a student's certificate at the institution: an ``earned`` record whose
credits come from the qualification's notional hours in the institution's credit system and
whose grade is ``pass`` (a certificate has no percentage). Recognition then goes through the
same agreements and workflow as courses (the qualification's code is the "course" code of
the agreement's equivalence table)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts.models import Institution, User
from lms.core.audit import record
from lms.core.errors import Conflict, NotFound, ValidationError, field_error
from lms.core.extensions import db
from lms.core.security import require
from lms.credits import ledger, scales, services, validation
from lms.credits.models import FRAMEWORKS, CreditRecord, Qualification

MANAGE = "credits.manage_qualifications"

#: indicative AQRF levels of each framework's levels (registrars may set another per
#: qualification): 1+X 初级 / 中级 / 高级; national skill levels 五级 (初级工) … 一级 (高级技师)
AQRF_LEVELS: dict[str, dict[str, int]] = {
    "1+X": {"junior": 3, "intermediate": 4, "senior": 5},
    "national": {"5": 2, "4": 3, "3": 4, "2": 5, "1": 6},
}


def aqrf_for(framework: str, level: str) -> int:
    """The indicative AQRF level of a framework level."""
    try:
        return AQRF_LEVELS[framework][level]
    except KeyError:
        raise field_error("level", _("This value is not allowed.")) from None


def create_qualification(
    actor: User | None,
    *,
    code: str,
    framework: str,
    level: str,
    names: Mapping[str, str],
    hours: Any,
    awarding_body: str = "",
    aqrf_level: int | None = None,
) -> Qualification:
    """Add a qualification to the shared catalogue (platform administrators; ``None`` is
    the CLI). The level must be one of the framework's; the AQRF level defaults to the
    framework level's indicative one. Audited."""
    if actor is not None:
        require(actor, MANAGE, None)
    errors: list[ValidationError] = []
    clean_code = validation.collect(errors, validation.clean_code, code)
    if framework not in FRAMEWORKS:
        errors.append(field_error("framework", _("This value is not allowed.")))
    elif level not in AQRF_LEVELS[framework]:
        errors.append(field_error("level", _("This value is not allowed.")))
    try:
        clean_hours = scales.to_decimal(hours)
        if not (Decimal(0) < clean_hours <= Decimal(10000)):
            raise scales.ScaleError("hours_range", hours)
    except scales.ScaleError:
        errors.append(field_error("hours", _("This number is out of range.")))
        clean_hours = Decimal(0)
    if aqrf_level is not None and not (1 <= int(aqrf_level) <= 8):
        errors.append(field_error("aqrf_level", _("This number is out of range.")))
    validation.raise_all(errors)
    if db.session.scalar(select(Qualification.id).filter_by(code=clean_code)):
        raise field_error("code", _("This code is already used."))
    qualification = Qualification(
        code=clean_code,
        framework=framework,
        level=level,
        aqrf_level=int(aqrf_level) if aqrf_level is not None else aqrf_for(framework, level),
        names=dict(names),
        awarding_body=(awarding_body or "").strip()[:300],
        hours=clean_hours,
    )
    db.session.add(qualification)
    db.session.flush()
    record(
        actor,
        "qualification.created",
        "qualification",
        qualification.id,
        after={
            "code": qualification.code,
            "framework": framework,
            "level": level,
            "aqrf_level": qualification.aqrf_level,
            "hours": str(qualification.hours),
        },
    )
    return qualification


def list_qualifications() -> list[Qualification]:
    return list(
        db.session.scalars(
            select(Qualification).order_by(Qualification.framework, Qualification.code)
        )
    )


def get_qualification(code: str) -> Qualification:
    qualification = db.session.scalar(
        select(Qualification).filter_by(code=(code or "").strip().upper())
    )
    if qualification is None:
        raise NotFound(_("No qualification with this code."))
    return qualification


def award(
    actor: User | None,
    student: User,
    qualification: Qualification,
    institution: Institution,
    *,
    awarded_on: date,
    certificate_number: str,
) -> CreditRecord:
    """Record a student's certificate in ``institution``'s ledger (its registrars and
    administrators): an ``earned`` record with the credits its hours make in the
    institution's credit system, grade ``pass``. A certificate is recorded once per
    student and institution."""
    if actor is not None:
        require(actor, ledger.MANAGE, institution)
    number = (certificate_number or "").strip()
    if not number:
        raise field_error("certificate_number", _("Enter the certificate number."))
    exists = db.session.scalar(
        select(CreditRecord.id).filter_by(
            student_id=student.id, institution_id=institution.id, qualification_id=qualification.id
        )
    )
    if exists:
        raise Conflict(_("This qualification is already recorded for this student."))
    settings = services.settings_for(institution)
    system, scale = settings.credit_system, settings.grade_scale
    credits = services.credits_for_hours(system, qualification.hours) if system else Decimal(0)
    name = qualification.name_in(institution.default_locale)[0]
    rec = CreditRecord(
        kind="earned",
        student_id=student.id,
        institution_id=institution.id,
        qualification_id=qualification.id,
        course_code=qualification.code,
        title=f"{name} (AQRF {qualification.aqrf_level})"[:300],
        credits=credits,
        hours=qualification.hours,
        credit_system=system.ref if system else "",
        grade=ledger.PASS_GRADE,
        percent=None,
        grade_scale=scale.ref if scale else "",
        grade_source="qualification",
        passed=True,
        completed_on=awarded_on,
        note=f"certificate {number[:200]}",
        created_by_id=getattr(actor, "id", None),
    )
    return ledger.add(actor, rec)
