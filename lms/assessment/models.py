"""Question bank, assessments, attempts, rubrics and the gradebook's categories."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.core.i18n import pick
from lms.core.search import part_of, searchable

if TYPE_CHECKING:
    from lms.catalog.models import Course

QUESTION_TYPES = (
    "single",
    "multiple",
    "truefalse",
    "short",
    "numerical",
    "matching",
    "cloze",
    "ordering",
    "essay",
    "upload",
)
MANUAL_TYPES = frozenset({"essay", "upload"})
CATEGORIES = ("quizzes", "assignments", "exams", "attendance")


class Question(db.Model):
    """A typed question of a course's bank. ``data`` holds the type's answer key (choices
    with fractions, accepted answers with matching options, tolerances, pairs, blanks …)."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_positive"),
        CheckConstraint("difficulty BETWEEN 1 AND 5", name="difficulty_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    qtype: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    points: Mapped[Decimal] = mapped_column(Numeric(7, 2), default=Decimal("1"))
    difficulty: Mapped[int] = mapped_column(Integer, default=3)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_locale: Mapped[str] = mapped_column(String(16), default="en")
    #: folded name, then tags and stems in every language (lms.core.search)
    search_text: Mapped[str] = mapped_column(Text, default="")
    rubric_id: Mapped[int | None] = mapped_column(ForeignKey("rubrics.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    translations: Mapped[list[QuestionTranslation]] = relationship(
        back_populates="question",
        cascade="all, delete-orphan",
        order_by="QuestionTranslation.locale",
    )
    rubric: Mapped[Rubric | None] = relationship()

    def text(self, field: str, locale: str) -> tuple[Any, str | None]:
        values = {t.locale: getattr(t, field) for t in self.translations}
        return pick(values, locale, self.source_locale)

    @property
    def manual(self) -> bool:
        return self.qtype in MANUAL_TYPES


class QuestionTranslation(db.Model):
    __tablename__ = "question_translations"
    __table_args__ = (UniqueConstraint("question_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16))
    stem: Mapped[str] = mapped_column(Text, default="")
    feedback: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="original")

    question: Mapped[Question] = relationship(back_populates="translations")


searchable(
    Question,
    lambda q: ([q.name or ""], [*(q.tags or []), *(t.stem for t in q.translations)]),
)
part_of(QuestionTranslation, lambda row: row.question)


class Rubric(db.Model):
    """Criteria × levels: ``criteria = [{"name", "levels": [{"label", "points"}]}]``."""

    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class Assessment(db.Model):
    """A quiz, exam or assignment of a course: its rules (time limit, attempts, window, late
    policy, review settings) and its items (fixed questions or draws from tagged pools)."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint("max_attempts >= 1", name="attempts_positive"),
        CheckConstraint("time_limit_minutes IS NULL OR time_limit_minutes > 0", name="limit_pos"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="quiz")
    category: Mapped[str] = mapped_column(String(16), default="quizzes")
    graded: Mapped[bool] = mapped_column(Boolean, default=True)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=False)
    shuffle_choices: Mapped[bool] = mapped_column(Boolean, default=False)
    late_policy: Mapped[str] = mapped_column(String(16), default="refuse")
    late_grace_minutes: Mapped[int] = mapped_column(Integer, default=0)
    review: Mapped[str] = mapped_column(String(16), default="after_close")
    show_answers: Mapped[bool] = mapped_column(Boolean, default=True)
    pass_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("50"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: the course the assessment belongs to (held by the assessment once loaded, so the
    #: permission checks, the review rules and the xAPI statements of a request share it)
    course: Mapped[Course] = relationship()
    items: Mapped[list[AssessmentItem]] = relationship(
        cascade="all, delete-orphan", order_by="AssessmentItem.position"
    )
    windows: Mapped[list[CohortWindow]] = relationship(cascade="all, delete-orphan")


class AssessmentItem(db.Model):
    """One fixed question, or ``draw`` random questions carrying ``tag``."""

    __tablename__ = "assessment_items"
    __table_args__ = (
        CheckConstraint(
            "(question_id IS NOT NULL) OR (tag IS NOT NULL AND draw >= 1)", name="question_or_pool"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    tag: Mapped[str | None] = mapped_column(String(80))
    draw: Mapped[int] = mapped_column(Integer, default=1)


class CohortWindow(db.Model):
    """Open / close times of an assessment for one cohort (overrides the assessment's)."""

    __tablename__ = "assessment_windows"
    __table_args__ = (UniqueConstraint("assessment_id", "cohort_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Attempt(db.Model):
    """One student's attempt. ``deadline`` is fixed by the server when it starts; the
    questions drawn and the choice orders are frozen in ``layout``."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("assessment_id", "student_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="in_progress", index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    layout: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    score: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    max_score: Mapped[Decimal] = mapped_column(Numeric(9, 2), default=Decimal("0"))

    assessment: Mapped[Assessment] = relationship()
    responses: Mapped[list[Response]] = relationship(
        cascade="all, delete-orphan", order_by="Response.position"
    )


class Response(db.Model):
    """The saved answer to one question of an attempt, and its grade."""

    __tablename__ = "attempt_responses"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[Any] = mapped_column(JSON, nullable=True)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    max_score: Mapped[Decimal] = mapped_column(Numeric(7, 2), default=Decimal("0"))
    feedback: Mapped[str] = mapped_column(Text, default="")
    rubric_levels: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    question: Mapped[Question] = relationship()


class GradeCategory(db.Model):
    """A weighted category of a course's gradebook, dropping its lowest ``drop_lowest``."""

    __tablename__ = "grade_categories"
    __table_args__ = (
        UniqueConstraint("course_id", "key"),
        CheckConstraint("weight >= 0", name="weight_positive"),
        CheckConstraint("drop_lowest >= 0", name="drop_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(16))
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    drop_lowest: Mapped[int] = mapped_column(Integer, default=0)


class ManualGrade(db.Model):
    """A grade recorded outside an attempt (attendance, an offline task) in a category."""

    __tablename__ = "manual_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    score: Mapped[Decimal] = mapped_column(Numeric(9, 2))
    max_score: Mapped[Decimal] = mapped_column(Numeric(9, 2))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GradebookSettings(db.Model):
    """A course's pass mark (percent), applied to the final weighted percentage."""

    __tablename__ = "gradebook_settings"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("60"))
