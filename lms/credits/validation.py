"""Validation of grade scales and credit systems as registrars type them: parsing, the checks
of ``lms.credits.scales``, and translated messages located at the field. Internal to the
credits domain; ``lms.credits.services`` is its public face."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _

from lms.accounts import services as accounts
from lms.core import text
from lms.core.errors import ValidationError, field_error
from lms.core.i18n import LANGUAGES
from lms.credits import scales
from lms.credits.models import DIRECTIONS

ROUNDING_STEPS = ("0.01", "0.1", "0.25", "0.5", "1")
_CODE = re.compile(r"[A-Z0-9](?:[A-Z0-9._-]{0,30}[A-Z0-9])?")
_CENT = Decimal("0.01")


# ---------------------------------------------------------------------------- messages


def message(problem: scales.Problem) -> str:
    """The translated sentence for a problem found by ``lms.credits.scales``."""
    v = {k: format_decimal(x) if isinstance(x, Decimal) else x for k, x in problem.values.items()}
    messages = {
        "direction_unknown": lambda: _("Choose whether higher or lower grade points are better."),
        "too_few_bands": lambda: _("A scale needs at least two bands: one that passes and one that fails."),  # noqa: E501
        "label_missing": lambda: _("Give the band a label."),
        "label_long": lambda: _("A label has at most 16 characters."),
        "label_duplicate": lambda: _("Another band already has the label %(label)s.", **v),
        "points_range": lambda: _("Grade points must be between 0 and 100."),
        "band_range": lambda: _("The lower bound must be below the upper bound, both between 0 and 100."),  # noqa: E501
        "gap": lambda: _("No band covers the marks from %(start)s to %(end)s.", **v),
        "overlap": lambda: _("This band overlaps the band %(other)s.", **v),
        "points_order": lambda: _("Grade points must not get better as the mark gets lower."),
        "pass_mark_range": lambda: _("The pass mark must be above 0 and below 100."),
        "pass_mark_boundary": lambda: _("The pass mark must be where a band starts, so that each band either passes or fails."),  # noqa: E501
        "passing_mismatch": lambda: _("A band passes exactly when it starts at or above the pass mark."),  # noqa: E501
        "hours_per_credit_range": lambda: _("Hours per credit must be more than 0 and at most 1000."),  # noqa: E501
        "rounding_step_range": lambda: _("Choose a rounding step."),
        "rounding_mode_unknown": lambda: _("Choose a rounding rule."),
        "percent_range": lambda: _("Enter a percentage between 0 and 100."),
        "unknown_grade": lambda: _("This scale has no grade %(grade)s.", grade=problem.values.get("grade", "")),  # noqa: E501
        "unknown_points": lambda: _("No grade of this scale has these grade points."),
        "hours_range": lambda: _("Hours cannot be negative."),
        "credits_range": lambda: _("Credits cannot be negative."),
        "number": lambda: _("Please enter a number."),
        "places": lambda: _("Use at most two decimal places."),
    }  # fmt: skip
    return messages[problem.reason]()


def error(field: str, reason: str, **values: Any) -> ValidationError:
    return field_error(field, message(scales.Problem(field, reason, values)))


def raise_all(errors: list[ValidationError]) -> None:
    if errors:
        raise ValidationError(
            _("Please correct the fields listed below."),
            errors=[e for err in errors for e in err.errors],
        )


# ---------------------------------------------------------------------------- cleaning


def number(value: Any, field: str, errors: list[ValidationError]) -> Decimal | None:
    """A Decimal with at most two places, or None after recording the problem."""
    try:
        parsed = scales.to_decimal(value if value not in (None, "") else "x")
        exact = parsed == parsed.quantize(_CENT)
    except (scales.ScaleError, InvalidOperation):
        errors.append(error(field, "number"))
        return None
    if not exact:
        errors.append(error(field, "places"))
        return None
    return parsed


def clean_code(value: str) -> str:
    try:
        code = text.identifier(value or "").upper()
    except text.TextError:
        code = ""
    if not _CODE.fullmatch(code):
        raise field_error(
            "code", _("Use letters, digits, dots, hyphens and underscores (at most 32).")
        )
    return code


def clean_names(names: Mapping[str, str] | None, field: str = "names") -> dict[str, str]:
    out: dict[str, str] = {}
    errors: list[ValidationError] = []
    for loc, name in (names or {}).items():
        if loc not in LANGUAGES:
            errors.append(
                field_error(f"{field}.{loc}", _("Please choose one of the offered languages."))
            )
            continue
        cleaned = text.display(name or "")
        if cleaned:
            out[loc] = text.truncate(cleaned, 200)
    raise_all(errors)
    return out


def clean_country(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in accounts.country_codes():
        raise field_error("country", _("Please choose a country."))
    return code


def collect(errors: list[ValidationError], fn, *args: Any) -> Any:
    try:
        return fn(*args)
    except ValidationError as exc:
        errors.append(exc)
        return None


@dataclass
class BandInput:
    """One band as a registrar typed it. ``passing`` may be left out: it then follows from
    the pass mark."""

    label: str
    min_percent: Any
    max_percent: Any
    points: Any
    passing: bool | None = None
    names: Mapping[str, str] | None = None


def band_input(item: BandInput | Mapping[str, Any]) -> BandInput:
    if isinstance(item, BandInput):
        return item
    return BandInput(
        label=item.get("label") or "",
        min_percent=item.get("min_percent"),
        max_percent=item.get("max_percent"),
        points=item.get("points"),
        passing=item.get("passing"),
        names=item.get("names"),
    )


def clean_bands(
    raw: Sequence[BandInput | Mapping[str, Any]],
    direction: str,
    pass_mark: Any,
    errors: list[ValidationError],
) -> tuple[Decimal | None, list[scales.Band]]:
    """Parse the bands and run every check of ``scales.check_scale`` on them."""
    mark = number(pass_mark, "pass_mark", errors)
    bands: list[scales.Band] = []
    parsed_ok = mark is not None
    for i, item in enumerate(map(band_input, raw)):
        lo = number(item.min_percent, f"bands.{i}.min_percent", errors)
        hi = number(item.max_percent, f"bands.{i}.max_percent", errors)
        points = number(item.points, f"bands.{i}.points", errors)
        names = collect(errors, clean_names, item.names, f"bands.{i}.names") or {}
        if lo is None or hi is None or points is None:
            parsed_ok = False
            continue
        passing = item.passing
        if passing is None:
            passing = mark is not None and lo >= mark
        bands.append(
            scales.Band(text.display(item.label or ""), lo, hi, points, bool(passing), names)
        )
    if parsed_ok:
        for problem in scales.check_scale(direction, mark, bands):
            errors.append(field_error(problem.field, message(problem)))
    elif not raw:
        errors.append(error("bands", "too_few_bands"))
    return mark, bands


def clean_scale(data: Mapping[str, Any], errors: list[ValidationError]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "names" in data:
        out["names"] = collect(errors, clean_names, data["names"])
        if out["names"] == {}:
            errors.append(field_error("names", _("Give a name in at least one language.")))
    if "country" in data:
        out["country"] = collect(errors, clean_country, data["country"])
    direction = data.get("direction")
    if direction not in DIRECTIONS:
        errors.append(error("direction", "direction_unknown"))
    out["direction"] = direction
    out["pass_mark"], out["bands"] = clean_bands(
        data.get("bands") or [], direction, data.get("pass_mark"), errors
    )
    if "notes" in data:
        out["notes"] = text.truncate(text.display(data["notes"] or "", multiline=True), 1000)
    return out


def clean_system(data: Mapping[str, Any], errors: list[ValidationError]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "names" in data:
        out["names"] = collect(errors, clean_names, data["names"])
        if out["names"] == {}:
            errors.append(field_error("names", _("Give a name in at least one language.")))
    if "country" in data:
        out["country"] = collect(errors, clean_country, data["country"])
    hours = number(data.get("hours_per_credit"), "hours_per_credit", errors)
    step = number(data.get("rounding_step"), "rounding_step", errors)
    mode = data.get("rounding_mode")
    if step is not None and step not in {Decimal(s) for s in ROUNDING_STEPS}:
        errors.append(error("rounding_step", "rounding_step_range"))
        step = None
    rule = scales.CreditRule(
        Decimal(1) if hours is None else hours, Decimal(1) if step is None else step, mode
    )
    for problem in scales.check_rule(rule):
        parsed = {"hours_per_credit": hours, "rounding_step": step}.get(problem.field, mode)
        if parsed is not None:  # unparsed numbers are reported already
            errors.append(field_error(problem.field, message(problem)))
    out.update(hours_per_credit=hours, rounding_step=step, rounding_mode=mode)
    if "notes" in data:
        out["notes"] = text.truncate(text.display(data["notes"] or "", multiline=True), 1000)
    return out
