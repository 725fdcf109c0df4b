"""Property-based checks of the grading rules (Hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lms.assessment import grading

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@given(TEXT, st.booleans(), st.booleans(), st.booleans())
def test_normalising_is_idempotent(value, case, width, diacritics):
    opts = {"case_sensitive": case, "fold_width": width, "diacritics": diacritics}
    once = grading.normalise_short(value, **opts)
    assert grading.normalise_short(once, **opts) == once


@given(TEXT)
def test_an_accepted_answer_always_matches_itself(value):
    data = {"answers": [{"text": value, "fraction": 1.0}], "diacritics": False}
    if value.strip():
        assert grading.auto_fraction("short", data, value) == 1.0


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(0, 1e3, allow_nan=False),
    st.floats(-1e6, 1e6, allow_nan=False),
)
def test_numerical_within_tolerance_only(value, tolerance, given_value):
    data = {"answers": [{"value": value, "tolerance": tolerance, "fraction": 1.0}]}
    expected = 1.0 if abs(given_value - value) <= tolerance + 1e-12 else 0.0
    assert grading.auto_fraction("numerical", data, repr(given_value)) == expected


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True))
def test_multiple_response_stays_between_zero_and_one(chosen):
    data = {
        "choices": [
            {"id": "a", "fraction": 0.5},
            {"id": "b", "fraction": 0.5},
            {"id": "c", "fraction": -1.0},
            {"id": "d", "fraction": -0.5},
        ]
    }
    frac = grading.auto_fraction("multiple", data, chosen)
    assert 0.0 <= frac <= 1.0
    assert grading.points(frac, Decimal("4")) <= Decimal("4")
