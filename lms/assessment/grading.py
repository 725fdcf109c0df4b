"""Automatic grading of objective question types: the fraction (0–1) of a question's points
an answer earns. Essays and uploads are graded by hand (``None`` here)."""

from __future__ import annotations

import math
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lms.core.text import nfc


def clamp(fraction: float) -> float:
    return max(0.0, min(1.0, fraction))


def strip_diacritics(value: str) -> str:
    """Latin letters without their marks (Vietnamese ``Điện`` → ``Dien``); marks of other
    scripts, which are letters there (Thai, Khmer), are kept."""
    out: list[str] = []
    latin = False
    for ch in unicodedata.normalize("NFD", value):
        if unicodedata.combining(ch):
            if not latin:
                out.append(ch)
            continue
        if ch in "đĐðÐ":
            ch = "d" if ch in "đð" else "D"
        latin = ch.isascii() or "LATIN" in unicodedata.name(ch, "")
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def normalise_short(
    value: str, *, case_sensitive: bool = False, fold_width: bool = True, diacritics: bool = True
) -> str:
    """A short answer made comparable under the question's options: full-width forms made
    plain (NFKC), case folded unless case matters, Latin diacritics dropped unless they
    matter, runs of white space collapsed."""
    form = "NFKC" if fold_width else "NFC"
    value = unicodedata.normalize(form, str(value or ""))
    if not diacritics:
        value = strip_diacritics(value)
    if not case_sensitive:
        # case folding can undo the normal form (ᾼ → αι with a combining mark); normalise
        # again so that a normalised answer normalises to itself (Unicode's NFKC_Casefold)
        value = unicodedata.normalize(form, value.casefold())
    return " ".join(value.split())


def _short(data: dict[str, Any], answer: Any) -> float:
    if not isinstance(answer, str) or not answer.strip():
        return 0.0
    opts = {
        "case_sensitive": bool(data.get("case_sensitive", False)),
        "fold_width": bool(data.get("fold_width", True)),
        "diacritics": bool(data.get("diacritics", True)),
    }
    given = normalise_short(answer, **opts)
    best = 0.0
    for accepted in data.get("answers", []):
        if normalise_short(accepted["text"], **opts) == given:
            best = max(best, float(accepted.get("fraction", 1)))
    return best


def parse_number(answer: Any) -> float | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int | float):
        return float(answer)
    if isinstance(answer, str):
        text = unicodedata.normalize("NFKC", answer).strip().replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    return None


def _numerical(data: dict[str, Any], answer: Any) -> float:
    value = parse_number(answer)
    if value is None:
        return 0.0
    best = 0.0
    for accepted in data.get("answers", []):
        if abs(value - float(accepted["value"])) <= float(accepted.get("tolerance", 0)) + 1e-12:
            best = max(best, float(accepted.get("fraction", 1)))
    return best


def _single(data: dict[str, Any], answer: Any) -> float:
    for choice in data.get("choices", []):
        if choice["id"] == answer:
            return clamp(float(choice.get("fraction", 0)))
    return 0.0


def _multiple(data: dict[str, Any], answer: Any) -> float:
    if not isinstance(answer, list):
        return 0.0
    chosen = set(map(str, answer))
    total = sum(float(c.get("fraction", 0)) for c in data.get("choices", []) if c["id"] in chosen)
    return clamp(total)


def _truefalse(data: dict[str, Any], answer: Any) -> float:
    if isinstance(answer, str):
        answer = {"true": True, "false": False}.get(answer.lower())
    return 1.0 if isinstance(answer, bool) and answer == bool(data.get("answer")) else 0.0


def _matching(data: dict[str, Any], answer: Any) -> float:
    pairs = [p for p in data.get("pairs", []) if p.get("left")]
    if not pairs or not isinstance(answer, dict):
        return 0.0
    right = sum(1 for i, p in enumerate(pairs) if answer.get(str(i)) == p["right"])
    return right / len(pairs)


def _ordering(data: dict[str, Any], answer: Any) -> float:
    items = data.get("items", [])
    if not items or not isinstance(answer, list) or len(answer) != len(items):
        return 0.0
    return sum(1 for a, b in zip(answer, items, strict=True) if a == b) / len(items)


def _cloze(data: dict[str, Any], answer: Any) -> float:
    blanks = data.get("blanks", [])
    if not blanks or not isinstance(answer, list):
        return 0.0
    weights = [float(b.get("weight", 1)) for b in blanks]
    earned = 0.0
    for i, blank in enumerate(blanks):
        given = answer[i] if i < len(answer) else None
        earned += weights[i] * blank_fraction(blank, given)
    return earned / sum(weights) if sum(weights) else 0.0


def blank_fraction(blank: dict[str, Any], given: Any) -> float:
    kind = blank.get("kind", "short")
    if kind == "numerical":
        return _numerical(blank, given)
    if kind == "choice":
        best = 0.0
        for a in blank.get("answers", []):
            if isinstance(given, str) and nfc(given).strip() == nfc(a["text"]).strip():
                best = max(best, float(a.get("fraction", 0)))
        return best
    return _short(blank, given)


_GRADERS = {
    "single": _single,
    "multiple": _multiple,
    "truefalse": _truefalse,
    "short": _short,
    "numerical": _numerical,
    "matching": _matching,
    "ordering": _ordering,
    "cloze": _cloze,
}


def auto_fraction(qtype: str, data: dict[str, Any], answer: Any) -> float | None:
    """The fraction earned, or None for types graded by hand."""
    grader = _GRADERS.get(qtype)
    if grader is None:
        return None
    if answer is None:
        return 0.0
    return clamp(grader(data, answer))


def points(fraction: float, max_points: Decimal) -> Decimal:
    return (Decimal(str(fraction)) * max_points).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rubric_points(criteria: list[dict[str, Any]], levels: list[int]) -> Decimal:
    """Points of the chosen level (index) for each criterion, in order."""
    if len(levels) != len(criteria):
        raise ValueError("one level per criterion")
    total = Decimal("0")
    for crit, idx in zip(criteria, levels, strict=True):
        if not 0 <= idx < len(crit["levels"]):
            raise ValueError("level out of range")
        total += Decimal(str(crit["levels"][idx]["points"]))
    return total


def rubric_max(criteria: list[dict[str, Any]]) -> Decimal:
    return sum(
        (max(Decimal(str(lv["points"])) for lv in c["levels"]) for c in criteria), Decimal("0")
    )
