"""The gradebook: weighted categories (quizzes, assignments, exams, attendance), drop-lowest,
the final percentage and pass / fail against the course's pass mark. Converting the
percentage into an institution's grade scale is the credits domain's job (it sits above)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts.models import User
from lms.assessment.attempts import close_overdue, window_for
from lms.assessment.models import (
    CATEGORIES,
    Assessment,
    Attempt,
    GradebookSettings,
    GradeCategory,
    ManualGrade,
)
from lms.catalog.models import Course
from lms.core import audit
from lms.core.errors import field_error
from lms.core.extensions import db
from lms.core.security import require

HUNDRED = Decimal("100")
DEFAULT_PASS_MARK = Decimal("60")


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def set_category(
    actor: User | None,
    course: Course,
    key: str,
    weight: Decimal,
    drop_lowest: int = 0,
    *,
    check: bool = True,
) -> GradeCategory:
    """Weigh a category of the course's gradebook and say how many of its lowest items to
    drop. Weights are relative: they are normalised over the categories that have grades."""
    if check:
        require(actor, "assessment.author", course)
    if key not in CATEGORIES:
        raise field_error("key", _("Unknown gradebook category."))
    weight = Decimal(weight)
    if weight < 0:
        raise field_error("weight", _("A weight cannot be negative."))
    if drop_lowest < 0:
        raise field_error("drop_lowest", _("This value is out of range."))
    cat = db.session.scalar(
        select(GradeCategory).where(GradeCategory.course_id == course.id, GradeCategory.key == key)
    )
    before = {"weight": str(cat.weight), "drop_lowest": cat.drop_lowest} if cat else None
    if cat is None:
        cat = GradeCategory(course_id=course.id, key=key)
        db.session.add(cat)
    cat.weight, cat.drop_lowest = weight, drop_lowest
    db.session.flush()
    audit.record(
        actor,
        "gradebook.category",
        "course",
        course.code,
        before=before,
        after={"key": key, "weight": str(weight), "drop_lowest": drop_lowest},
    )
    return cat


def set_pass_mark(actor: User | None, course: Course, pass_mark: Decimal, *, check: bool = True):
    """The final percentage a student needs to pass the course."""
    if check:
        require(actor, "assessment.author", course)
    pass_mark = Decimal(pass_mark)
    if not 0 <= pass_mark <= HUNDRED:
        raise field_error("pass_mark", _("The pass mark is a percentage from 0 to 100."))
    row = db.session.get(GradebookSettings, course.id)
    before = {"pass_mark": str(row.pass_mark)} if row else None
    if row is None:
        row = GradebookSettings(course_id=course.id)
        db.session.add(row)
    row.pass_mark = pass_mark
    db.session.flush()
    audit.record(
        actor,
        "gradebook.pass_mark",
        "course",
        course.code,
        before=before,
        after={"pass_mark": str(pass_mark)},
    )
    return row


def record_manual_grade(
    actor: User | None,
    course: Course,
    student: User,
    category: str,
    title: str,
    score: Decimal,
    max_score: Decimal,
    *,
    check: bool = True,
) -> ManualGrade:
    """A grade given outside an attempt (attendance, an offline task), audited."""
    if check:
        require(actor, "assessment.grade", course)
    if category not in CATEGORIES:
        raise field_error("category", _("Unknown gradebook category."))
    score, max_score = Decimal(score), Decimal(max_score)
    if max_score <= 0 or not 0 <= score <= max_score:
        raise field_error("score", _("The score must lie between 0 and %(max)s.", max=max_score))
    row = ManualGrade(
        course_id=course.id,
        student_id=student.id,
        category=category,
        title=title,
        score=score,
        max_score=max_score,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "grade.change",
        "manual_grade",
        row.id,
        before=None,
        after={
            "student": student.id,
            "category": category,
            "score": str(score),
            "max_score": str(max_score),
        },
    )
    return row


@dataclass
class Item:
    title: str
    percent: Decimal
    dropped: bool = False


@dataclass
class CategoryResult:
    key: str
    weight: Decimal
    items: list[Item] = field(default_factory=list)
    percent: Decimal | None = None


@dataclass
class StudentResult:
    student: User
    categories: list[CategoryResult]
    final_percent: Decimal | None
    pass_mark: Decimal
    passed: bool | None


def best_percent(student: User, assessment: Assessment) -> Decimal | None:
    """The student's best graded attempt as a percentage, None when none is graded."""
    best = None
    for a in db.session.scalars(
        select(Attempt).where(
            Attempt.assessment_id == assessment.id,
            Attempt.student_id == student.id,
            Attempt.status == "graded",
        )
    ):
        pct = a.score / a.max_score * HUNDRED if a.max_score else Decimal("0")
        best = pct if best is None or pct > best else best
    return best


def categories_of(course: Course) -> list[GradeCategory]:
    return list(
        db.session.scalars(select(GradeCategory).where(GradeCategory.course_id == course.id))
    )


def pass_mark_of(course: Course) -> Decimal:
    row = db.session.get(GradebookSettings, course.id)
    return row.pass_mark if row else DEFAULT_PASS_MARK


@dataclass
class _CourseGrading:
    """What every student's result in a course is computed from (read once per page)."""

    weights: dict[str, GradeCategory]
    assessments: list[Assessment]
    pass_mark: Decimal
    #: (assessment id, student id) → best graded attempt as a percentage
    best: dict[tuple[int, int], Decimal]
    #: student id → manual grades
    manual: dict[int, list[ManualGrade]]


def _course_grading(course: Course, *, now: datetime, student: User | None) -> _CourseGrading:
    """Weights, graded assessments (overdue attempts closed first), the pass mark, the best
    attempts and the manual grades of one student or of all: five queries, whatever the
    number of students."""
    weights = {
        c.key: c
        for c in db.session.scalars(
            select(GradeCategory).where(GradeCategory.course_id == course.id)
        )
    }
    assessments = list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.course_id == course.id, Assessment.graded.is_(True))
            .order_by(Assessment.id)
        )
    )
    for a in assessments:
        close_overdue(a, now=now)
    best: dict[tuple[int, int], Decimal] = {}
    if assessments:
        stmt = select(Attempt).where(
            Attempt.assessment_id.in_([a.id for a in assessments]),
            Attempt.status == "graded",
        )
        if student is not None:
            stmt = stmt.where(Attempt.student_id == student.id)
        for at in db.session.scalars(stmt):
            pct = at.score / at.max_score * HUNDRED if at.max_score else Decimal("0")
            key = (at.assessment_id, at.student_id)
            if key not in best or pct > best[key]:
                best[key] = pct
    stmt = select(ManualGrade).where(ManualGrade.course_id == course.id).order_by(ManualGrade.id)
    if student is not None:
        stmt = stmt.where(ManualGrade.student_id == student.id)
    manual: dict[int, list[ManualGrade]] = {}
    for m in db.session.scalars(stmt):
        manual.setdefault(m.student_id, []).append(m)
    return _CourseGrading(weights, assessments, pass_mark_of(course), best, manual)


def student_result(course: Course, student: User, *, now: datetime) -> StudentResult:
    """The student's weighted final percentage: each category's mean after dropping its
    lowest items, weighted over the categories that hold grades. An assessment counts once
    graded, or as 0% once it has closed without a graded attempt."""
    return _result(_course_grading(course, now=now, student=student), student, now=now)


def _result(grading: _CourseGrading, student: User, *, now: datetime) -> StudentResult:
    weights = grading.weights
    cats = {
        key: CategoryResult(key, weights[key].weight if key in weights else Decimal("1"))
        for key in CATEGORIES
    }
    for a in grading.assessments:
        pct = grading.best.get((a.id, student.id))
        if pct is None:
            if a.closes_at is None and not a.windows:
                continue  # never closes: no 0% (and no look-up of the student's cohort)
            _opens, closes = window_for(a, student)
            if closes is None or now < closes:
                continue
            pct = Decimal("0")
        cats[a.category].items.append(Item(a.title, _q(pct)))
    for m in grading.manual.get(student.id, []):
        cats[m.category].items.append(Item(m.title, _q(m.score / m.max_score * HUNDRED)))
    total_w, total = Decimal("0"), Decimal("0")
    for cat in cats.values():
        if not cat.items:
            continue
        drop = weights[cat.key].drop_lowest if cat.key in weights else 0
        drop = min(drop, len(cat.items) - 1)
        for item in sorted(cat.items, key=lambda i: i.percent)[:drop]:
            item.dropped = True
        kept = [i.percent for i in cat.items if not i.dropped]
        cat.percent = _q(sum(kept, Decimal("0")) / len(kept))
        if cat.weight > 0:
            total_w += cat.weight
            total += cat.weight * cat.percent
    final = _q(total / total_w) if total_w else None
    mark = grading.pass_mark
    return StudentResult(
        student, list(cats.values()), final, mark, None if final is None else final >= mark
    )


def course_results(viewer: User, course: Course, *, now: datetime) -> list[StudentResult]:
    """Every enrolled student's result, for the teacher's gradebook."""
    from lms.enrolment.models import Enrolment
    from lms.enrolment.services import ACTIVE

    require(viewer, "assessment.gradebook", course)
    students = db.session.scalars(
        select(User)
        .join(Enrolment, Enrolment.student_id == User.id)
        .where(Enrolment.course_id == course.id, Enrolment.status.in_(ACTIVE))
        .order_by(User.id)
    ).all()
    grading = _course_grading(course, now=now, student=None)
    return [_result(grading, s, now=now) for s in students]


def csv_rows(results: list[StudentResult]) -> tuple[list[str], list[list[object]]]:
    from lms.assessment.forms import CATEGORY_LABELS

    header = (
        [_("Student"), _("E-mail")]
        + [str(CATEGORY_LABELS[k]) for k in CATEGORIES]
        + [_("Final percentage"), _("Pass mark"), _("Result")]
    )
    rows = []
    for r in results:
        rows.append(
            [r.student.display_name, r.student.email]
            + ["" if c.percent is None else str(c.percent) for c in r.categories]
            + [
                "" if r.final_percent is None else str(r.final_percent),
                str(r.pass_mark),
                "" if r.passed is None else (_("Pass") if r.passed else _("Fail")),
            ]
        )
    return header, rows


def assessments_passed(enrolment) -> tuple[bool, str] | None:
    """Completion criterion: every graded assessment of the course passed (best attempt at
    or above its pass percentage). None when the course has no graded assessment."""
    from lms.core.db import utcnow

    student = db.session.get(User, enrolment.student_id)
    graded = db.session.scalars(
        select(Assessment).where(
            Assessment.course_id == enrolment.course_id, Assessment.graded.is_(True)
        )
    ).all()
    if not graded:
        return None
    now = utcnow()
    passed = 0
    for a in graded:
        close_overdue(a, now=now)
        pct = best_percent(student, a)
        if pct is not None and pct >= a.pass_percent:
            passed += 1
    return passed == len(graded), _(
        "%(passed)d of %(total)d assessments passed", passed=passed, total=len(graded)
    )
