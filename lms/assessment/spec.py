"""The neutral form of a question that the GIFT and Moodle XML readers produce and the
writers consume, so both formats meet the bank through one shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class QuestionSpec:
    qtype: str
    stem: str
    data: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    feedback: str = ""
    points: Decimal = Decimal("1")
    tags: list[str] = field(default_factory=list)
    difficulty: int = 3
    position: str = ""

    def comparable(self) -> dict[str, Any]:
        """What must survive a round trip between formats."""
        return {
            "qtype": self.qtype,
            "name": self.name,
            "stem": self.stem,
            "feedback": self.feedback,
            "data": self.data,
            "tags": sorted(self.tags),
            "points": Decimal(self.points).normalize(),
        }


@dataclass
class Problem:
    position: str
    message: str


@dataclass
class Parsed:
    questions: list[QuestionSpec] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def fraction(percent: str | float) -> float:
    """A Moodle percentage (``33.33333``) as a fraction rounded to 7 places."""
    return round(float(percent) / 100, 7)


def percent(value: float) -> str:
    """A fraction as Moodle writes a percentage (``100``, ``33.33333``, ``-50``)."""
    text = f"{float(value) * 100:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
