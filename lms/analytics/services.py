"""Dashboard aggregates, computed in SQL.

Every figure is one ``select()`` with GROUP BY (and window functions where a running total
or a "still watching" curve is asked for), run on SQLite and PostgreSQL alike; Python only
labels the few aggregated rows that come back (one per month, module, question …), never
walks the underlying enrolments, progress rows, responses or ledger entries.

Definitions (also in the README, "Analytics"):

* **learners** of a course: enrolments holding a seat (enrolled, completed, failed);
* **enrolments over time**: enrolments by the month they were admitted (``enrolled_at``),
  whatever happened later, with the running total;
* **completion funnel**: per module, learners who opened at least one of its lessons and
  learners who completed every required lesson of it;
* **video engagement**: a viewer of a video lesson has played it, has a resume position or
  has completed it; where they stop is their last position as a share of the video's length
  (the media asset's duration, else the lesson's estimated minutes), 100 % once completed;
* **item analysis**: each student's first graded attempt; difficulty is the mean share of
  the points scored on the question (the proportion correct for right/wrong questions);
  discrimination is the corrected point-biserial correlation between that share and the
  rest of the attempt's score;
* **grade distribution**: each student's best graded attempt at an assessment, in bands of
  ten percentage points;
* **attendance**: a student attended an occurrence of a live session when they joined it or
  a roll call gave them minutes;
* **credits**: the ledger records that stand (the latest version of each correction chain,
  passed, with credit); earned credit goes from the student's country to the offering
  institution's, recognised credit from the source record's institution's country to the
  recognising institution's."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import Float, Integer, String, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from lms.accounts.models import Institution, User
from lms.analytics.tables import Chart, Column, Table
from lms.assessment.models import Assessment, Attempt, Question, Response
from lms.catalog.forms import INDUSTRY_LABELS, TRACK_LABELS
from lms.catalog.models import Course, Lesson, Module
from lms.core.extensions import db
from lms.core.i18n import pick
from lms.credits.models import CreditRecord
from lms.enrolment.models import SEATED, Cohort, Enrolment, LessonProgress, SelectionAgreement
from lms.live.models import AttendanceEvent, LiveSession
from lms.media.models import MediaAsset
from lms.transcripts.models import Transcript

#: learners who count as active had activity in this many days
ACTIVE_DAYS = 30
BANDS = 10


# ---------------------------------------------------------------------------- SQL helpers


class month_of(FunctionElement):
    """``YYYY-MM`` of a UTC timestamp, on SQLite and PostgreSQL."""

    type = String()
    name = "month_of"
    inherit_cache = True


@compiles(month_of)
def _month_default(element, compiler, **kw):
    inner = compiler.process(element.clauses, **kw)
    return f"to_char(timezone('UTC', {inner}), 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw):
    inner = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m', {inner})"


def _f(expr: Any) -> ColumnElement:
    return cast(expr, Float)


def _band(percent: ColumnElement, bands: int = BANDS) -> ColumnElement:
    """0 … bands-1 for a percentage (100 % falls in the last band); portable (no casts of
    floats, which PostgreSQL rounds and SQLite truncates)."""
    width = 100 / bands
    return case(*[(percent < width * (i + 1), i) for i in range(bands - 1)], else_=bands - 1)


def _rate(part: Any, whole: Any) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Filters:
    """The teacher's and the statistics pages' filters: a class of the course and the
    students' country."""

    cohort_id: int | None = None
    country: str | None = None


def _filter_learners(stmt, filters: Filters):
    """``stmt`` joins ``Enrolment`` and the student ``User``: keep the filtered ones."""
    if filters.cohort_id is not None:
        stmt = stmt.where(Enrolment.cohort_id == filters.cohort_id)
    if filters.country:
        stmt = stmt.where(User.country == filters.country)
    return stmt


def _seated():
    return Enrolment.status.in_(SEATED)


def _rows(stmt) -> list[Any]:
    return list(db.session.execute(stmt))


# ---------------------------------------------------------------------------- course


def learner_count(course: Course, filters: Filters) -> int:
    stmt = (
        select(func.count())
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.student_id)
        .where(Enrolment.course_id == course.id, _seated())
    )
    return db.session.scalar(_filter_learners(stmt, filters)) or 0


def enrolments_over_time(course: Course, filters: Filters) -> Table:
    month = month_of(Enrolment.enrolled_at).label("month")
    per_month = _filter_learners(
        select(month, func.count().label("n"))
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.student_id)
        .where(Enrolment.course_id == course.id, Enrolment.enrolled_at.is_not(None))
        .group_by(month),
        filters,
    ).subquery()
    stmt = select(
        per_month.c.month,
        per_month.c.n,
        func.sum(per_month.c.n).over(order_by=per_month.c.month).label("total"),
    ).order_by(per_month.c.month)
    found = {r.month: (int(r.n), int(r.total)) for r in _rows(stmt)}
    rows, total = [], 0
    for m in _months(sorted(found)):  # months without admissions keep the running total
        new, total = found.get(m, (0, total))
        rows.append({"month": m, "new": new, "total": total})
    return Table(
        "enrolments",
        _("Enrolments over time"),
        _("Students admitted each month and the running total."),
        [
            Column("month", _("Month"), "month"),
            Column("new", _("New enrolments")),
            Column("total", _("Total enrolments")),
        ],
        rows,
        Chart("line", "month", ["total", "new"], _("Month"), _("Enrolments")),
    )


def _months(found: list[str]) -> list[str]:
    """Every month from the first to the last found, so gaps show as zero."""
    if not found:
        return []
    y, m = (int(p) for p in found[0].split("-"))
    out = []
    while True:
        key = f"{y:04d}-{m:02d}"
        out.append(key)
        if key >= found[-1]:
            return out
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def completion_funnel(course: Course, filters: Filters, locale: str) -> Table:
    required = (
        select(Lesson.module_id, func.count().label("n"))
        .where(Lesson.course_id == course.id, Lesson.required.is_(True))
        .group_by(Lesson.module_id)
        .subquery()
    )
    per_learner = _filter_learners(
        select(
            LessonProgress.enrolment_id,
            Lesson.module_id,
            func.count(
                case((and_(LessonProgress.completed_at.is_not(None), Lesson.required.is_(True)), 1))
            ).label("done"),
        )
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .join(Enrolment, Enrolment.id == LessonProgress.enrolment_id)
        .join(User, User.id == Enrolment.student_id)
        .where(Enrolment.course_id == course.id, _seated())
        .group_by(LessonProgress.enrolment_id, Lesson.module_id),
        filters,
    ).subquery()
    needed = func.coalesce(required.c.n, 0)
    stmt = (
        select(
            Module.id,
            func.count(per_learner.c.enrolment_id).label("started"),
            func.count(case((per_learner.c.done >= needed, 1))).label("completed"),
        )
        .outerjoin(required, required.c.module_id == Module.id)
        .outerjoin(per_learner, per_learner.c.module_id == Module.id)
        .where(Module.course_id == course.id)
        .group_by(Module.id, Module.position, required.c.n)
        .order_by(Module.position, Module.id)
    )
    learners = learner_count(course, filters)
    modules = {m.id: m for m in course.modules}
    rows = [
        {
            "module": modules[r.id].text("title", locale)[0] or modules[r.id].key,
            "started": int(r.started),
            "completed": int(r.completed),
            "share": _rate(int(r.completed), learners),
        }
        for r in _rows(stmt)
    ]
    return Table(
        "funnel",
        _("Completion by module"),
        _("Of %(num)s learners: who opened each module and who completed it.", num=learners),
        [
            Column("module", _("Module"), "text"),
            Column("started", _("Started")),
            Column("completed", _("Completed")),
            Column("share", _("Completed, share of learners"), "percent"),
        ],
        rows,
        Chart("bar", "module", ["started", "completed"], _("Learners"), _("Module")),
    )


def _video_lessons(course: Course):
    length = cast(func.coalesce(MediaAsset.duration, Lesson.minutes * 60), Integer)  # seconds
    return (
        select(Lesson.id, Lesson.position, Module.position.label("mpos"), length.label("length"))
        .join(Module, Module.id == Lesson.module_id)
        .outerjoin(MediaAsset, MediaAsset.id == Lesson.media_asset_id)
        .where(Lesson.course_id == course.id, Lesson.kind == "video")
    )


def _viewers(course: Course, filters: Filters, lesson_ids=None):
    stmt = (
        select(LessonProgress)
        .join(Enrolment, Enrolment.id == LessonProgress.enrolment_id)
        .join(User, User.id == Enrolment.student_id)
        .where(
            Enrolment.course_id == course.id,
            or_(
                LessonProgress.seconds_watched > 0,
                LessonProgress.position > 0,
                LessonProgress.completed_at.is_not(None),
            ),
        )
    )
    return _filter_learners(stmt, filters)


def video_engagement(course: Course, filters: Filters, locale: str) -> Table:
    videos = _video_lessons(course).subquery()
    views = _viewers(course, filters).subquery()
    stmt = (
        select(
            videos.c.id,
            videos.c.length,
            func.count(views.c.id).label("viewers"),
            func.avg(_f(views.c.seconds_watched)).label("avg_seconds"),
            func.count(views.c.completed_at).label("completed"),
        )
        .outerjoin(views, views.c.lesson_id == videos.c.id)
        .group_by(videos.c.id, videos.c.length, videos.c.mpos, videos.c.position)
        .order_by(videos.c.mpos, videos.c.position)
    )
    lessons = {lesson.id: lesson for m in course.modules for lesson in m.lessons}
    rows = []
    for r in _rows(stmt):
        lesson = lessons[r.id]
        rows.append(
            {
                "lesson_id": r.id,
                "lesson": lesson.text("title", locale)[0] or lesson.key,
                "length": int(r.length or 0),
                "viewers": int(r.viewers),
                "avg_seconds": round(float(r.avg_seconds), 1)
                if r.avg_seconds is not None
                else None,
                "completed": int(r.completed),
            }
        )
    return Table(
        "video",
        _("Video engagement"),
        _("Viewers of each video lesson, the average time they watched and who finished."),
        [
            Column("lesson", _("Lesson"), "text"),
            Column("length", _("Length (seconds)")),
            Column("viewers", _("Viewers")),
            Column("avg_seconds", _("Average seconds watched"), "decimal"),
            Column("completed", _("Completed")),
        ],
        rows,
        Chart("bar", "lesson", ["viewers", "completed"], _("Viewers"), _("Lesson")),
    )


def video_dropoff(course: Course, lesson: Lesson, filters: Filters) -> Table:
    """Viewers still watching at each tenth of the video (from their last position)."""
    length = db.session.scalar(
        _video_lessons(course)
        .where(Lesson.id == lesson.id)
        .with_only_columns(cast(func.coalesce(MediaAsset.duration, Lesson.minutes * 60), Integer))
    )
    counts: dict[int, int] = {}
    if length:
        views = _viewers(course, filters).where(LessonProgress.lesson_id == lesson.id).subquery()
        bucket = case(
            (views.c.completed_at.is_not(None), BANDS),
            (views.c.position >= length, BANDS),
            else_=(views.c.position * BANDS) // length,  # integer division on both databases
        ).label("bucket")
        per_bucket = select(bucket, func.count().label("n")).group_by(bucket).subquery()
        stmt = select(
            per_bucket.c.bucket,
            func.sum(per_bucket.c.n).over(order_by=per_bucket.c.bucket.desc()).label("reached"),
        )
        counts = {int(r.bucket): int(r.reached) for r in _rows(stmt)}
    rows, last = [], 0
    for b in range(BANDS, -1, -1):  # fill buckets nobody stopped in, from the end
        last = counts.get(b, last)
        rows.append({"point": b * 100 // BANDS, "viewers": last})
    rows.reverse()
    for row in rows:
        row["point"] = row["point"] / 100
    return Table(
        "dropoff",
        _("Where viewers stop"),
        _(
            "Viewers who reached each point of the video (their last position, or the end "
            "once the lesson is completed)."
        ),
        [
            Column("point", _("Point in the video"), "percent"),
            Column("viewers", _("Viewers who reached it")),
        ],
        rows,
        Chart("line", "point", ["viewers"], _("Point in the video"), _("Viewers")),
    )


def _first_attempts(assessment: Assessment, filters: Filters):
    """Each (filtered) student's first graded attempt at the assessment."""
    ranked = _filter_learners(
        select(
            Attempt.id,
            Attempt.score,
            func.row_number()
            .over(partition_by=Attempt.student_id, order_by=(Attempt.number, Attempt.id))
            .label("rn"),
        )
        .join(User, User.id == Attempt.student_id)
        .join(
            Enrolment,
            and_(
                Enrolment.student_id == Attempt.student_id,
                Enrolment.course_id == assessment.course_id,
            ),
        )
        .where(Attempt.assessment_id == assessment.id, Attempt.status == "graded"),
        filters,
    ).subquery()
    return select(ranked.c.id, ranked.c.score).where(ranked.c.rn == 1).subquery()


def item_analysis(assessment: Assessment, filters: Filters, locale: str) -> Table:
    first = _first_attempts(assessment, filters)
    x = _f(Response.score) / _f(Response.max_score)
    y = _f(first.c.score) - _f(Response.score)  # the rest of the attempt's score
    stmt = (
        select(
            Response.question_id,
            func.min(Response.position).label("pos"),
            func.count().label("n"),
            func.sum(x).label("sx"),
            func.sum(y).label("sy"),
            func.sum(x * y).label("sxy"),
            func.sum(x * x).label("sxx"),
            func.sum(y * y).label("syy"),
        )
        .join(first, first.c.id == Response.attempt_id)
        .where(Response.score.is_not(None), Response.max_score > 0)
        .group_by(Response.question_id)
        .order_by(func.min(Response.position), Response.question_id)
    )
    found = _rows(stmt)
    questions = {
        q.id: q
        for q in db.session.scalars(
            select(Question).where(Question.id.in_([r.question_id for r in found]))
        )
    }
    rows = []
    for r in found:
        q = questions[r.question_id]
        n = int(r.n)
        label = q.name or q.text("stem", locale)[0][:80] or f"#{q.id}"
        rows.append(
            {
                "question_id": q.id,
                "question": label,
                "responses": n,
                "difficulty": round(r.sx / n, 4),
                "discrimination": _correlation(n, r.sx, r.sy, r.sxy, r.sxx, r.syy),
            }
        )
    return Table(
        "items",
        _("Quiz item analysis"),
        _(
            "Difficulty is the share of the points scored (higher is easier); discrimination "
            "is the correlation with the rest of the attempt (below 0.2 deserves a look)."
        ),
        [
            Column("question", _("Question"), "text"),
            Column("responses", _("Responses")),
            Column("difficulty", _("Difficulty (proportion correct)"), "decimal"),
            Column("discrimination", _("Discrimination (point-biserial)"), "decimal"),
        ],
        rows,
        Chart("bar", "question", ["difficulty"], _("Proportion correct"), _("Question")),
    )


def _correlation(n, sx, sy, sxy, sxx, syy) -> float | None:
    """Pearson's r from sums (the point-biserial for right/wrong items); None when either
    side does not vary."""
    cov = n * sxy - sx * sy
    var = (n * sxx - sx * sx) * (n * syy - sy * sy)
    if n < 2 or var <= 1e-12:
        return None
    return round(cov / math.sqrt(var), 4)


def grade_distribution(assessment: Assessment, filters: Filters) -> Table:
    percent = func.max(_f(Attempt.score) * 100 / _f(Attempt.max_score)).label("percent")
    best = _filter_learners(
        select(Attempt.student_id, percent)
        .join(User, User.id == Attempt.student_id)
        .join(
            Enrolment,
            and_(
                Enrolment.student_id == Attempt.student_id,
                Enrolment.course_id == assessment.course_id,
            ),
        )
        .where(
            Attempt.assessment_id == assessment.id,
            Attempt.status == "graded",
            Attempt.max_score > 0,
        )
        .group_by(Attempt.student_id),
        filters,
    ).subquery()
    band = _band(best.c.percent).label("band")
    stmt = select(band, func.count().label("n")).group_by(band)
    counts = {int(r.band): int(r.n) for r in _rows(stmt)}
    width = 100 // BANDS
    rows = [
        {
            "band": _("%(low)s–%(high)s %%", low=b * width, high=(b + 1) * width),
            "students": counts.get(b, 0),
        }
        for b in range(BANDS)
    ]
    return Table(
        "grades",
        _("Grade distribution"),
        _(
            "Students by their best graded attempt, in bands of ten percentage points "
            "(each band includes its lower bound; a full score is in the last)."
        ),
        [Column("band", _("Score"), "text"), Column("students", _("Students"))],
        rows,
        Chart("bar", "band", ["students"], _("Students"), _("Score")),
    )


def attendance(course: Course, filters: Filters, locale: str) -> Table:
    attended = _filter_learners(
        select(AttendanceEvent.session_id, AttendanceEvent.occurrence_at, AttendanceEvent.user_id)
        .join(LiveSession, LiveSession.id == AttendanceEvent.session_id)
        .join(User, User.id == AttendanceEvent.user_id)
        .join(
            Enrolment,
            and_(Enrolment.student_id == User.id, Enrolment.course_id == LiveSession.course_id),
        )
        .where(
            LiveSession.course_id == course.id,
            or_(
                AttendanceEvent.kind == "join",
                and_(AttendanceEvent.kind == "present", AttendanceEvent.minutes > 0),
            ),
        )
        .distinct(),
        filters,
    ).subquery()
    per_occurrence = (
        select(attended.c.session_id, attended.c.occurrence_at, func.count().label("n"))
        .group_by(attended.c.session_id, attended.c.occurrence_at)
        .subquery()
    )
    students = (
        select(attended.c.session_id, func.count(func.distinct(attended.c.user_id)).label("n"))
        .group_by(attended.c.session_id)
        .subquery()
    )
    stmt = (
        select(
            LiveSession.id,
            func.count(per_occurrence.c.occurrence_at).label("occurrences"),
            func.coalesce(func.sum(per_occurrence.c.n), 0).label("attendances"),
            func.coalesce(func.max(students.c.n), 0).label("students"),
        )
        .outerjoin(per_occurrence, per_occurrence.c.session_id == LiveSession.id)
        .outerjoin(students, students.c.session_id == LiveSession.id)
        .where(LiveSession.course_id == course.id)
        .group_by(LiveSession.id, LiveSession.starts_at)
        .order_by(LiveSession.starts_at, LiveSession.id)
    )
    found = _rows(stmt)
    sessions = {
        s.id: s
        for s in db.session.scalars(
            select(LiveSession).where(LiveSession.id.in_([r.id for r in found]))
        )
    }
    rows = [
        {
            "session_id": r.id,
            "session": sessions[r.id].title(locale)[0] or f"#{r.id}",
            "occurrences": int(r.occurrences),
            "attendances": int(r.attendances),
            "students": int(r.students),
            "average": round(int(r.attendances) / int(r.occurrences), 2) if r.occurrences else None,
        }
        for r in found
    ]
    return Table(
        "attendance",
        _("Attendance per live session"),
        _(
            "Occurrences with attendance, attendances (a student in an occurrence), distinct "
            "students and the average per occurrence."
        ),
        [
            Column("session", _("Live session"), "text"),
            Column("occurrences", _("Occurrences")),
            Column("attendances", _("Attendances")),
            Column("students", _("Students")),
            Column("average", _("Average per occurrence"), "decimal"),
        ],
        rows,
        Chart("bar", "session", ["attendances", "students"], _("Attendances"), _("Live session")),
    )


@dataclass
class CourseDashboard:
    course: Course
    filters: Filters
    learners: int
    tables: list[Table]
    assessment: Assessment | None
    video: Lesson | None


def graded_assessments(course: Course) -> list[Assessment]:
    return list(
        db.session.scalars(
            select(Assessment).where(Assessment.course_id == course.id).order_by(Assessment.id)
        )
    )


def video_lessons(course: Course) -> list[Lesson]:
    return [les for m in course.modules for les in m.lessons if les.kind == "video"]


def cohorts(course: Course) -> list[Cohort]:
    return list(
        db.session.scalars(
            select(Cohort).where(Cohort.course_id == course.id).order_by(Cohort.name)
        )
    )


def learner_countries(course: Course) -> list[str]:
    stmt = (
        select(User.country)
        .join(Enrolment, Enrolment.student_id == User.id)
        .where(Enrolment.course_id == course.id, User.country != "")
        .group_by(User.country)
        .order_by(User.country)
    )
    return list(db.session.scalars(stmt))


def course_dashboard(
    course: Course,
    filters: Filters,
    locale: str,
    *,
    assessment_id: int | None = None,
    video_id: int | None = None,
    only: str | None = None,
) -> CourseDashboard:
    """The tables of the teacher's course analytics — every one, or ``only`` the one with
    that key (a download) — (permission is the caller's check)."""
    assessments = graded_assessments(course)
    assessment = next((a for a in assessments if a.id == assessment_id), None) or (
        assessments[0] if assessments else None
    )
    videos = video_lessons(course)
    video = next((v for v in videos if v.id == video_id), None) or (videos[0] if videos else None)
    builders: list[tuple[str, Any]] = [
        ("enrolments", lambda: enrolments_over_time(course, filters)),
        ("funnel", lambda: completion_funnel(course, filters, locale)),
        ("video", lambda: video_engagement(course, filters, locale)),
    ]
    if video is not None:
        builders.append(("dropoff", lambda: video_dropoff(course, video, filters)))
    if assessment is not None:
        builders.append(("items", lambda: item_analysis(assessment, filters, locale)))
        builders.append(("grades", lambda: grade_distribution(assessment, filters)))
    builders.append(("attendance", lambda: attendance(course, filters, locale)))
    tables = [build() for key, build in builders if only is None or key == only]
    return CourseDashboard(
        course, filters, learner_count(course, filters), tables, assessment, video
    )


# ---------------------------------------------------------------------------- institution


def _in_scope(institution: Institution | None):
    return literal(True) if institution is None else Course.institution_id == institution.id


def _admitted(institution: Institution | None, filters: Filters):
    stmt = (
        select()
        .select_from(Enrolment)
        .join(Course, Course.id == Enrolment.course_id)
        .join(User, User.id == Enrolment.student_id)
        .where(Enrolment.enrolled_at.is_not(None), _in_scope(institution))
    )
    return _filter_learners(stmt, filters)


def enrolments_by_segment(institution: Institution | None, filters: Filters) -> Table:
    stmt = (
        _admitted(institution, filters)
        .add_columns(User.country, Course.track, Course.industry, func.count().label("n"))
        .group_by(User.country, Course.track, Course.industry)
        .order_by(func.count().desc(), User.country, Course.track, Course.industry)
    )
    rows = [
        {"country": r.country, "track": r.track, "industry": r.industry, "enrolments": int(r.n)}
        for r in _rows(stmt)
    ]
    return Table(
        "segments",
        _("Enrolments by country, track and industry"),
        _("Admitted enrolments by the student's country and the course's track and industry."),
        [
            Column("country", _("Country"), "country"),
            Column("track", _("Track"), "code", TRACK_LABELS),
            Column("industry", _("Industry"), "code", INDUSTRY_LABELS),
            Column("enrolments", _("Enrolments")),
        ],
        rows,
    )


def learners_by_country(
    institution: Institution | None, filters: Filters, *, now: datetime
) -> Table:
    since = now - timedelta(days=ACTIVE_DAYS)
    active = case((Enrolment.last_activity_at >= since, Enrolment.student_id))
    stmt = (
        _admitted(institution, filters)
        .add_columns(
            User.country,
            func.count().label("enrolments"),
            func.count(func.distinct(Enrolment.student_id)).label("learners"),
            func.count(func.distinct(active)).label("active"),
        )
        .group_by(User.country)
        .order_by(func.count().desc(), User.country)
    )
    rows = [
        {
            "country": r.country,
            "enrolments": int(r.enrolments),
            "learners": int(r.learners),
            "active": int(r.active),
        }
        for r in _rows(stmt)
    ]
    return Table(
        "countries",
        _("Learners by country"),
        _(
            "Admitted enrolments, distinct learners and learners active in the last %(num)s "
            "days, by the student's country.",
            num=ACTIVE_DAYS,
        ),
        [
            Column("country", _("Country"), "country"),
            Column("enrolments", _("Enrolments")),
            Column("learners", _("Learners")),
            Column("active", _("Active learners")),
        ],
        rows,
        Chart("bar", "country", ["enrolments", "active"], _("Students"), _("Country")),
    )


def completion_by_track(institution: Institution | None, filters: Filters) -> Table:
    stmt = (
        _admitted(institution, filters)
        .add_columns(
            Course.track,
            func.count(case((_seated(), 1))).label("learners"),
            func.count(case((Enrolment.status == "completed", 1))).label("completed"),
            func.count(case((Enrolment.status == "failed", 1))).label("failed"),
        )
        .group_by(Course.track)
        .order_by(Course.track)
    )
    rows = [
        {
            "track": r.track,
            "learners": int(r.learners),
            "completed": int(r.completed),
            "failed": int(r.failed),
            "rate": _rate(int(r.completed), int(r.learners)),
        }
        for r in _rows(stmt)
    ]
    return Table(
        "completion",
        _("Completion by track"),
        _("Learners holding a seat, those who completed or failed, and the completion rate."),
        [
            Column("track", _("Track"), "code", TRACK_LABELS),
            Column("learners", _("Learners")),
            Column("completed", _("Completed")),
            Column("failed", _("Failed")),
            Column("rate", _("Completion rate"), "percent"),
        ],
        rows,
        Chart("bar", "track", ["learners", "completed"], _("Learners"), _("Track")),
    )


def credits_by_country_pair(institution: Institution | None) -> Table:
    newer = aliased(CreditRecord)
    source = aliased(CreditRecord)
    source_inst = aliased(Institution)
    home = aliased(Institution)
    earned = CreditRecord.source_record_id.is_(None)
    kind = case((earned, "earned"), else_="recognised").label("kind")
    origin = case((earned, User.country), else_=source_inst.country).label("origin")
    stmt = (
        select(
            origin,
            home.country.label("destination"),
            kind,
            CreditRecord.credit_system,
            func.count().label("records"),
            func.sum(CreditRecord.credits).label("credits"),
        )
        .join(User, User.id == CreditRecord.student_id)
        .join(home, home.id == CreditRecord.institution_id)
        .outerjoin(source, source.id == CreditRecord.source_record_id)
        .outerjoin(source_inst, source_inst.id == source.institution_id)
        .where(
            ~exists().where(newer.corrects_id == CreditRecord.id),
            CreditRecord.passed.is_(True),
            CreditRecord.credits > 0,
        )
        .group_by(origin, home.country, kind, CreditRecord.credit_system)
        .order_by(kind, origin, home.country, CreditRecord.credit_system)
    )
    if institution is not None:
        stmt = stmt.where(
            or_(
                CreditRecord.institution_id == institution.id,
                source.institution_id == institution.id,
            )
        )
    kinds = {"earned": _("Earned"), "recognised": _("Recognised")}
    rows = [
        {
            "kind": r.kind,
            "origin": r.origin or "",
            "destination": r.destination,
            "credit_system": r.credit_system,
            "records": int(r.records),
            "credits": float(r.credits),
        }
        for r in _rows(stmt)
    ]
    for row in rows:
        row["pair"] = f"{row['origin'] or '?'} → {row['destination']}"
    return Table(
        "credits",
        _("Credits earned and recognised by country pair"),
        _(
            "Standing ledger records: earned from the student's country to the offering "
            "institution's, recognised from the source institution's country to the "
            "recognising institution's, in each ledger's credit system."
        ),
        [
            Column("kind", _("Kind"), "code", kinds),
            Column("pair", _("Countries"), "text"),
            Column("origin", _("From"), "country"),
            Column("destination", _("To"), "country"),
            Column("credit_system", _("Credit system"), "text"),
            Column("records", _("Records")),
            Column("credits", _("Credits"), "decimal"),
        ],
        rows,
        Chart("bar", "pair", ["credits"], _("Credits"), _("Countries")),
    )


def transcripts_issued(institution: Institution | None) -> Table:
    month = month_of(Transcript.issued_at).label("month")
    stmt = (
        select(
            month,
            func.count().label("issued"),
            func.count(case((Transcript.status == "valid", 1))).label("valid"),
            func.count(case((Transcript.status == "superseded", 1))).label("superseded"),
            func.count(case((Transcript.status == "revoked", 1))).label("revoked"),
        )
        .group_by(month)
        .order_by(month)
    )
    if institution is not None:
        stmt = stmt.where(Transcript.institution_id == institution.id)
    rows = [
        {
            "month": r.month,
            "issued": int(r.issued),
            "valid": int(r.valid),
            "superseded": int(r.superseded),
            "revoked": int(r.revoked),
        }
        for r in _rows(stmt)
    ]
    return Table(
        "transcripts",
        _("Transcripts issued"),
        _("Transcript versions issued each month and what became of them."),
        [
            Column("month", _("Month"), "month"),
            Column("issued", pgettext("number of transcripts", "Issued")),
            Column("valid", pgettext("number of transcripts", "Still valid")),
            Column("superseded", pgettext("number of transcripts", "Superseded")),
            Column("revoked", pgettext("number of transcripts", "Revoked")),
        ],
        rows,
        Chart("bar", "month", ["issued", "revoked"], _("Transcripts"), _("Month")),
    )


def quota_use(institution: Institution | None, locale: str) -> Table:
    host, partner = aliased(Institution), aliased(Institution)
    seated = (
        select(Enrolment.agreement_id, func.count().label("n"))
        .where(Enrolment.agreement_id.is_not(None), Enrolment.holds_seat.is_(True))
        .group_by(Enrolment.agreement_id)
        .subquery()
    )
    stmt = (
        select(
            SelectionAgreement.id,
            SelectionAgreement.term,
            SelectionAgreement.quota,
            SelectionAgreement.taken,
            host.names.label("host_names"),
            host.slug.label("host_slug"),
            partner.names.label("partner_names"),
            partner.slug.label("partner_slug"),
            func.coalesce(seated.c.n, 0).label("students"),
        )
        .join(host, host.id == SelectionAgreement.host_id)
        .join(partner, partner.id == SelectionAgreement.partner_id)
        .outerjoin(seated, seated.c.agreement_id == SelectionAgreement.id)
        .order_by(SelectionAgreement.valid_from.desc(), SelectionAgreement.id)
    )
    if institution is not None:
        stmt = stmt.where(
            or_(
                SelectionAgreement.host_id == institution.id,
                SelectionAgreement.partner_id == institution.id,
            )
        )
    rows = [
        {
            "agreement_id": r.id,
            "agreement": f"{pick(r.host_names, locale, 'en')[0] or r.host_slug} ← "
            f"{pick(r.partner_names, locale, 'en')[0] or r.partner_slug} · {r.term}",
            "quota": int(r.quota),
            "taken": int(r.taken),
            "students": int(r.students),
            "use": _rate(int(r.taken), int(r.quota)),
        }
        for r in _rows(stmt)
    ]
    return Table(
        "quotas",
        _("Course mutual-selection quota use"),
        _("Seats of each agreement: the quota, seats taken and partner students holding one."),
        [
            Column("agreement", _("Agreement (host ← partner · term)"), "text"),
            Column("quota", _("Quota")),
            Column("taken", _("Seats taken")),
            Column("students", _("Students seated")),
            Column("use", _("Quota used"), "percent"),
        ],
        rows,
        Chart("bar", "agreement", ["quota", "taken"], _("Seats"), _("Agreement")),
    )


@dataclass
class Statistics:
    institution: Institution | None
    filters: Filters
    figures: dict[str, Any]
    tables: list[Table]


def headline(institution: Institution | None, filters: Filters, *, now: datetime) -> dict:
    since = now - timedelta(days=ACTIVE_DAYS)
    stmt = _admitted(institution, filters).add_columns(
        func.count().label("enrolments"),
        func.count(func.distinct(Enrolment.student_id)).label("learners"),
        func.count(
            func.distinct(case((Enrolment.last_activity_at >= since, Enrolment.student_id)))
        ).label("active"),
        func.count(case((_seated(), 1))).label("seated"),
        func.count(case((Enrolment.status == "completed", 1))).label("completed"),
    )
    r = db.session.execute(stmt).one()
    issued = select(func.count()).select_from(Transcript)
    if institution is not None:
        issued = issued.where(Transcript.institution_id == institution.id)
    return {
        "enrolments": int(r.enrolments),
        "learners": int(r.learners),
        "active_learners": int(r.active),
        "completion_rate": _rate(int(r.completed), int(r.seated)),
        "transcripts_issued": int(db.session.scalar(issued) or 0),
    }


def statistics(
    institution: Institution | None,
    filters: Filters,
    locale: str,
    *,
    now: datetime,
    only: str | None = None,
) -> Statistics:
    """The institution's (or, with None, the platform's) statistics: every table, or
    ``only`` the one with that key."""
    builders: list[tuple[str, Any]] = [
        ("countries", lambda: learners_by_country(institution, filters, now=now)),
        ("segments", lambda: enrolments_by_segment(institution, filters)),
        ("completion", lambda: completion_by_track(institution, filters)),
        ("credits", lambda: credits_by_country_pair(institution)),
        ("transcripts", lambda: transcripts_issued(institution)),
        ("quotas", lambda: quota_use(institution, locale)),
    ]
    tables = [build() for key, build in builders if only is None or key == only]
    figures = headline(institution, filters, now=now) if only is None else {}
    return Statistics(institution, filters, figures, tables)


def student_countries(institution: Institution | None) -> list[str]:
    stmt = (
        select(User.country)
        .join(Enrolment, Enrolment.student_id == User.id)
        .join(Course, Course.id == Enrolment.course_id)
        .where(User.country != "", _in_scope(institution))
        .group_by(User.country)
        .order_by(User.country)
    )
    return list(db.session.scalars(stmt))


def institutions_for(user: User) -> list[Institution]:
    """Institutions whose statistics ``user`` may read."""
    from lms.core.security import Role

    if user.is_platform_admin:
        stmt = select(Institution)
    else:
        ids = user.institutions_with(Role.ADMIN, Role.REGISTRAR)
        stmt = select(Institution).where(Institution.id.in_(ids))
    return list(db.session.scalars(stmt.order_by(Institution.slug)))


def find_table(tables: list[Table], key: str) -> Table | None:
    return next((t for t in tables if t.key == key), None)
