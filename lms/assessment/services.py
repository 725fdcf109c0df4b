"""The question bank and assessment set-up: questions (typed, translatable, tagged), GIFT and
Moodle XML import / export, assessments with their items and per-cohort windows.

Attempts and grading are in ``lms.assessment.attempts``; the gradebook in
``lms.assessment.gradebook``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts.models import User
from lms.assessment import gift, moodlexml
from lms.assessment.models import (
    CATEGORIES,
    QUESTION_TYPES,
    Assessment,
    AssessmentItem,
    CohortWindow,
    Question,
    QuestionTranslation,
    Rubric,
)
from lms.assessment.spec import Problem, QuestionSpec
from lms.catalog.models import TRANSLATION_STATUSES, Course, Lesson
from lms.core import audit, search
from lms.core.errors import NotFound, ValidationError, field_error
from lms.core.extensions import db
from lms.core.i18n import LOCALES
from lms.core.security import require
from lms.core.text import display

FORMATS = ("gift", "moodlexml")
KINDS = ("quiz", "exam", "assignment")
LATE_POLICIES = ("refuse", "late")
REVIEW = ("immediately", "after_close", "never")
MAX_IMPORT_BYTES = 5 * 1024 * 1024


# ------------------------------------------------------------------------- validation


def _choices(data: dict[str, Any], multiple: bool) -> None:
    choices = data.get("choices")
    if not isinstance(choices, list) or len(choices) < 2:
        raise field_error("data", _("A choice question needs at least two answers."))
    ids = [c.get("id") for c in choices]
    if len(set(ids)) != len(ids) or not all(isinstance(i, str) and i for i in ids):
        raise field_error("data", _("Every answer needs its own identifier."))
    for c in choices:
        if not str(c.get("text", "")).strip():
            raise field_error("data", _("An answer has no text."))
        c["fraction"] = float(c.get("fraction", 0))
        if not -1 <= c["fraction"] <= 1:
            raise field_error("data", _("Answer fractions must lie between -100 and 100 per cent."))
    if not any(c["fraction"] > 0 for c in choices):
        raise field_error("data", _("No answer earns any credit."))
    if not multiple and max(c["fraction"] for c in choices) < 1:
        raise field_error("data", _("A single-choice question needs one fully right answer."))


def validate_data(qtype: str, data: dict[str, Any]) -> dict[str, Any]:
    """Check a question's answer key for its type; returns it normalised."""
    if qtype not in QUESTION_TYPES:
        raise field_error("qtype", _("Unknown question type."))
    if not isinstance(data, dict):
        raise field_error("data", _("The answer key must be an object."))
    data = dict(data)
    try:
        if qtype in ("single", "multiple"):
            _choices(data, qtype == "multiple")
        elif qtype == "truefalse":
            if not isinstance(data.get("answer"), bool):
                raise field_error("data", _("Say whether the statement is true or false."))
        elif qtype == "short":
            if not data.get("answers") or not all(
                str(a.get("text", "")).strip() for a in data["answers"]
            ):
                raise field_error("data", _("A short-answer question needs at least one answer."))
        elif qtype == "numerical":
            if not data.get("answers"):
                raise field_error("data", _("A numerical question needs at least one answer."))
            for a in data["answers"]:
                a["value"], a["tolerance"] = float(a["value"]), abs(float(a.get("tolerance", 0)))
        elif qtype == "matching":
            if len([p for p in data.get("pairs", []) if p.get("left")]) < 2:
                raise field_error("data", _("A matching question needs at least two pairs."))
        elif qtype == "ordering":
            if len(data.get("items", [])) < 2:
                raise field_error("data", _("An ordering question needs at least two items."))
        elif qtype == "cloze":
            if not data.get("blanks"):
                raise field_error("data", _("A cloze question needs at least one blank."))
        elif qtype == "upload":
            data["max_files"] = max(1, int(data.get("max_files", 1)))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise field_error("data", _("The answer key is not complete.")) from None
    return data


# ---------------------------------------------------------------------- question bank


def create_question(
    actor: User | None,
    course: Course,
    spec: QuestionSpec,
    *,
    locale: str | None = None,
    rubric: Rubric | None = None,
    check: bool = True,
) -> Question:
    """Add a question to the course's bank; its text is stored in ``locale`` (the course's
    source language by default)."""
    if check:
        require(actor, "assessment.author", course)
    locale = locale or course.source_locale
    if locale not in LOCALES:
        raise field_error("locale", _("Unknown language."))
    stem = display(spec.stem or "", multiline=True).strip()
    if not stem:
        raise field_error("stem", _("The question has no text."))
    try:
        points = Decimal(spec.points)
    except InvalidOperation:
        raise field_error("points", _("Please enter a number.")) from None
    if points < 0:
        raise field_error("points", _("Points cannot be negative."))
    if not 1 <= int(spec.difficulty) <= 5:
        raise field_error("difficulty", _("Difficulty runs from 1 to 5."))
    question = Question(
        course_id=course.id,
        qtype=spec.qtype,
        name=display(spec.name or "")[:200],
        points=points,
        difficulty=int(spec.difficulty),
        tags=sorted({display(t).strip() for t in spec.tags if t.strip()}),
        data=validate_data(spec.qtype, spec.data),
        source_locale=locale,
        rubric_id=rubric.id if rubric is not None else None,
    )
    question.translations.append(
        QuestionTranslation(locale=locale, stem=stem, feedback=spec.feedback or "")
    )
    db.session.add(question)
    db.session.flush()
    return question


def translate_question(
    actor: User,
    question: Question,
    locale: str,
    stem: str,
    feedback: str = "",
    status: str = "original",
) -> QuestionTranslation:
    """Add or replace the question's text in another language."""
    require(actor, "assessment.author", db.session.get(Course, question.course_id))
    if locale not in LOCALES:
        raise field_error("locale", _("Unknown language."))
    if status not in TRANSLATION_STATUSES:
        raise field_error("status", _("Unknown translation status."))
    feedback = display(feedback or "", multiline=True).strip()
    stem = display(stem, multiline=True).strip()
    if not stem:
        raise field_error("stem", _("The question has no text."))
    tr = next((t for t in question.translations if t.locale == locale), None)
    if tr is None:
        tr = QuestionTranslation(locale=locale)
        question.translations.append(tr)
    tr.stem, tr.feedback, tr.status = stem, feedback, status
    db.session.flush()
    return tr


def get_question(course: Course, question_id: int) -> Question:
    q = db.session.get(Question, question_id)
    if q is None or q.course_id != course.id:
        raise NotFound(_("No such question in this course."))
    return q


def questions(course: Course, tag: str | None = None, q: str = "") -> list[Question]:
    """The course's bank, optionally by tag and by a free-text search that finds substrings
    in every language (Thai, Khmer or Chinese words inside unspaced text; ``dien`` finds
    ``điện``) in the names, question texts and tags, through the search index; questions
    whose name matches come first."""
    stmt = select(Question).where(Question.course_id == course.id)
    words = search.words(q)
    if words:
        stmt = stmt.where(search.matches(Question, words)).order_by(
            search.rank(Question, words), Question.id
        )
    else:
        stmt = stmt.order_by(Question.id)
    rows = db.session.scalars(stmt).all()
    if tag is None:
        return list(rows)
    return [question for question in rows if tag in (question.tags or [])]


def to_spec(question: Question, locale: str | None = None) -> QuestionSpec:
    stem, _loc = question.text("stem", locale or question.source_locale)
    feedback, _loc = question.text("feedback", locale or question.source_locale)
    return QuestionSpec(
        qtype=question.qtype,
        stem=stem or "",
        data=question.data,
        name=question.name,
        feedback=feedback or "",
        points=question.points,
        tags=list(question.tags or []),
        difficulty=question.difficulty,
    )


@dataclass
class ImportResult:
    imported: list[Question] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def import_questions(
    actor: User | None, course: Course, fmt: str, content: bytes, *, check: bool = True
) -> ImportResult:
    """Import a GIFT or Moodle XML file into the course's bank. Questions that parse are
    added; each one that does not is reported with its position and nothing of it is kept."""
    if check:
        require(actor, "assessment.author", course)
    if fmt not in FORMATS:
        raise field_error("format", _("The format must be gift or moodlexml."))
    if len(content) > MAX_IMPORT_BYTES:
        raise field_error("file", _("The file is too large."))
    if fmt == "gift":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise field_error("file", _("A GIFT file must be UTF-8 text.")) from None
        parsed = gift.parse(text)
    else:
        parsed = moodlexml.parse(content)
    result = ImportResult(errors=list(parsed.errors))
    for spec in parsed.questions:
        try:
            with db.session.begin_nested():
                result.imported.append(create_question(actor, course, spec, check=False))
        except ValidationError as exc:
            result.errors.append(Problem(spec.position, exc.message))
    if result.imported:
        audit.record(
            actor,
            "questions.import",
            "course",
            course.code,
            after={"format": fmt, "imported": len(result.imported), "errors": len(result.errors)},
        )
    return result


def export_questions(course: Course, fmt: str) -> tuple[bytes, list[Problem]]:
    """The course's bank as GIFT (types GIFT cannot express are listed as problems) or as
    Moodle XML (every type)."""
    specs = [to_spec(q) for q in questions(course)]
    if fmt == "gift":
        text, problems = gift.write(specs)
        return text.encode(), problems
    if fmt == "moodlexml":
        return moodlexml.write(specs)
    raise field_error("format", _("The format must be gift or moodlexml."))


def question_key(question: Question) -> str:
    """The question as a teacher reads it: GIFT where GIFT can say it, else Moodle XML."""
    spec = to_spec(question)
    text, problems = gift.write([spec])
    if not problems:
        return text
    body, _problems = moodlexml.write([spec])
    return body.decode()


# ------------------------------------------------------------------------------ rubrics


def create_rubric(
    actor: User | None,
    course: Course,
    name: str,
    criteria: list[dict[str, Any]],
    *,
    check: bool = True,
) -> Rubric:
    """A rubric: criteria, each with levels of points."""
    if check:
        require(actor, "assessment.author", course)
    if not criteria or not all(c.get("name") and c.get("levels") for c in criteria):
        raise field_error("criteria", _("Every criterion needs a name and levels."))
    try:
        clean = [
            {
                "name": display(c["name"]),
                "levels": [
                    {"label": display(lv["label"]), "points": float(lv["points"])}
                    for lv in c["levels"]
                ],
            }
            for c in criteria
        ]
    except (KeyError, TypeError, ValueError):
        raise field_error("criteria", _("Every level needs a label and points.")) from None
    rubric = Rubric(course_id=course.id, name=display(name), criteria=clean)
    db.session.add(rubric)
    db.session.flush()
    return rubric


# -------------------------------------------------------------------------- assessments


def create_assessment(
    actor: User | None,
    course: Course,
    title: str,
    *,
    kind: str = "quiz",
    category: str = "quizzes",
    question_ids: list[int] = (),
    pools: list[tuple[str, int]] = (),
    lesson: Lesson | None = None,
    time_limit_minutes: int | None = None,
    max_attempts: int = 1,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    shuffle_questions: bool = False,
    shuffle_choices: bool = False,
    late_policy: str = "refuse",
    late_grace_minutes: int = 0,
    review: str = "after_close",
    show_answers: bool = True,
    pass_percent: Decimal = Decimal("50"),
    graded: bool = True,
    check: bool = True,
) -> Assessment:
    """Set up a quiz, exam or assignment from fixed questions of the bank and random draws
    from tagged pools (``(tag, how many)``)."""
    if check:
        require(actor, "assessment.author", course)
    if kind not in KINDS:
        raise field_error("kind", _("Unknown kind of assessment."))
    if category not in CATEGORIES:
        raise field_error("category", _("Unknown gradebook category."))
    if late_policy not in LATE_POLICIES:
        raise field_error("late_policy", _("Unknown late policy."))
    if review not in REVIEW:
        raise field_error("review", _("Unknown review setting."))
    if max_attempts < 1:
        raise field_error("max_attempts", _("At least one attempt must be allowed."))
    if time_limit_minutes is not None and time_limit_minutes <= 0:
        raise field_error("time_limit_minutes", _("The time limit must be positive."))
    if opens_at and closes_at and closes_at <= opens_at:
        raise field_error("closes_at", _("The closing time must come after the opening time."))
    if lesson is not None and lesson.module.course_id != course.id:
        raise field_error("lesson", _("The lesson belongs to another course."))
    if not display(title).strip():
        raise field_error("title", _("Please give a title."))
    a = Assessment(
        course_id=course.id,
        lesson_id=lesson.id if lesson else None,
        title=display(title),
        kind=kind,
        category=category,
        graded=graded,
        time_limit_minutes=time_limit_minutes,
        max_attempts=max_attempts,
        opens_at=opens_at,
        closes_at=closes_at,
        shuffle_questions=shuffle_questions,
        shuffle_choices=shuffle_choices,
        late_policy=late_policy,
        late_grace_minutes=max(0, late_grace_minutes),
        review=review,
        show_answers=show_answers,
        pass_percent=Decimal(pass_percent),
    )
    position = 0
    for qid in question_ids:
        get_question(course, qid)
        a.items.append(AssessmentItem(position=position, question_id=qid))
        position += 1
    for tag, draw in pools:
        if draw < 1 or len(questions(course, tag)) < draw:
            raise field_error("pools", _("The pool '%(tag)s' has too few questions.", tag=tag))
        a.items.append(AssessmentItem(position=position, tag=tag, draw=draw))
        position += 1
    if not a.items:
        raise field_error("questions", _("An assessment needs at least one question."))
    db.session.add(a)
    db.session.flush()
    audit.record(actor, "assessment.create", "assessment", a.id, after={"title": a.title})
    return a


def set_cohort_window(
    actor: User | None,
    assessment: Assessment,
    cohort_id: int,
    opens_at: datetime | None,
    closes_at: datetime | None,
    *,
    check: bool = True,
) -> CohortWindow:
    """Open and close the assessment at other times for one cohort of its course."""
    from lms.enrolment.models import Cohort

    course = assessment.course
    if check:
        require(actor, "assessment.author", course)
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or cohort.course_id != course.id:
        raise field_error("cohort", _("No such cohort in this course."))
    if opens_at and closes_at and closes_at <= opens_at:
        raise field_error("closes_at", _("The closing time must come after the opening time."))
    window = next((w for w in assessment.windows if w.cohort_id == cohort_id), None)
    if window is None:
        window = CohortWindow(cohort_id=cohort_id)
        assessment.windows.append(window)
    window.opens_at, window.closes_at = opens_at, closes_at
    db.session.flush()
    return window


def get_assessment(assessment_id: int) -> Assessment:
    a = db.session.get(Assessment, assessment_id)
    if a is None:
        raise NotFound(_("No such assessment."))
    return a


def assessments_of(course: Course) -> list[Assessment]:
    return list(
        db.session.scalars(
            select(Assessment).where(Assessment.course_id == course.id).order_by(Assessment.id)
        )
    )


def assessment_for_lesson(lesson: Lesson) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.lesson_id == lesson.id).limit(1))
