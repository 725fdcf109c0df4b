"""Grade and credit arithmetic: pure functions over plain values, no database, ``Decimal``
throughout (never ``float``).

Grades
    A scale is a list of bands. A band holds the percents ``min_percent ≤ p < max_percent``;
    the top band also holds 100. Bands tile 0–100 exactly (no gap, no overlap). Each band has
    a label, grade points and a passing flag; ``pass_mark`` is the lowest passing percent and
    must be the lower bound of a band, so a band is wholly passing or wholly failing.
    ``direction`` says which way grade points run: ``higher_better`` (4.0 = A) or
    ``lower_better`` (the Philippines: 1.00 best, 3.00 the lowest pass, 5.00 fail).

Conversion between scales goes through percent:
    * from a percent: the target grade is the target band holding that percent;
    * from a grade: the grade stands for its *representative percent*, the midpoint of its
      band's range (``(min + max) / 2``), which is then looked up in the target scale. When
      the bands of the two scales do not align, a source band may overlap several target
      bands; the midpoint picks one and ``Conversion.possible`` lists them all;
    * pass and fail never flip: if the looked-up target band would fail a passing result, the
      target's lowest passing band is taken instead; if it would pass a failing result, the
      target's highest failing band is taken (``Conversion.adjusted`` is then true). Pass
      marks differ between countries (China 60 %, the Philippines 75 %), so this matters.

Credits
    ``credits = round(hours / hours_per_credit)`` to a multiple of the system's
    ``rounding_step``: ``half_up`` rounds to the nearest multiple, ties upwards (48 h at
    16 h/credit = 3 credits; 52 h = 3.25 → 3.5 with step 0.5); ``down`` never credits hours
    not completed (52 h → 3.0). Between two systems credits travel through notional hours:
    ``hours = credits × hours_per_credit`` of the source, then the target's own rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from itertools import pairwise

HIGHER_BETTER = "higher_better"
LOWER_BETTER = "lower_better"
HALF_UP = "half_up"
DOWN = "down"

ZERO = Decimal(0)
HUNDRED = Decimal(100)
TWO = Decimal(2)


class ScaleError(ValueError):
    """A value that does not fit a scale or credit rule. ``reason`` is machine-readable
    (``percent_range``, ``unknown_grade``, ``unknown_points``, ``hours_range``, …); the
    services turn it into a translated message."""

    def __init__(self, reason: str, value: object = None):
        super().__init__(f"{reason}: {value!r}")
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class Band:
    label: str
    min_percent: Decimal
    max_percent: Decimal
    points: Decimal
    passing: bool
    names: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def holds(self, percent: Decimal) -> bool:
        """True when ``percent`` is in this band (the top band holds 100 as well)."""
        return self.min_percent <= percent < self.max_percent or (
            percent == self.max_percent == HUNDRED
        )

    @property
    def representative_percent(self) -> Decimal:
        """The percent that stands for this grade when converting: the band's midpoint."""
        return (self.min_percent + self.max_percent) / TWO


@dataclass(frozen=True)
class Scale:
    code: str
    direction: str
    pass_mark: Decimal
    bands: tuple[Band, ...]

    def ordered(self) -> tuple[Band, ...]:
        """Bands from the lowest percent to the highest."""
        return tuple(sorted(self.bands, key=lambda b: b.min_percent))

    @property
    def lowest_pass(self) -> Band:
        return min((b for b in self.bands if b.passing), key=lambda b: b.min_percent)

    @property
    def highest_fail(self) -> Band:
        return max((b for b in self.bands if not b.passing), key=lambda b: b.min_percent)


@dataclass(frozen=True)
class CreditRule:
    hours_per_credit: Decimal
    rounding_step: Decimal = Decimal("0.5")
    rounding_mode: str = HALF_UP


@dataclass(frozen=True)
class Conversion:
    percent: Decimal  # the percent the conversion went through
    source: Band
    target: Band
    adjusted: bool  # the target band was moved to keep pass / fail
    possible: tuple[Band, ...]  # target bands the source band's range overlaps, worst first

    @property
    def passing(self) -> bool:
        return self.target.passing


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scale or rule, located at ``field`` (``bands.2.min_percent``,
    ``pass_mark`` …) with a machine-readable ``reason`` and the values a message needs."""

    field: str
    reason: str
    values: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------------------- numbers


def to_decimal(value: object, reason: str = "number") -> Decimal:
    """``value`` as a finite Decimal (ints and strings are exact; floats go through their
    shortest repr, so ``79.99`` stays 79.99). Raises ``ScaleError(reason)`` otherwise."""
    if isinstance(value, bool):
        raise ScaleError(reason, value)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ScaleError(reason, value) from None
    if not number.is_finite():
        raise ScaleError(reason, value)
    return number


def _percent(value: object) -> Decimal:
    percent = to_decimal(value, "percent_range")
    if not ZERO <= percent <= HUNDRED:
        raise ScaleError("percent_range", value)
    return percent


# ---------------------------------------------------------------------------- validation


def check_scale(direction: str, pass_mark: object, bands: Sequence[Band]) -> list[Problem]:
    """Everything wrong with a scale, each problem located at the field (band indices are
    those of ``bands`` as given). An empty list means the scale is sound:

    * at least two bands, labels present, unique (ignoring case) and at most 16 characters;
    * each band ``0 ≤ min < max ≤ 100``; sorted by ``min`` they meet exactly, start at 0 and
      end at 100 (no gap, no overlap);
    * grade points ≥ 0 and never better for a lower percent (in the scale's direction);
    * the pass mark lies strictly between 0 and 100 on the lower bound of a band, every band
      from there up passes and every band below fails."""
    problems: list[Problem] = []
    if direction not in (HIGHER_BETTER, LOWER_BETTER):
        problems.append(Problem("direction", "direction_unknown"))
    if len(bands) < 2:
        problems.append(Problem("bands", "too_few_bands"))
    seen: dict[str, int] = {}
    sound: list[tuple[int, Band]] = []
    for i, band in enumerate(bands):
        label = band.label.strip()
        if not label:
            problems.append(Problem(f"bands.{i}.label", "label_missing"))
        elif len(label) > 16:
            problems.append(Problem(f"bands.{i}.label", "label_long"))
        elif label.casefold() in seen:
            problems.append(Problem(f"bands.{i}.label", "label_duplicate", {"label": label}))
        else:
            seen[label.casefold()] = i
        if band.points < ZERO or band.points > HUNDRED:
            problems.append(Problem(f"bands.{i}.points", "points_range"))
        if not (ZERO <= band.min_percent < band.max_percent <= HUNDRED):
            bad = "min_percent" if not ZERO <= band.min_percent < HUNDRED else "max_percent"
            problems.append(Problem(f"bands.{i}.{bad}", "band_range"))
        else:
            sound.append((i, band))
    sound.sort(key=lambda item: (item[1].min_percent, item[1].max_percent))
    if sound and sound[0][1].min_percent != ZERO:
        i, first = sound[0]
        problems.append(
            Problem(f"bands.{i}.min_percent", "gap", {"start": ZERO, "end": first.min_percent})
        )
    for (_i, low), (j, high) in pairwise(sound):
        if high.min_percent < low.max_percent:
            problems.append(
                Problem(f"bands.{j}.min_percent", "overlap", {"other": low.label.strip()})
            )
        elif high.min_percent > low.max_percent:
            problems.append(
                Problem(
                    f"bands.{j}.min_percent",
                    "gap",
                    {"start": low.max_percent, "end": high.min_percent},
                )
            )
        if direction in (HIGHER_BETTER, LOWER_BETTER):
            worse = (
                high.points < low.points
                if direction == HIGHER_BETTER
                else (high.points > low.points)
            )
            if worse:
                problems.append(Problem(f"bands.{j}.points", "points_order"))
    if sound and sound[-1][1].max_percent != HUNDRED:
        i, last = sound[-1]
        problems.append(
            Problem(f"bands.{i}.max_percent", "gap", {"start": last.max_percent, "end": HUNDRED})
        )
    try:
        mark = to_decimal(pass_mark, "pass_mark_range")
    except ScaleError:
        problems.append(Problem("pass_mark", "pass_mark_range"))
        return problems
    if not ZERO < mark < HUNDRED:
        problems.append(Problem("pass_mark", "pass_mark_range"))
        return problems
    if sound and all(b.min_percent != mark for _i, b in sound):
        problems.append(Problem("pass_mark", "pass_mark_boundary"))
        return problems
    for i, band in sound:
        if band.passing != (band.min_percent >= mark):
            problems.append(Problem(f"bands.{i}.passing", "passing_mismatch"))
    return problems


# ---------------------------------------------------------------------------- grades


def band_for_percent(scale: Scale, percent: object) -> Band:
    """The band holding ``percent`` (0–100). Raises ``ScaleError('percent_range')``."""
    value = _percent(percent)
    for band in scale.bands:
        if band.holds(value):
            return band
    raise ScaleError("percent_range", percent)  # only for an unsound scale


def grade_for_percent(scale: Scale, percent: object) -> str:
    return band_for_percent(scale, percent).label


def points_for_percent(scale: Scale, percent: object) -> Decimal:
    return band_for_percent(scale, percent).points


def band_for_grade(scale: Scale, grade: str) -> Band:
    """The band labelled ``grade``: exactly, then ignoring case, then, for a number such as
    ``"1"`` on the Philippine scale, the one band with those grade points. Raises
    ``ScaleError('unknown_grade')``."""
    wanted = (grade or "").strip()
    for band in scale.bands:
        if band.label == wanted:
            return band
    for band in scale.bands:
        if band.label.casefold() == wanted.casefold():
            return band
    try:
        points = to_decimal(wanted)
    except ScaleError:
        points = None
    if points is not None:
        matches = [b for b in scale.bands if b.points == points]
        if len(matches) == 1:
            return matches[0]
    raise ScaleError("unknown_grade", grade)


def points_for_grade(scale: Scale, grade: str) -> Decimal:
    return band_for_grade(scale, grade).points


def percent_for_grade(scale: Scale, grade: str) -> Decimal:
    """The representative percent of a grade: its band's midpoint."""
    return band_for_grade(scale, grade).representative_percent


def percent_range_for_points(scale: Scale, points: object) -> tuple[Decimal, Decimal]:
    """The percents that earn exactly ``points`` (several bands with equal points, such as
    Malaysia's A+ and A at 4.0, give their joint range). Raises
    ``ScaleError('unknown_points')`` when no band has those points."""
    value = to_decimal(points, "unknown_points")
    matches = [b for b in scale.bands if b.points == value]
    if not matches:
        raise ScaleError("unknown_points", points)
    return min(b.min_percent for b in matches), max(b.max_percent for b in matches)


# ---------------------------------------------------------------------------- conversion


def _overlapping(target: Scale, band: Band) -> tuple[Band, ...]:
    return tuple(
        b
        for b in target.ordered()
        if b.min_percent < band.max_percent and band.min_percent < b.max_percent
    )


def _keep_pass_fail(target: Scale, looked_up: Band, passing: bool) -> tuple[Band, bool]:
    if passing and not looked_up.passing:
        return target.lowest_pass, True
    if not passing and looked_up.passing:
        return target.highest_fail, True
    return looked_up, False


def convert_percent(source: Scale, target: Scale, percent: object) -> Conversion:
    """A percent in ``source`` as a grade of ``target`` (see the module docstring)."""
    value = _percent(percent)
    src = band_for_percent(source, value)
    found, adjusted = _keep_pass_fail(target, band_for_percent(target, value), src.passing)
    return Conversion(value, src, found, adjusted, (found,))


def convert_grade(source: Scale, target: Scale, grade: str) -> Conversion:
    """A grade of ``source`` as a grade of ``target``, through its representative percent,
    keeping pass / fail (see the module docstring)."""
    src = band_for_grade(source, grade)
    value = src.representative_percent
    found, adjusted = _keep_pass_fail(target, band_for_percent(target, value), src.passing)
    possible = tuple(b for b in _overlapping(target, src) if b.passing == src.passing)
    return Conversion(value, src, found, adjusted, possible or (found,))


# ---------------------------------------------------------------------------- credits


def check_rule(rule: CreditRule) -> list[Problem]:
    """Everything wrong with a credit rule: hours per credit in (0, 1000], a rounding step
    in (0, 10], a known rounding mode."""
    problems: list[Problem] = []
    if not ZERO < rule.hours_per_credit <= Decimal(1000):
        problems.append(Problem("hours_per_credit", "hours_per_credit_range"))
    if not ZERO < rule.rounding_step <= Decimal(10):
        problems.append(Problem("rounding_step", "rounding_step_range"))
    if rule.rounding_mode not in (HALF_UP, DOWN):
        problems.append(Problem("rounding_mode", "rounding_mode_unknown"))
    return problems


def credits_for_hours(hours: object, rule: CreditRule) -> Decimal:
    """Credits earned by ``hours`` of learning under ``rule`` (see the module docstring).
    The division and the rounding happen in one step, so a tie such as 52 h / 16 h = 3.25
    is exact and rounds up. Raises ``ScaleError('hours_range')`` for negative hours."""
    value = to_decimal(hours, "hours_range")
    if value < ZERO:
        raise ScaleError("hours_range", hours)
    mode = ROUND_HALF_UP if rule.rounding_mode == HALF_UP else ROUND_FLOOR
    with localcontext() as ctx:
        ctx.prec = 40
        steps = (value / (rule.hours_per_credit * rule.rounding_step)).quantize(
            Decimal(1), rounding=mode
        )
        return (steps * rule.rounding_step).quantize(rule.rounding_step)


def hours_for_credits(credits: object, rule: CreditRule) -> Decimal:
    """The notional hours ``credits`` stand for under ``rule``."""
    value = to_decimal(credits, "credits_range")
    if value < ZERO:
        raise ScaleError("credits_range", credits)
    return value * rule.hours_per_credit


def convert_credits(credits: object, source: CreditRule, target: CreditRule) -> Decimal:
    """Credits of one system in another, through notional hours and the target's rule."""
    return credits_for_hours(hours_for_credits(credits, source), target)
