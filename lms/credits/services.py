"""Credit systems and grade scales: the public face of the credits domain's foundation.

Views, the API, the CLI and other domains call these. National defaults (one scale and one
credit system per country, ``seed_national_defaults``) belong to no institution and only
platform administrators change them; an institution's registrars and administrators keep
the institution's own. Every change is validated as a whole (all problems are reported
together, located at the field, and nothing is written unless all pass) and audited. The
arithmetic lives in ``lms.credits.scales``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Institution, User
from lms.core.audit import record
from lms.core.errors import NotFound, ValidationError, field_error
from lms.core.extensions import db
from lms.core.security import require
from lms.credits import national, scales, validation
from lms.credits.models import (
    CreditSystem,
    GradeBand,
    GradeScale,
    InstitutionCreditSettings,
)

MANAGE = "credits.manage_scales"
BandInput = validation.BandInput
ROUNDING_STEPS = validation.ROUNDING_STEPS


# ---------------------------------------------------------------------------- lookups


def _owner_filter(stmt: Select, model: type, institution: Institution | None) -> Select:
    if institution is None:
        return stmt.where(model.institution_id.is_(None))
    return stmt.where(model.institution_id == institution.id)


def _by_ref(model: type, ref: str) -> Any:
    slug, sep, code = (ref or "").rpartition(":")
    stmt = select(model).where(model.code == code.strip().upper())
    if sep:
        stmt = stmt.join(model.institution).where(Institution.slug == slug.strip().lower())
    else:
        stmt = stmt.where(model.institution_id.is_(None))
    return db.session.scalar(stmt)


def list_scales(*, country: str | None = None, institution: Institution | None = None) -> Select:
    """Grade scales (a statement, for pagination): national defaults first, then the
    institutions' own; with ``institution``, the national defaults and that one's own."""
    stmt = select(GradeScale).outerjoin(GradeScale.institution)
    if country:
        stmt = stmt.where(GradeScale.country == country.upper())
    if institution is not None:
        stmt = stmt.where(
            (GradeScale.institution_id.is_(None)) | (GradeScale.institution_id == institution.id)
        )
    return stmt.order_by(
        GradeScale.institution_id.is_not(None),
        Institution.slug,
        GradeScale.country,
        GradeScale.code,
    )


def list_credit_systems(
    *, country: str | None = None, institution: Institution | None = None
) -> Select:
    """Credit systems (a statement), ordered like ``list_scales``."""
    stmt = select(CreditSystem).outerjoin(CreditSystem.institution)
    if country:
        stmt = stmt.where(CreditSystem.country == country.upper())
    if institution is not None:
        stmt = stmt.where(
            (CreditSystem.institution_id.is_(None))
            | (CreditSystem.institution_id == institution.id)
        )
    return stmt.order_by(
        CreditSystem.institution_id.is_not(None),
        Institution.slug,
        CreditSystem.country,
        CreditSystem.code,
    )


def get_scale(ref: str) -> GradeScale:
    """The scale addressed by ``CODE`` (a national default) or ``institution-slug:CODE``."""
    scale = _by_ref(GradeScale, ref)
    if scale is None:
        raise NotFound(_("No grade scale with this code."))
    return scale


def get_credit_system(ref: str) -> CreditSystem:
    """The credit system addressed by ``CODE`` or ``institution-slug:CODE``."""
    system = _by_ref(CreditSystem, ref)
    if system is None:
        raise NotFound(_("No credit system with this code."))
    return system


def scale_of(scale: GradeScale) -> scales.Scale:
    """The scale as plain values for ``lms.credits.scales``."""
    return scales.Scale(
        code=scale.ref,
        direction=scale.direction,
        pass_mark=scale.pass_mark,
        bands=tuple(
            scales.Band(b.label, b.min_percent, b.max_percent, b.points, b.passing, b.names or {})
            for b in scale.bands
        ),
    )


def rule_of(system: CreditSystem) -> scales.CreditRule:
    return scales.CreditRule(system.hours_per_credit, system.rounding_step, system.rounding_mode)


# ---------------------------------------------------------------------------- snapshots


def _fixed(value: Decimal) -> str:
    """A stored decimal as audit text, always with two places (``"60.00"``)."""
    return str(Decimal(value).quantize(Decimal("0.01")))


def _scale_state(scale: GradeScale) -> dict[str, Any]:
    return {
        "code": scale.code,
        "names": dict(scale.names),
        "country": scale.country,
        "direction": scale.direction,
        "pass_mark": _fixed(scale.pass_mark),
        "bands": [
            {
                "label": b.label,
                "min_percent": _fixed(b.min_percent),
                "max_percent": _fixed(b.max_percent),
                "points": _fixed(b.points),
                "passing": b.passing,
            }
            for b in scale.bands
        ],
    }


def _system_state(system: CreditSystem) -> dict[str, Any]:
    return {
        "code": system.code,
        "names": dict(system.names),
        "country": system.country,
        "hours_per_credit": _fixed(system.hours_per_credit),
        "rounding_step": _fixed(system.rounding_step),
        "rounding_mode": system.rounding_mode,
    }


def _flush_unique(message: str) -> None:
    """Flush, turning a unique-code race into the same error as the pre-check."""
    try:
        db.session.flush()
    except IntegrityError:
        raise field_error("code", message) from None


def _check_code_free(model: type, code: str, institution: Institution | None) -> None:
    taken = db.session.scalar(
        _owner_filter(select(model.id).where(model.code == code), model, institution)
    )
    if taken is not None:
        raise field_error("code", _("This code is already used."))


# ---------------------------------------------------------------------------- scales

SCALE_FIELDS = ("names", "country", "direction", "pass_mark", "bands", "notes")


def _apply_bands(scale: GradeScale, bands: Iterable[scales.Band]) -> None:
    """Replace the bands, stored best first (two flushes, so a label may move between
    positions without tripping the unique constraints)."""
    scale.bands.clear()
    db.session.flush()
    for position, band in enumerate(sorted(bands, key=lambda b: b.min_percent, reverse=True)):
        scale.bands.append(
            GradeBand(
                position=position,
                label=band.label,
                names=dict(band.names),
                min_percent=band.min_percent,
                max_percent=band.max_percent,
                points=band.points,
                passing=band.passing,
            )
        )


def create_scale(
    actor: User | None,
    institution: Institution | None,
    *,
    code: str,
    names: Mapping[str, str],
    country: str | None = None,
    direction: str,
    pass_mark: Any,
    bands: Sequence[BandInput | Mapping[str, Any]],
    notes: str = "",
) -> GradeScale:
    """Create a grade scale for ``institution`` (its registrars and administrators) or, with
    ``institution=None``, a national default (platform administrators; ``actor=None`` is the
    CLI or the seeder). The bands must tile 0–100 with grade points running in the scale's
    direction and the pass mark on a band boundary (``scales.check_scale``); the code is
    unique among the owner's scales."""
    if actor is not None:
        require(actor, MANAGE, institution)
    errors: list[ValidationError] = []
    clean_code = validation.collect(errors, validation.clean_code, code)
    data = {
        "names": names,
        "country": country or (institution.country if institution else ""),
        "direction": direction,
        "pass_mark": pass_mark,
        "bands": bands,
        "notes": notes,
    }
    cleaned = validation.clean_scale(data, errors)
    validation.raise_all(errors)
    _check_code_free(GradeScale, clean_code, institution)
    scale = GradeScale(
        code=clean_code,
        institution=institution,
        names=cleaned["names"],
        country=cleaned["country"],
        direction=cleaned["direction"],
        pass_mark=cleaned["pass_mark"],
        notes=cleaned["notes"],
    )
    db.session.add(scale)
    _flush_unique(_("This code is already used."))
    _apply_bands(scale, cleaned["bands"])
    db.session.flush()
    record(actor, "grade_scale.created", "grade_scale", scale.id, after=_scale_state(scale))
    return scale


def update_scale(actor: User | None, scale: GradeScale, **changes: Any) -> GradeScale:
    """Change a scale's names, country, direction, pass mark, bands or notes (the owner's
    registrars and administrators; platform administrators for a national default). The
    code never changes. The whole scale is checked again, and the change is audited with
    the scale before and after."""
    if actor is not None:
        require(actor, MANAGE, scale)
    unknown = set(changes) - set(SCALE_FIELDS)
    if unknown:
        raise ValidationError(
            errors=[
                {"field": f, "message": _("This field is not recognised.")} for f in sorted(unknown)
            ]
        )
    current = scale_of(scale)
    data: dict[str, Any] = {
        "direction": scale.direction,
        "pass_mark": scale.pass_mark,
        "bands": [
            BandInput(b.label, b.min_percent, b.max_percent, b.points, None, b.names)
            for b in current.bands
        ],
        **changes,
    }
    errors: list[ValidationError] = []
    cleaned = validation.clean_scale(data, errors)
    validation.raise_all(errors)
    before = _scale_state(scale)
    for name in ("names", "country", "notes"):
        if name in changes:
            setattr(scale, name, cleaned[name])
    scale.direction = cleaned["direction"]
    scale.pass_mark = cleaned["pass_mark"]
    _apply_bands(scale, cleaned["bands"])
    db.session.flush()
    record(
        actor,
        "grade_scale.updated",
        "grade_scale",
        scale.id,
        before=before,
        after=_scale_state(scale),
    )
    return scale


# ---------------------------------------------------------------------------- systems

SYSTEM_FIELDS = ("names", "country", "hours_per_credit", "rounding_step", "rounding_mode", "notes")


def create_credit_system(
    actor: User | None,
    institution: Institution | None,
    *,
    code: str,
    names: Mapping[str, str],
    country: str | None = None,
    hours_per_credit: Any,
    rounding_step: Any = "0.5",
    rounding_mode: str = "half_up",
    notes: str = "",
) -> CreditSystem:
    """Create a credit system for ``institution`` (or a national default with ``None``):
    hours per credit in (0, 1000], a rounding step from ``ROUNDING_STEPS`` and a rounding
    mode (``half_up`` or ``down``). The code is unique among the owner's systems."""
    if actor is not None:
        require(actor, MANAGE, institution)
    errors: list[ValidationError] = []
    clean_code = validation.collect(errors, validation.clean_code, code)
    cleaned = validation.clean_system(
        {
            "names": names,
            "country": country or (institution.country if institution else ""),
            "hours_per_credit": hours_per_credit,
            "rounding_step": rounding_step,
            "rounding_mode": rounding_mode,
            "notes": notes,
        },
        errors,
    )
    validation.raise_all(errors)
    _check_code_free(CreditSystem, clean_code, institution)
    system = CreditSystem(code=clean_code, institution=institution, **cleaned)
    db.session.add(system)
    _flush_unique(_("This code is already used."))
    record(actor, "credit_system.created", "credit_system", system.id, after=_system_state(system))
    return system


def update_credit_system(actor: User | None, system: CreditSystem, **changes: Any) -> CreditSystem:
    """Change a credit system (the owner's registrars and administrators; platform
    administrators for a national default); audited with before and after."""
    if actor is not None:
        require(actor, MANAGE, system)
    unknown = set(changes) - set(SYSTEM_FIELDS)
    if unknown:
        raise ValidationError(
            errors=[
                {"field": f, "message": _("This field is not recognised.")} for f in sorted(unknown)
            ]
        )
    data = {
        "hours_per_credit": system.hours_per_credit,
        "rounding_step": system.rounding_step,
        "rounding_mode": system.rounding_mode,
        **changes,
    }
    errors: list[ValidationError] = []
    cleaned = validation.clean_system(data, errors)
    validation.raise_all(errors)
    before = _system_state(system)
    for name, value in cleaned.items():
        if name in changes or name in ("hours_per_credit", "rounding_step", "rounding_mode"):
            setattr(system, name, value)
    db.session.flush()
    record(
        actor,
        "credit_system.updated",
        "credit_system",
        system.id,
        before=before,
        after=_system_state(system),
    )
    return system


# ---------------------------------------------------------------------------- conversion


def _scale_error(exc: scales.ScaleError, field: str) -> ValidationError:
    if exc.reason == "unknown_grade":
        return validation.error(field, "unknown_grade", grade=str(exc.value))
    return validation.error(field, exc.reason)


def convert_grade(
    source: GradeScale, target: GradeScale, *, percent: Any = None, grade: str | None = None
) -> scales.Conversion:
    """A result in ``source`` (a percent, or a grade label) as a grade of ``target``,
    through percent and never turning a pass into a fail or a fail into a pass (the rules
    are in ``lms.credits.scales``). Exactly one of ``percent`` and ``grade`` is given."""
    if (percent is None) == (grade is None or grade == ""):
        raise ValidationError(
            _("Give either a percentage or a grade."),
            errors=[
                {"field": "percent", "message": _("Give either a percentage or a grade.")},
            ],
        )
    src, dst = scale_of(source), scale_of(target)
    if percent is not None:
        try:
            return scales.convert_percent(src, dst, percent)
        except scales.ScaleError as exc:
            raise _scale_error(exc, "percent") from None
    try:
        return scales.convert_grade(src, dst, grade or "")
    except scales.ScaleError as exc:
        raise _scale_error(exc, "grade") from None


def band_for_points(scale: GradeScale, points: Any) -> tuple[Decimal, Decimal]:
    """The percent range that earns ``points`` in ``scale``."""
    try:
        return scales.percent_range_for_points(scale_of(scale), points)
    except scales.ScaleError as exc:
        raise _scale_error(exc, "points") from None


def credits_for_hours(system: CreditSystem, hours: Any) -> Decimal:
    """Credits for ``hours`` of learning under the system's rounding rule."""
    try:
        return scales.credits_for_hours(hours, rule_of(system))
    except scales.ScaleError as exc:
        raise _scale_error(exc, "hours") from None


def hours_for_credits(system: CreditSystem, credits: Any) -> Decimal:
    """The notional hours ``credits`` of ``system`` stand for."""
    try:
        return scales.hours_for_credits(credits, rule_of(system))
    except scales.ScaleError as exc:
        raise validation.error("credits", exc.reason) from None


def convert_credits(source: CreditSystem, target: CreditSystem, credits: Any) -> Decimal:
    """Credits of ``source`` in ``target``, through notional hours."""
    try:
        return scales.convert_credits(credits, rule_of(source), rule_of(target))
    except scales.ScaleError as exc:
        raise _scale_error(exc, "credits") from None


# ---------------------------------------------------------------------------- settings


@dataclass
class CreditSettings:
    """What an institution uses; ``*_inherited`` when it is its country's national default
    because the institution chose none."""

    credit_system: CreditSystem | None
    grade_scale: GradeScale | None
    system_inherited: bool
    scale_inherited: bool


def _national(model: type, country: str) -> Any:
    return db.session.scalar(
        select(model)
        .where(model.institution_id.is_(None), model.country == country)
        .order_by(model.id)
        .limit(1)
    )


def settings_for(institution: Institution) -> CreditSettings:
    """The credit system and grade scale ``institution`` uses: its own choice, else the
    national default of its country (None when its country has none)."""
    row = db.session.scalar(
        select(InstitutionCreditSettings).filter_by(institution_id=institution.id)
    )
    system = row.credit_system if row else None
    scale = row.grade_scale if row else None
    return CreditSettings(
        credit_system=system or _national(CreditSystem, institution.country),
        grade_scale=scale or _national(GradeScale, institution.country),
        system_inherited=system is None,
        scale_inherited=scale is None,
    )


def set_institution_settings(
    actor: User | None,
    institution: Institution,
    *,
    credit_system: CreditSystem | None,
    grade_scale: GradeScale | None,
) -> InstitutionCreditSettings:
    """Choose the credit system and grade scale of ``institution`` (its registrars and
    administrators). Each must be a national default or the institution's own; None means
    "use the national default of the institution's country"."""
    if actor is not None:
        require(actor, MANAGE, institution)
    errors: list[ValidationError] = []
    if credit_system is not None and credit_system.institution_id not in (None, institution.id):
        errors.append(
            field_error(
                "credit_system",
                _("Choose a credit system of this institution or a national default."),
            )
        )
    if grade_scale is not None and grade_scale.institution_id not in (None, institution.id):
        errors.append(
            field_error(
                "grade_scale", _("Choose a grade scale of this institution or a national default.")
            )
        )
    validation.raise_all(errors)
    row = db.session.scalar(
        select(InstitutionCreditSettings).filter_by(institution_id=institution.id)
    )
    if row is None:
        row = InstitutionCreditSettings(institution=institution)
        db.session.add(row)
    before = {
        "credit_system": row.credit_system.ref if row.credit_system else None,
        "grade_scale": row.grade_scale.ref if row.grade_scale else None,
    }
    row.credit_system = credit_system
    row.grade_scale = grade_scale
    db.session.flush()
    record(
        actor,
        "credit_settings.changed",
        "institution",
        institution.id,
        before=before,
        after={
            "credit_system": credit_system.ref if credit_system else None,
            "grade_scale": grade_scale.ref if grade_scale else None,
        },
    )
    return row


# ---------------------------------------------------------------------------- seeding


@dataclass
class SeedReport:
    scales_created: list[str]
    systems_created: list[str]


def seed_national_defaults() -> SeedReport:
    """Create the national default grade scale and credit system of China and each ASEAN
    country (``lms.credits.national``) that does not exist yet. Idempotent: an existing
    default, possibly edited since, is left as it is. Each creation is audited (system)."""
    report = SeedReport([], [])
    for spec in national.national_scales():
        if _by_ref(GradeScale, spec.code) is None:
            create_scale(
                None,
                None,
                code=spec.code,
                names=spec.names,
                country=spec.country,
                direction=spec.direction,
                pass_mark=spec.pass_mark,
                bands=[
                    BandInput(b.label, b.min_percent, b.max_percent, b.points, b.passing, b.names)
                    for b in spec.bands
                ],
                notes=spec.notes,
            )
            report.scales_created.append(spec.code)
    for spec in national.national_systems():
        if _by_ref(CreditSystem, spec.code) is None:
            create_credit_system(
                None,
                None,
                code=spec.code,
                names=spec.names,
                country=spec.country,
                hours_per_credit=spec.rule.hours_per_credit,
                rounding_step=spec.rule.rounding_step,
                rounding_mode=spec.rule.rounding_mode,
                notes=spec.notes,
            )
            report.systems_created.append(spec.code)
    return report
