"""The pure arithmetic of ``lms.credits.scales``: hand-computed examples, then properties
checked by Hypothesis on every seeded national scale and on generated scales."""

from decimal import Decimal as D

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lms.credits import national
from lms.credits.scales import (
    HIGHER_BETTER,
    LOWER_BETTER,
    Band,
    CreditRule,
    Scale,
    ScaleError,
    band_for_grade,
    band_for_percent,
    check_scale,
    convert_credits,
    convert_grade,
    convert_percent,
    credits_for_hours,
    percent_for_grade,
    percent_range_for_points,
    points_for_grade,
)

NATIONAL = {
    s.code: Scale(s.code, s.direction, s.pass_mark, s.bands) for s in national.national_scales()
}
CN, PH, TH, ID, MY = (NATIONAL[c] for c in ("CN-100", "PH-5", "TH-4", "ID-4", "MY-4"))


# ---------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    "percent, label",
    [(100, "A"), (90, "A"), ("89.99", "B"), (85, "B"), (60, "D"), ("59.99", "F"), (0, "F")],
)
def test_china_percent_to_grade(percent, label):
    assert band_for_percent(CN, percent).label == label


def test_85_percent_in_china_is_2_00_in_the_philippines():
    conv = convert_percent(CN, PH, 85)
    assert (conv.source.label, conv.source.points) == ("B", D("3"))
    assert (conv.target.label, conv.target.points) == ("2.00", D("2.00"))
    assert conv.passing and not conv.adjusted
    by_grade = convert_grade(CN, PH, "B")  # B stands for 85, the middle of 80–90
    assert by_grade.percent == 85 and by_grade.target.label == "2.00"
    # the B band overlaps four Philippine grades; all are passes
    assert [b.label for b in by_grade.possible] == ["2.50", "2.25", "2.00", "1.75"]


def test_philippine_scale_is_lower_is_better():
    assert band_for_percent(PH, 100).label == "1.00"
    assert band_for_percent(PH, 75).label == "3.00" and band_for_percent(PH, 75).passing
    assert band_for_percent(PH, "74.99").label == "5.00"
    assert not band_for_percent(PH, "74.99").passing
    assert band_for_grade(PH, "1").label == "1.00"  # a number finds the one band with it
    assert points_for_grade(PH, "2.75") == D("2.75")


def test_a_china_pass_stays_a_pass_in_the_philippines():
    # 65 % passes in China (D) but is under the Philippine pass mark of 75 %
    conv = convert_percent(CN, PH, 65)
    assert conv.source.passing and conv.passing and conv.adjusted
    assert conv.target.label == "3.00"
    assert convert_grade(CN, PH, "D").target.label == "3.00"


def test_a_fail_stays_a_fail():
    # Indonesia fails 50 % (D, pass mark 56 %); Thailand would pass it (D at 50 %)
    conv = convert_percent(ID, TH, 50)
    assert not conv.source.passing and not conv.passing and conv.adjusted
    assert conv.target.label == "F"
    assert convert_grade(PH, CN, "5.00").target.label == "F"
    # and a Thai 55 % pass (D+) becomes Indonesia's lowest pass, not its failing D
    assert convert_percent(TH, ID, 55).target.label == "C"


def test_grade_lookups():
    assert band_for_grade(TH, "b+").label == "B+"
    assert percent_for_grade(PH, "3.00") == D("75.5")
    assert percent_range_for_points(MY, 4) == (80, 100)  # A+ and A share 4.0
    assert percent_range_for_points(PH, "2.0") == (85, 88)
    with pytest.raises(ScaleError) as exc:
        percent_range_for_points(TH, "3.2")
    assert exc.value.reason == "unknown_points"
    with pytest.raises(ScaleError) as exc:
        band_for_grade(TH, "Z")
    assert exc.value.reason == "unknown_grade"


@pytest.mark.parametrize("bad", [-1, "100.01", "NaN", "Infinity", "abc", None, True])
def test_percent_outside_0_100_is_refused(bad):
    with pytest.raises(ScaleError) as exc:
        band_for_percent(CN, bad)
    assert exc.value.reason == "percent_range"


@pytest.mark.parametrize(
    "hours, per_credit, step, mode, credits",
    [
        (48, 16, "0.5", "half_up", "3.0"),  # the classic 16 学时 = 1 学分
        (50, 16, "0.5", "half_up", "3.0"),  # 3.125 → 3.0
        (52, 16, "0.5", "half_up", "3.5"),  # 3.25 is a tie: upwards
        (52, 16, "0.5", "down", "3.0"),
        (44, 16, "0.5", "half_up", "3.0"),  # 2.75 is a tie: upwards
        (50, 16, "0.1", "half_up", "3.1"),  # 3.125 → 3.1
        (100, 45, "1", "half_up", "2"),
        (0, 15, "0.5", "half_up", "0.0"),
    ],
)
def test_credits_for_hours(hours, per_credit, step, mode, credits):
    rule = CreditRule(D(per_credit), D(step), mode)
    result = credits_for_hours(hours, rule)
    assert result == D(credits) and str(result) == credits


def test_credits_between_systems_go_through_hours():
    china = CreditRule(D(16), D("0.5"), "half_up")
    philippines = CreditRule(D(18), D("0.5"), "half_up")
    assert convert_credits(3, china, philippines) == D("2.5")  # 48 h / 18 = 2.67 → 2.5
    assert convert_credits("2.5", philippines, china) == D("3.0")  # 45 h / 16 = 2.81 → 3.0
    with pytest.raises(ScaleError):
        credits_for_hours(-1, china)


def _problems(bands, pass_mark=60, direction=HIGHER_BETTER):
    return {(p.field, p.reason) for p in check_scale(direction, D(pass_mark), bands)}


def _b(label, lo, hi, points, passing):
    return Band(label, D(lo), D(hi), D(points), passing)


def test_check_scale_locates_overlaps_gaps_and_pass_mark():
    sound = [_b("P", 60, 100, 1, True), _b("F", 0, 60, 0, False)]
    assert _problems(sound) == set()
    overlap = [_b("P", 55, 100, 1, True), _b("F", 0, 60, 0, False)]
    assert ("bands.0.min_percent", "overlap") in _problems(overlap, 55)
    gap = [_b("P", 61, 100, 1, True), _b("F", 0, 60, 0, False)]
    assert ("bands.0.min_percent", "gap") in _problems(gap, 61)
    short = [_b("P", 60, 99, 1, True), _b("F", 0, 60, 0, False)]
    assert ("bands.0.max_percent", "gap") in _problems(short)
    assert _problems(sound, 65) == {("pass_mark", "pass_mark_boundary")}
    assert _problems(sound, 100) == {("pass_mark", "pass_mark_range")}
    assert _problems(sound, 0) == {("pass_mark", "pass_mark_range")}
    flipped = [_b("P", 60, 100, 1, False), _b("F", 0, 60, 0, False)]
    assert _problems(flipped) == {("bands.0.passing", "passing_mismatch")}
    wrong_way = [_b("P", 60, 100, 1, True), _b("F", 0, 60, 2, False)]
    assert _problems(wrong_way) == {("bands.0.points", "points_order")}
    assert _problems(wrong_way, direction=LOWER_BETTER) == set()
    twice = [_b("P", 60, 100, 1, True), _b("p", 0, 60, 0, False)]
    assert ("bands.1.label", "label_duplicate") in _problems(twice)


def test_every_national_scale_is_sound():
    assert set(NATIONAL) == {
        "CN-100",
        "TH-4",
        "VN-10",
        "ID-4",
        "MY-4",
        "PH-5",
        "KH-4",
        "LA-4",
        "MM-4",
        "SG-5",
        "BN-4",
        "TL-100",
    }
    for scale in NATIONAL.values():
        assert check_scale(scale.direction, scale.pass_mark, scale.bands) == [], scale.code
    assert PH.direction == LOWER_BETTER
    assert all(s.direction == HIGHER_BETTER for c, s in NATIONAL.items() if c != "PH-5")


# ---------------------------------------------------------------------------- properties


@st.composite
def generated_scales(draw) -> Scale:
    """A random sound scale: 2–12 bands cut at hundredths, points running in a random
    direction (equal neighbours allowed), the pass mark on a random inner cut."""
    n = draw(st.integers(min_value=2, max_value=12))
    cuts = sorted(draw(st.sets(st.integers(1, 9999), min_size=n - 1, max_size=n - 1)))
    bounds = [D(0), *(D(c) / 100 for c in cuts), D(100)]
    direction = draw(st.sampled_from([HIGHER_BETTER, LOWER_BETTER]))
    points = sorted(draw(st.lists(st.integers(0, 500), min_size=n, max_size=n)))
    if direction == LOWER_BETTER:
        points.reverse()
    first_pass = draw(st.integers(min_value=1, max_value=n - 1))
    bands = tuple(
        Band(f"G{i}", bounds[i], bounds[i + 1], D(points[i]) / 100, i >= first_pass)
        for i in reversed(range(n))
    )
    return Scale("GEN", direction, bounds[first_pass], bands)


any_scale = st.one_of(st.sampled_from(list(NATIONAL.values())), generated_scales())
percents = st.decimals(min_value=0, max_value=100, places=3)


def _better_or_equal_points(scale: Scale, a: D, b: D) -> bool:
    return a >= b if scale.direction == HIGHER_BETTER else a <= b


@given(generated_scales())
def test_generated_scales_are_sound(scale):
    assert check_scale(scale.direction, scale.pass_mark, scale.bands) == []


@given(any_scale, percents, percents)
def test_percent_to_grade_is_monotonic_in_the_scales_direction(scale, p, q):
    low, high = sorted((p, q))
    a, b = band_for_percent(scale, low), band_for_percent(scale, high)
    assert a.min_percent <= b.min_percent
    assert _better_or_equal_points(scale, b.points, a.points)
    assert not (a.passing and not b.passing)  # more marks never turn a pass into a fail
    assert a.passing == (low >= scale.pass_mark)


@given(any_scale, any_scale, percents)
def test_converting_a_percent_never_flips_pass_and_fail(source, target, p):
    conv = convert_percent(source, target, p)
    assert conv.passing == conv.source.passing == (p >= source.pass_mark)


@given(any_scale, any_scale, st.data())
def test_converting_a_grade_never_flips_pass_and_fail(source, target, data):
    band = data.draw(st.sampled_from(source.bands))
    conv = convert_grade(source, target, band.label)
    assert conv.source == band
    assert conv.passing == band.passing
    assert conv.target in target.bands
    assert all(b.passing == band.passing for b in conv.possible)


@given(any_scale, any_scale, percents, percents)
def test_conversion_is_monotonic(source, target, p, q):
    low, high = sorted((p, q))
    a, b = convert_percent(source, target, low), convert_percent(source, target, high)
    assert a.target.min_percent <= b.target.min_percent


@given(any_scale, st.data())
def test_grade_to_percent_to_grade_round_trips(scale, data):
    band = data.draw(st.sampled_from(scale.bands))
    assert band_for_percent(scale, percent_for_grade(scale, band.label)) == band
    assert convert_grade(scale, scale, band.label).target == band
    low, high = percent_range_for_points(scale, band.points)
    assert low <= band.min_percent < band.max_percent <= high


@given(any_scale, percents)
def test_percent_to_grade_to_percent_stays_in_the_band(scale, p):
    band = band_for_percent(scale, p)
    assert band.holds(p)
    assert band_for_percent(scale, percent_for_grade(scale, band.label)) == band


rules = st.builds(
    CreditRule,
    hours_per_credit=st.decimals(min_value="0.5", max_value=100, places=2),
    rounding_step=st.sampled_from([D("0.01"), D("0.1"), D("0.25"), D("0.5"), D(1)]),
    rounding_mode=st.sampled_from(["half_up", "down"]),
)
hours = st.decimals(min_value=0, max_value=10000, places=2)


@given(rules, hours, hours)
def test_credits_from_hours_are_monotonic(rule, h1, h2):
    low, high = sorted((h1, h2))
    assert credits_for_hours(low, rule) <= credits_for_hours(high, rule)


@given(rules, hours)
def test_credits_round_as_stated(rule, h):
    credits = credits_for_hours(h, rule)
    exact = h / rule.hours_per_credit
    step = rule.rounding_step
    assert credits % step == 0  # a whole number of steps
    if rule.rounding_mode == "half_up":
        # nearest multiple of the step; a tie goes up
        assert exact - step / 2 < credits <= exact + step / 2
    else:
        assert credits <= exact < credits + step


@given(rules, st.integers(min_value=0, max_value=500))
def test_whole_credits_of_hours_survive_the_round_trip(rule, n):
    assume(n * rule.hours_per_credit <= 100000)
    # n credits' worth of hours gives back n credits when n is a multiple of the step
    credits = D(n) * rule.rounding_step
    assert credits_for_hours(credits * rule.hours_per_credit, rule) == credits
    assert convert_credits(credits, rule, rule) == credits


@given(rules, st.integers(min_value=0, max_value=1000))
def test_a_tie_rounds_up_under_half_up_and_down_under_down(rule, k):
    # hours worth exactly k and a half steps
    tie = (D(k) + D("0.5")) * rule.rounding_step * rule.hours_per_credit
    expected = (k + 1 if rule.rounding_mode == "half_up" else k) * rule.rounding_step
    assert credits_for_hours(tie, rule) == expected
