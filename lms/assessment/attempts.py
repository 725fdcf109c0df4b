"""Attempts and grading: the server's clock fixes every deadline, answers are stored on each
save, the final submit is idempotent, overdue attempts are submitted with what was saved,
objective answers are graded at once and essays / uploads wait in a manual queue."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, bindparam, func, inspect, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import User
from lms.assessment import grading
from lms.assessment.models import Assessment, Attempt, Question, Response
from lms.assessment.signals import attempt_graded, attempt_submitted
from lms.catalog.models import Course
from lms.core import audit
from lms.core.db import catch_up, columns_of, execute, serialise_writes
from lms.core.errors import Conflict, NotFound, PermissionDenied, ValidationError, field_error
from lms.core.extensions import db
from lms.core.security import can, require

_rng = random.SystemRandom()


# -------------------------------------------------------------------------------- times


def window_for(assessment: Assessment, student: User) -> tuple[datetime | None, datetime | None]:
    """(opens, closes) for the student: their cohort's window when one is set."""
    from lms.enrolment import services as enrolment

    course = assessment.course
    enrolment_row = enrolment.active_enrolment(student, course)
    if enrolment_row is not None and enrolment_row.cohort_id is not None:
        for w in assessment.windows:
            if w.cohort_id == enrolment_row.cohort_id:
                return w.opens_at, w.closes_at
    return assessment.opens_at, assessment.closes_at


def hard_deadline(attempt: Attempt) -> datetime | None:
    """The last moment a submit is accepted: the deadline plus the late allowance."""
    if attempt.deadline is None:
        return None
    return attempt.deadline + timedelta(minutes=attempt.assessment.late_grace_minutes)


def remaining_seconds(attempt: Attempt, now: datetime) -> int | None:
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - now).total_seconds()))


# ------------------------------------------------------------------------------- start


def _layout(assessment: Assessment) -> list[dict[str, Any]]:
    chosen: list[int] = []
    for item in assessment.items:
        if item.question_id is not None:
            chosen.append(item.question_id)
    for item in assessment.items:
        if item.tag is None:
            continue
        pool = [
            q.id
            for q in db.session.scalars(
                select(Question).where(Question.course_id == assessment.course_id)
            )
            if item.tag in (q.tags or []) and q.id not in chosen
        ]
        if len(pool) < item.draw:
            raise Conflict(_("The pool '%(tag)s' has too few questions.", tag=item.tag))
        chosen.extend(_rng.sample(pool, item.draw))
    if assessment.shuffle_questions:
        _rng.shuffle(chosen)
    out = []
    for qid in chosen:
        q = db.session.get(Question, qid)
        entry: dict[str, Any] = {"question_id": qid}
        if q.qtype in ("single", "multiple"):
            ids = [c["id"] for c in q.data["choices"]]
            if assessment.shuffle_choices:
                _rng.shuffle(ids)
            entry["choices"] = ids
        elif q.qtype == "matching":
            rights = sorted({p["right"] for p in q.data["pairs"]})
            _rng.shuffle(rights)
            entry["rights"] = rights
        elif q.qtype == "ordering":
            items = list(q.data["items"])
            while len(items) > 1 and items == q.data["items"]:
                _rng.shuffle(items)
            entry["items"] = items
        out.append(entry)
    return out


def start_attempt(student: User, assessment: Assessment, *, now: datetime) -> Attempt:
    """Start (or return the unfinished) attempt of an enrolled student while the assessment
    is open to their cohort and attempts remain. The deadline is the start plus the time
    limit, cut at the closing time, both by the server's clock."""
    from lms.enrolment import services as enrolment

    course = assessment.course
    if enrolment.active_enrolment(student, course) is None:
        raise PermissionDenied(_("Only students enrolled in the course can take it."))
    serialise_writes()
    assessment = db.session.get(Assessment, assessment.id)
    close_overdue(assessment, now=now)
    current = db.session.scalar(
        select(Attempt).where(
            Attempt.assessment_id == assessment.id,
            Attempt.student_id == student.id,
            Attempt.status == "in_progress",
        )
    )
    if current is not None:
        return current
    opens, closes = window_for(assessment, student)
    if opens is not None and now < opens:
        raise Conflict(_("This assessment is not open yet."))
    if closes is not None and now >= closes:
        raise Conflict(_("This assessment is closed."))
    used = db.session.scalar(
        select(func.count()).where(
            Attempt.assessment_id == assessment.id, Attempt.student_id == student.id
        )
    )
    if used >= assessment.max_attempts:
        raise Conflict(_("You have used all your attempts."))
    deadline = None
    if assessment.time_limit_minutes:
        deadline = now + timedelta(minutes=assessment.time_limit_minutes)
    if closes is not None:
        deadline = min(deadline, closes) if deadline else closes
    attempt = Attempt(
        assessment_id=assessment.id,
        student_id=student.id,
        number=used + 1,
        started_at=now,
        deadline=deadline,
        layout=_layout(assessment),
    )
    db.session.add(attempt)
    for position, entry in enumerate(attempt.layout):
        q = db.session.get(Question, entry["question_id"])
        attempt.responses.append(Response(question_id=q.id, position=position, max_score=q.points))
    attempt.max_score = sum((r.max_score for r in attempt.responses), Decimal("0"))
    db.session.flush()
    return attempt


#: an attempt with its assessment and course, responses, their questions and the questions'
#: texts, in one joined query whatever the number of questions
_WHOLE = (
    joinedload(Attempt.assessment).joinedload(Assessment.course),
    joinedload(Attempt.responses).joinedload(Response.question).joinedload(Question.translations),
)


def get_attempt(user: User, attempt_id: int, *, now: datetime, finalise: bool = True) -> Attempt:
    """Load an attempt the user may see (404 for others' attempts, so ids reveal nothing);
    an attempt past its deadline is submitted first, with what was saved (unless the caller
    is about to save or submit, which the late policy then decides). A caller about to save
    or submit has it loaded whole before its writer's turn, which then re-reads only what
    may have changed (``_lock``)."""
    attempt = db.session.get(Attempt, attempt_id, options=_WHOLE)
    if attempt is None or not can(user, "attempt.view", attempt):
        raise NotFound(_("No such attempt."))
    if finalise:
        _finalise_if_overdue(attempt, now)
    return attempt


def attempts_of(student: User, assessment: Assessment) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.assessment_id == assessment.id, Attempt.student_id == student.id)
            .order_by(Attempt.number)
        )
    )


# -------------------------------------------------------------------------------- saving


#: the attempt's row as it is now, locked (PostgreSQL; SQLite has no row locks and needs none
#: inside its writer's turn), and its responses' rows
_ATTEMPT_NOW = columns_of(Attempt).where(Attempt.id == bindparam("attempt")).with_for_update()
_RESPONSES_NOW = columns_of(Response).where(Response.attempt_id == bindparam("attempt"))


def _lock(attempt: Attempt) -> Attempt:
    """Saves and submits of one attempt take turns: under the writer's turn
    (``serialise_writes``, SQLite) or the attempt's row lock (PostgreSQL), the attempt and
    its responses are brought up to what another save or submit may have stored since they
    were read. The questions stay as they were read."""
    (attempt_id,) = inspect(attempt).identity  # not attempt.id: it may be expired
    params = {"attempt": attempt_id}
    catch_up(attempt, execute(_ATTEMPT_NOW, params).one())
    by_id = {r.id: r for r in attempt.responses}
    for row in execute(_RESPONSES_NOW, params):
        if row.id in by_id:
            catch_up(by_id[row.id], row)
    return attempt


def _late(attempt: Attempt, now: datetime) -> bool:
    """Whether ``now`` is after the deadline; raises when past what the policy accepts."""
    if attempt.deadline is None or now <= attempt.deadline:
        return False
    policy = attempt.assessment.late_policy
    if policy == "late" and now <= hard_deadline(attempt):
        return True
    if policy == "refuse" and now <= hard_deadline(attempt):
        return False  # the grace period absorbs network delay; not late
    raise Conflict(_("The time for this attempt is over; your saved answers were kept."))


def _check_answer(q: Question, entry: dict[str, Any], answer: Any) -> Any:
    t = q.qtype
    ok = True
    if answer is None:
        return None
    if t == "single":
        ok = isinstance(answer, str) and answer in entry.get("choices", [])
    elif t == "multiple":
        ok = isinstance(answer, list) and all(a in entry.get("choices", []) for a in answer)
    elif t == "truefalse":
        ok = isinstance(answer, bool)
    elif t in ("short", "essay"):
        ok = isinstance(answer, str) and len(answer) <= 100_000
    elif t == "upload":
        ok = False  # files arrive through save_upload only
    elif t == "numerical":
        ok = isinstance(answer, str | int | float) and not isinstance(answer, bool)
        answer = str(answer)
    elif t == "matching":
        ok = isinstance(answer, dict) and all(isinstance(v, str) for v in answer.values())
        answer = {str(k): v for k, v in answer.items()} if ok else answer
    elif t == "ordering":
        ok = isinstance(answer, list) and sorted(answer) == sorted(q.data["items"])
    elif t == "cloze":
        ok = isinstance(answer, list) and all(isinstance(a, str) for a in answer)
    if not ok:
        raise field_error(str(q.id), _("This answer does not fit the question."))
    return answer


def save_answers(
    student: User, attempt: Attempt, answers: dict[int, Any], *, now: datetime
) -> Attempt:
    """Store answers (question id → answer) of an attempt in progress, each save replacing
    the previous one, until the deadline by the server's clock."""
    require(student, "attempt.answer", attempt)
    serialise_writes(keep_reads=True)
    attempt = _lock(attempt)
    if attempt.status != "in_progress":
        raise Conflict(_("This attempt has already been submitted."))
    _late(attempt, now)
    return _store_answers(attempt, answers, now)


def _store_answers(attempt: Attempt, answers: dict[int, Any], now: datetime) -> Attempt:
    """Store answers in a locked attempt in progress (checked by the caller)."""
    _write_responses(_new_answers(attempt, answers, now))
    return attempt


def _new_answers(
    attempt: Attempt, answers: dict[int, Any], now: datetime
) -> dict[Response, dict[str, Any]]:
    """The responses' new answers, every one checked before anything is stored."""
    by_qid = {r.question_id: r for r in attempt.responses}
    layout = {e["question_id"]: e for e in attempt.layout}
    out: dict[Response, dict[str, Any]] = {}
    for qid, answer in answers.items():
        try:
            qid = int(qid)
        except (TypeError, ValueError):
            raise field_error("answers", _("Unknown question.")) from None
        resp = by_qid.get(qid)
        if resp is None:
            raise field_error(str(qid), _("This question is not part of the attempt."))
        out[resp] = {"answer": _check_answer(resp.question, layout[qid], answer), "saved_at": now}
    return out


def form_answers(row: Attempt, form: Any) -> dict[int, Any]:
    """Answers from the attempt page's plain HTML form (a ``MultiDict``): ``q-ID`` (and
    ``q-ID-N`` for parts). The page, its autosave and offline sync all read them here."""
    out: dict[int, Any] = {}
    layout = {e["question_id"]: e for e in row.layout}
    for resp in row.responses:
        q, qid = resp.question, resp.question_id
        name = f"q-{qid}"
        if q.qtype == "multiple":
            if f"{name}-present" in form:
                out[qid] = form.getlist(name)
        elif q.qtype == "truefalse":
            if name in form:
                out[qid] = form[name] == "true"
        elif q.qtype in ("single", "short", "numerical", "essay"):
            if name in form:
                out[qid] = form[name]
        elif q.qtype == "matching":
            lefts = [p for p in q.data["pairs"] if p["left"]]
            parts = {str(i): form.get(f"{name}-{i}", "") for i in range(len(lefts))}
            if any(parts.values()):
                out[qid] = {k: v for k, v in parts.items() if v}
        elif q.qtype == "cloze":
            parts = [form.get(f"{name}-{i}", "") for i in range(len(q.data["blanks"]))]
            if any(parts):
                out[qid] = parts
        elif q.qtype == "ordering":
            items = layout[qid]["items"]
            ranks = [form.get(f"{name}-{i}", type=int) for i in range(len(items))]
            if all(r is not None for r in ranks) and sorted(ranks) == list(
                range(1, len(items) + 1)
            ):
                out[qid] = [item for _r, item in sorted(zip(ranks, items, strict=True))]
    return out


MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def save_upload(
    student: User,
    attempt: Attempt,
    question_id: int,
    filename: str,
    data: bytes,
    *,
    now: datetime,
) -> Response:
    """Store a file answering an upload question of an attempt in progress (kept under a
    key the server chooses; the name is only shown). Up to the question's number of files;
    a further file replaces the oldest."""
    from uuid import uuid4

    from lms.core.storage import get_storage
    from lms.core.text import display

    require(student, "attempt.answer", attempt)
    serialise_writes(keep_reads=True)
    attempt = _lock(attempt)
    if attempt.status != "in_progress":
        raise Conflict(_("This attempt has already been submitted."))
    _late(attempt, now)
    resp = next((r for r in attempt.responses if r.question_id == question_id), None)
    if resp is None or resp.question.qtype != "upload":
        raise field_error(str(question_id), _("This question does not take a file."))
    if not data:
        raise field_error(str(question_id), _("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise field_error(str(question_id), _("The upload is too large"))
    key = f"assessment/{attempt.id}/{question_id}/{uuid4().hex}"
    get_storage().put_bytes(key, data, "application/octet-stream")
    files = list(resp.answer or [])
    files.append({"key": key, "name": display(filename or "file")[:200], "size": len(data)})
    resp.answer = files[-int(resp.question.data.get("max_files", 1)) :]
    resp.saved_at = now
    db.session.flush()
    return resp


# ----------------------------------------------------------------------------- submitting


@dataclass
class SubmitResult:
    attempt: Attempt
    first: bool  # this call submitted it (False: it had been submitted already)


def submit_attempt(
    student: User, attempt: Attempt, *, now: datetime, answers: dict[int, Any] | None = None
) -> SubmitResult:
    """Submit an attempt once. The status changes by one conditional UPDATE, so of two
    simultaneous submits exactly one grades it and the other gets the same result. After
    the deadline the late policy decides: refused (the attempt is later submitted with its
    saved answers) or accepted and marked late."""
    require(student, "attempt.answer", attempt)
    serialise_writes(keep_reads=True)
    attempt = _lock(attempt)
    if attempt.status != "in_progress":
        return SubmitResult(attempt, False)
    late = _late(attempt, now)
    new = _new_answers(attempt, answers or {}, now)  # checked now, stored with the scores
    values = {"status": "submitting", "submitted_at": now, "late": late}
    if not execute(_SUBMITTING, {"a_id": attempt.id, **values}).rowcount:
        # cannot happen under the lock; the condition is the last line of defence
        db.session.refresh(attempt)
        return SubmitResult(attempt, False)
    # what the UPDATE wrote, without reading it back (a refresh would reload the responses)
    for name, value in values.items():
        set_committed_value(attempt, name, value)
    _grade(attempt, student, new)
    return SubmitResult(attempt, True)


_ATTEMPTS = Attempt.__table__
#: the one submit of an attempt in progress (of two concurrent ones, one changes the row)
_SUBMITTING = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("a_id"), _ATTEMPTS.c.status == "in_progress")
    .values(
        status=bindparam("status"), submitted_at=bindparam("submitted_at"), late=bindparam("late")
    )
)
#: an attempt's status and total after grading
_TOTAL = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("a_id"))
    .values(status=bindparam("status"), score=bindparam("score"))
)


def _finalise_if_overdue(attempt: Attempt, now: datetime) -> bool:
    end = hard_deadline(attempt)
    if attempt.status != "in_progress" or end is None or now <= end:
        return False
    won = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == "in_progress")
        .values(status="submitting", submitted_at=attempt.deadline, auto_submitted=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    # the columns the UPDATE changed (a whole refresh would reload the responses too)
    db.session.refresh(attempt, ["status", "submitted_at", "late", "auto_submitted"])
    if won:
        _grade(attempt)
    return bool(won)


def close_overdue(assessment: Assessment | None = None, *, now: datetime) -> int:
    """Submit every attempt whose time is over, with the answers saved before the deadline
    (run by the scheduler and before results or gradebooks are read)."""
    stmt = select(Attempt).where(Attempt.status == "in_progress", Attempt.deadline.is_not(None))
    if assessment is not None:
        stmt = stmt.where(Attempt.assessment_id == assessment.id)
    return sum(_finalise_if_overdue(a, now) for a in db.session.scalars(stmt).all())


_RESPONSES = Response.__table__
#: every response's answer and score, in one executemany
_WRITE_RESPONSES = (
    update(_RESPONSES)
    .where(_RESPONSES.c.id == bindparam("r_id"))
    .values(
        # an unanswered question stays SQL NULL, as a response never saved is
        answer=bindparam("r_answer", type_=JSON(none_as_null=True)),
        saved_at=bindparam("r_saved_at", type_=_RESPONSES.c.saved_at.type),
        score=bindparam("r_score", type_=_RESPONSES.c.score.type),
    )
)


def _write_responses(changes: dict[Response, dict[str, Any]]) -> None:
    """Store new answers, save times and scores of responses (``{response: {name: value}}``)
    in one statement, not one unit-of-work UPDATE each. The objects take the values as
    stored, without becoming changes for the session to flush."""
    rows = [
        {
            "r_id": r.id,
            "r_answer": new.get("answer", r.answer),
            "r_saved_at": new.get("saved_at", r.saved_at),
            "r_score": new.get("score", r.score),
        }
        for r, new in changes.items()
        if new
    ]
    if rows:
        execute(_WRITE_RESPONSES, rows)
    for r, new in changes.items():
        for name, value in new.items():
            set_committed_value(r, name, value)


def _grade(
    attempt: Attempt,
    actor: User | None = None,
    new: dict[Response, dict[str, Any]] | None = None,
) -> None:
    """Grade the objective responses (with the ``new`` answers that come with the submit)
    and store the answers and scores in one statement."""
    changes = dict(new or {})
    pending = False
    for resp in attempt.responses:
        q = resp.question
        change = changes.setdefault(resp, {})
        frac = grading.auto_fraction(q.qtype, q.data, change.get("answer", resp.answer))
        if frac is None:
            pending = True
            continue
        change["score"] = grading.points(frac, resp.max_score)
    _write_responses(changes)
    attempt_submitted.send(attempt)
    _total(attempt, pending, at=attempt.submitted_at)
    audit.record(
        actor,
        "attempt.submit",
        "attempt",
        attempt.id,
        after={
            "score": str(attempt.score) if attempt.score is not None else None,
            "status": attempt.status,
            "late": attempt.late,
            "auto_submitted": attempt.auto_submitted,
        },
    )


def _total(attempt: Attempt, pending: bool | None = None, at: datetime | None = None) -> None:
    if pending is None:
        pending = any(r.score is None for r in attempt.responses)
    values = {
        "status": "needs_grading" if pending else "graded",
        "score": None
        if pending
        else sum((r.score or Decimal("0") for r in attempt.responses), Decimal("0")),
    }
    db.session.flush()  # a grade given by hand goes first: the listeners below may read it
    execute(_TOTAL, {"a_id": attempt.id, **values})
    for name, value in values.items():
        set_committed_value(attempt, name, value)
    if attempt.status == "graded":
        attempt_graded.send(attempt, at=at or _now())


# ------------------------------------------------------------------------ manual grading


def grading_queue(grader: User, course: Course, *, now: datetime) -> list[Response]:
    """Responses to essays and uploads of submitted attempts still without a grade."""
    require(grader, "assessment.grade", course)
    for assessment in db.session.scalars(
        select(Assessment).where(Assessment.course_id == course.id)
    ).all():
        close_overdue(assessment, now=now)
    return list(
        db.session.scalars(
            select(Response)
            .join(Attempt, Attempt.id == Response.attempt_id)
            .join(Assessment, Assessment.id == Attempt.assessment_id)
            .where(
                Assessment.course_id == course.id,
                Attempt.status == "needs_grading",
                Response.score.is_(None),
            )
            .order_by(Attempt.submitted_at, Response.id)
        )
    )


def grade_response(
    grader: User,
    response: Response,
    *,
    score: Decimal | None = None,
    rubric_levels: list[int] | None = None,
    feedback: str = "",
    reason: str = "",
) -> Response:
    """Give or change the grade of one response, by points or by a rubric's levels. Every
    change is audited with who, the grade before and after, and why; changing a grade
    already given needs a reason."""
    attempt = db.session.get(Attempt, response.attempt_id)
    course = attempt.assessment.course
    require(grader, "assessment.grade", course)
    if attempt.status in ("in_progress", "submitting"):
        raise Conflict(_("The attempt has not been submitted yet."))
    q = response.question
    if rubric_levels is not None:
        if q.rubric is None:
            raise field_error("rubric_levels", _("This question has no rubric."))
        try:
            raw = grading.rubric_points(q.rubric.criteria, rubric_levels)
        except ValueError:
            raise field_error("rubric_levels", _("Choose one level for every criterion.")) from None
        top = grading.rubric_max(q.rubric.criteria)
        score = (raw / top * response.max_score).quantize(Decimal("0.01")) if top else Decimal(0)
    if score is None:
        raise field_error("score", _("Please enter a score."))
    score = Decimal(score)
    if not Decimal("0") <= score <= response.max_score:
        raise field_error(
            "score", _("The score must lie between 0 and %(max)s.", max=response.max_score)
        )
    if response.score is not None and not reason.strip():
        raise field_error("reason", _("Say why the grade changes."))
    before = {
        "score": str(response.score) if response.score is not None else None,
        "feedback": response.feedback,
    }
    response.score = score
    response.feedback = feedback
    response.rubric_levels = rubric_levels
    response.graded_by_id = grader.id
    response.graded_at = _now()
    _total(attempt)
    audit.record(
        grader,
        "grade.change",
        "attempt_response",
        response.id,
        before=before,
        after={"score": str(score), "feedback": feedback, "attempt_score": str(attempt.score)},
        reason=reason,
    )
    return response


def _now() -> datetime:
    from lms.core.db import utcnow

    return utcnow()


def regrade_question(actor: User, question: Question, *, reason: str) -> int:
    """Grade every submitted response to an objective question again (after its key was
    corrected); each changed grade is audited."""
    course = db.session.get(Course, question.course_id)
    require(actor, "assessment.grade", course)
    if question.manual:
        raise ValidationError(_("Essays and uploads are graded by hand."))
    if not reason.strip():
        raise field_error("reason", _("Say why the grade changes."))
    changed = 0
    rows = db.session.scalars(
        select(Response)
        .join(Attempt, Attempt.id == Response.attempt_id)
        .where(
            Response.question_id == question.id,
            Attempt.status.in_(("graded", "needs_grading")),
        )
    ).all()
    for resp in rows:
        new = grading.points(
            grading.auto_fraction(question.qtype, question.data, resp.answer), resp.max_score
        )
        if new == resp.score:
            continue
        before = {"score": str(resp.score)}
        resp.score = new
        attempt = db.session.get(Attempt, resp.attempt_id)
        _total(attempt)
        audit.record(
            actor,
            "grade.change",
            "attempt_response",
            resp.id,
            before=before,
            after={"score": str(new), "attempt_score": str(attempt.score)},
            reason=reason,
        )
        changed += 1
    return changed


def get_response(grader: User, response_id: int) -> Response:
    resp = db.session.get(Response, response_id)
    if resp is None:
        raise NotFound(_("No such answer."))
    attempt = db.session.get(Attempt, resp.attempt_id)
    if not can(grader, "assessment.grade", attempt.assessment.course):
        raise NotFound(_("No such answer."))
    return resp
