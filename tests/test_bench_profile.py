"""bench/profile_requests.py sends each kind of request it profiles and checks the answer,
so the tool that explains a missed target keeps working as the API changes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import dataset  # noqa: E402
import profile_requests  # noqa: E402


def test_each_kind_is_measured_and_profiled_and_a_wrong_answer_stops_it(tmp_path):
    tiny = dataset.Scale(institutions=2, courses=20, students=10, enrolments=20, progress=40)
    senders = profile_requests.prepare(tmp_path, 3, scale=tiny)
    assert set(senders) == set(profile_requests.KINDS)
    for kind in ("me", "enrol"):
        assert profile_requests.measure(senders[kind], 3) > 0
    report = tmp_path / "quiz.txt"
    assert profile_requests.measure(senders["quiz"], 3, report) > 0
    assert "submit_attempt" in report.read_text(encoding="utf-8")
    # a request that does not get its expected answer is an error, not a figure: the
    # first student enrolling again is refused (409), not enrolled (201)
    with pytest.raises(RuntimeError, match=r"^409:"):
        senders["enrol"](0)
