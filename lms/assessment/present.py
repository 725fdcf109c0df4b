"""What an attempt looks like to the person reading it: questions without their answer key
while it runs; score and correct answers afterwards only as the review settings allow
(staff always see everything). Used by pages and the API alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lms.accounts.models import User
from lms.assessment.attempts import remaining_seconds, window_for
from lms.assessment.models import Attempt, Question
from lms.core.extensions import db
from lms.core.richtext import render
from lms.core.security import can


def review_rights(attempt: Attempt, viewer: User, now: datetime) -> tuple[bool, bool]:
    """(may see the score, may see the correct answers)."""
    a = attempt.assessment
    if can(viewer, "assessment.grade", a.course):
        return True, True
    if attempt.status == "in_progress":
        return False, False
    student = db.session.get(User, attempt.student_id)
    _opens, closes = window_for(a, student)
    closed = closes is None or now >= closes
    if a.review == "immediately":
        score = True
    elif a.review == "after_close":
        score = closed
    else:
        score = False
    return score, score and a.show_answers


def _question_view(q: Question, entry: dict[str, Any], locale: str) -> dict[str, Any]:
    stem, served = q.text("stem", locale)
    out: dict[str, Any] = {
        "question_id": q.id,
        "qtype": q.qtype,
        "stem": stem,
        "stem_html": str(render(stem or "")),
        "stem_locale": served,
        "points": str(q.points),
    }
    if q.qtype in ("single", "multiple"):
        by_id = {c["id"]: c["text"] for c in q.data["choices"]}
        out["choices"] = [{"id": cid, "text": by_id[cid]} for cid in entry["choices"]]
    elif q.qtype == "matching":
        out["lefts"] = [p["left"] for p in q.data["pairs"] if p["left"]]
        out["rights"] = entry["rights"]
    elif q.qtype == "ordering":
        out["order_items"] = entry["items"]
    elif q.qtype == "cloze":
        out["blanks"] = [
            [a["text"] for a in b["answers"]] if b.get("kind") == "choice" else None
            for b in q.data["blanks"]
        ]
    elif q.qtype == "upload":
        out["max_files"] = q.data.get("max_files", 1)
    return out


def correct_answer(q: Question) -> Any:
    d = q.data
    if q.qtype in ("single", "multiple"):
        return [c["id"] for c in d["choices"] if c["fraction"] > 0]
    if q.qtype == "truefalse":
        return d["answer"]
    if q.qtype == "short":
        return [a["text"] for a in d["answers"] if a["fraction"] >= 1]
    if q.qtype == "numerical":
        return [f"{a['value']} ± {a['tolerance']}" for a in d["answers"] if a["fraction"] >= 1]
    if q.qtype == "matching":
        return {str(i): p["right"] for i, p in enumerate(p for p in d["pairs"] if p["left"])}
    if q.qtype == "ordering":
        return d["items"]
    if q.qtype == "cloze":
        out = []
        for b in d["blanks"]:
            best = max(b["answers"], key=lambda a: a["fraction"])
            out.append(f"{best['value']}" if b.get("kind") == "numerical" else best.get("text", ""))
        return out
    return None


def attempt_view(attempt: Attempt, viewer: User, *, locale: str, now: datetime) -> dict[str, Any]:
    show_score, show_answers = review_rights(attempt, viewer, now)
    layout = {e["question_id"]: e for e in attempt.layout}
    questions = []
    for resp in attempt.responses:
        view = _question_view(resp.question, layout[resp.question_id], locale)
        view["answer"] = resp.answer
        view["saved_at"] = resp.saved_at
        if show_score:
            view["score"] = None if resp.score is None else str(resp.score)
            view["feedback"] = resp.feedback
        if show_answers:
            view["correct"] = correct_answer(resp.question)
        questions.append(view)
    return {
        "id": attempt.id,
        "assessment_id": attempt.assessment_id,
        "title": attempt.assessment.title,
        "number": attempt.number,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "remaining_seconds": remaining_seconds(attempt, now)
        if attempt.status == "in_progress"
        else None,
        "submitted_at": attempt.submitted_at,
        "late": attempt.late,
        "auto_submitted": attempt.auto_submitted,
        "score": str(attempt.score) if show_score and attempt.score is not None else None,
        "max_score": str(attempt.max_score),
        "review_score": show_score,
        "review_answers": show_answers,
        "questions": questions,
    }
