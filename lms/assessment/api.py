"""Assessment API: question import / export, attempts (start, save answers, submit, result),
the grading queue and the gradebook."""

from __future__ import annotations

from decimal import Decimal

from flask import Response, request
from flask_babel import gettext as _
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from lms.assessment import attempts, gradebook, present, services
from lms.assessment.models import CATEGORIES, QUESTION_TYPES
from lms.assessment.services import LATE_POLICIES as LATE
from lms.assessment.services import REVIEW
from lms.assessment.spec import QuestionSpec
from lms.catalog import services as catalog
from lms.core.api import api_blueprint, auth_required, bearer_user
from lms.core.db import finish_writes, utcnow
from lms.core.errors import NotFound, field_error
from lms.core.i18n import current_locale
from lms.core.security import can, require
from lms.enrolment import services as enrolment

blp = api_blueprint(
    "assessment_api", __name__, "Question banks (GIFT, Moodle XML), attempts, grading, gradebook"
)


# ---------------------------------------------------------------------------- schemas


class ImportForm(Schema):
    file = Upload(required=True, metadata={"description": "The GIFT or Moodle XML file"})
    format = fields.String(
        metadata={"enum": list(services.FORMATS), "description": "A form field: gift | moodlexml"}
    )


class ProblemItem(Schema):
    position = fields.String(required=True)
    message = fields.String(required=True)


class ImportResult(Schema):
    imported = fields.Integer(required=True)
    errors = fields.List(fields.Nested(ProblemItem), required=True)


class ExportArgs(Schema):
    format = fields.String(load_default="moodlexml", validate=validate.OneOf(services.FORMATS))


class AnswersSchema(Schema):
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "Question id → answer (choice id, list, text, number, map)"},
    )


class SubmitSchema(Schema):
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))


class QuestionView(Schema):
    question_id = fields.Integer(required=True)
    qtype = fields.String(required=True)
    stem = fields.String(required=True)
    stem_html = fields.String(required=True)
    stem_locale = fields.String(allow_none=True)
    points = fields.String(required=True)
    choices = fields.List(fields.Dict())
    lefts = fields.List(fields.String())
    rights = fields.List(fields.String())
    order_items = fields.List(fields.String())
    blanks = fields.List(fields.Raw())
    max_files = fields.Integer()
    answer = fields.Raw(allow_none=True)
    saved_at = fields.DateTime(allow_none=True)
    score = fields.String(allow_none=True)
    feedback = fields.String()
    correct = fields.Raw()


class AttemptSchema(Schema):
    id = fields.Integer(required=True)
    assessment_id = fields.Integer(required=True)
    title = fields.String(required=True)
    number = fields.Integer(required=True)
    status = fields.String(
        required=True, metadata={"enum": ["in_progress", "needs_grading", "graded"]}
    )
    started_at = fields.DateTime(required=True)
    deadline = fields.DateTime(allow_none=True)
    remaining_seconds = fields.Integer(
        allow_none=True, metadata={"description": "By the server's clock"}
    )
    submitted_at = fields.DateTime(allow_none=True)
    late = fields.Boolean(required=True)
    auto_submitted = fields.Boolean(required=True)
    score = fields.String(allow_none=True)
    max_score = fields.String(required=True)
    review_score = fields.Boolean(required=True)
    review_answers = fields.Boolean(required=True)
    questions = fields.List(fields.Nested(QuestionView), required=True)


class GradeSchema(Schema):
    score = fields.Decimal(as_string=True, allow_none=True)
    rubric_levels = fields.List(fields.Integer(), allow_none=True)
    feedback = fields.String(load_default="", validate=validate.Length(max=20000))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class QueueItem(Schema):
    response_id = fields.Integer(required=True)
    attempt_id = fields.Integer(required=True)
    question_id = fields.Integer(required=True)
    student = fields.String(required=True)
    answer = fields.Raw(allow_none=True)
    max_score = fields.String(required=True)


class CategorySchema(Schema):
    key = fields.String(required=True)
    weight = fields.String(required=True)
    percent = fields.String(allow_none=True)


class ResultSchema(Schema):
    student_id = fields.Integer(required=True)
    student = fields.String(required=True)
    categories = fields.List(fields.Nested(CategorySchema), required=True)
    final_percent = fields.String(allow_none=True)
    pass_mark = fields.String(required=True)
    passed = fields.Boolean(allow_none=True)


class GradebookSchema(Schema):
    items = fields.List(fields.Nested(ResultSchema), required=True)


# -------------------------------------------------------------------------- endpoints


def _answers(raw: dict | None) -> dict[int, object]:
    out = {}
    for key, value in (raw or {}).items():
        try:
            out[int(key)] = value
        except ValueError:
            raise field_error("answers", _("Unknown question.")) from None
    return out


def _view(attempt):
    """The attempt as its reader may see it. The write endpoints call ``finish_writes``
    first: what they stored is committed before this is built from it."""
    return present.attempt_view(attempt, bearer_user(), locale=current_locale(), now=utcnow())


@blp.route("/courses/<code>/questions/import", methods=["POST"])
@blp.arguments(ImportForm, location="files")
@blp.response(200, ImportResult)
@auth_required
def import_questions(args, code):
    """Import questions from a GIFT or Moodle XML file (multipart: ``file`` and ``format``).
    Each problem is reported with its position; the questions without problems are kept."""
    course = catalog.get_course(code)
    data = args["file"].stream.read(services.MAX_IMPORT_BYTES + 1)
    result = services.import_questions(bearer_user(), course, request.form.get("format", ""), data)
    return {
        "imported": len(result.imported),
        "errors": [{"position": e.position, "message": e.message} for e in result.errors],
    }


@blp.route("/courses/<code>/questions/export", methods=["GET"])
@blp.arguments(ExportArgs, location="query")
@blp.response(200, description="The bank as GIFT text or Moodle XML")
@auth_required
def export_questions(args, code):
    """The course's question bank as a file (answer keys included: staff only)."""
    course = catalog.get_course(code)
    require(bearer_user(), "assessment.author", course)
    body, _problems = services.export_questions(course, args["format"])
    ext, mime = ("gift.txt", "text/plain") if args["format"] == "gift" else ("xml", "text/xml")
    return Response(
        body,
        mimetype=mime,
        headers={"Content-Disposition": f'attachment; filename="{course.code}-questions.{ext}"'},
    )


@blp.route("/assessments/<int:assessment_id>/attempts", methods=["POST"])
@blp.response(201, AttemptSchema)
@auth_required
def start_attempt(assessment_id):
    """Start an attempt (or get the unfinished one back). The deadline is set by the server."""
    assessment = services.get_assessment(assessment_id)
    attempt = attempts.start_attempt(bearer_user(), assessment, now=utcnow())
    finish_writes()
    return _view(attempt)


@blp.route("/attempts/<int:attempt_id>", methods=["GET"])
@blp.response(200, AttemptSchema)
@auth_required
def get_attempt(attempt_id):
    """An attempt with its questions and saved answers; score and correct answers only as
    the review settings allow. Others' attempts are not found."""
    return _view(attempts.get_attempt(bearer_user(), attempt_id, now=utcnow()))


@blp.route("/attempts/<int:attempt_id>/answers", methods=["PUT"])
@blp.arguments(AnswersSchema)
@blp.response(200, AttemptSchema)
@auth_required
def save_answers(args, attempt_id):
    """Autosave: store the given answers now (each replaces the previous one)."""
    user = bearer_user()
    attempt = attempts.get_attempt(user, attempt_id, now=utcnow(), finalise=False)
    attempts.save_answers(user, attempt, _answers(args["answers"]), now=utcnow())
    finish_writes()
    return _view(attempt)


@blp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@blp.arguments(SubmitSchema)
@blp.response(200, AttemptSchema)
@auth_required
def submit_attempt(args, attempt_id):
    """Submit once; repeating the call returns the same result (idempotent)."""
    user = bearer_user()
    attempt = attempts.get_attempt(user, attempt_id, now=utcnow(), finalise=False)
    result = attempts.submit_attempt(
        user, attempt, now=utcnow(), answers=_answers(args.get("answers"))
    )
    finish_writes()
    return _view(result.attempt)


@blp.route("/attempts/<int:attempt_id>/result", methods=["GET"])
@blp.response(200, AttemptSchema)
@auth_required
def attempt_result(attempt_id):
    """The result of a submitted attempt, as far as the review settings allow."""
    attempt = attempts.get_attempt(bearer_user(), attempt_id, now=utcnow())
    if attempt.status == "in_progress":
        raise NotFound(_("This attempt has not been submitted yet."))
    return _view(attempt)


@blp.route("/courses/<code>/grading-queue", methods=["GET"])
@blp.response(200, QueueItem(many=True))
@auth_required
def grading_queue(code):
    """Essay and upload answers waiting for a grade."""
    course = catalog.get_course(code)
    rows = attempts.grading_queue(bearer_user(), course, now=utcnow())
    return [
        {
            "response_id": r.id,
            "attempt_id": r.attempt_id,
            "question_id": r.question_id,
            "student": _student_name(r),
            "answer": r.answer,
            "max_score": str(r.max_score),
        }
        for r in rows
    ]


def _student_name(response) -> str:
    from lms.accounts.models import User
    from lms.assessment.models import Attempt
    from lms.core.extensions import db

    attempt = db.session.get(Attempt, response.attempt_id)
    return db.session.get(User, attempt.student_id).display_name


@blp.route("/responses/<int:response_id>/grade", methods=["POST"])
@blp.arguments(GradeSchema)
@blp.response(200, QueueItem)
@auth_required
def grade_response(args, response_id):
    """Grade (or regrade, with a reason) one answer by points or rubric levels; audited."""
    user = bearer_user()
    resp = attempts.get_response(user, response_id)
    attempts.grade_response(
        user,
        resp,
        score=args.get("score"),
        rubric_levels=args.get("rubric_levels"),
        feedback=args["feedback"],
        reason=args["reason"],
    )
    return {
        "response_id": resp.id,
        "attempt_id": resp.attempt_id,
        "question_id": resp.question_id,
        "student": _student_name(resp),
        "answer": resp.answer,
        "max_score": str(resp.max_score),
    }


def _result_body(r) -> dict:
    return {
        "student_id": r.student.id,
        "student": r.student.display_name,
        "categories": [
            {
                "key": c.key,
                "weight": str(c.weight),
                "percent": None if c.percent is None else str(c.percent),
            }
            for c in r.categories
        ],
        "final_percent": None if r.final_percent is None else str(r.final_percent),
        "pass_mark": str(r.pass_mark),
        "passed": r.passed,
    }


@blp.route("/courses/<code>/gradebook", methods=["GET"])
@blp.response(200, GradebookSchema)
@auth_required
def course_gradebook(code):
    """Every student's weighted result (the course's teachers and registrars)."""
    course = catalog.get_course(code)
    results = gradebook.course_results(bearer_user(), course, now=utcnow())
    return {"items": [_result_body(r) for r in results]}


@blp.route("/courses/<code>/gradebook/me", methods=["GET"])
@blp.response(200, ResultSchema)
@auth_required
def my_grades(code):
    """The signed-in student's own weighted result."""
    user = bearer_user()
    course = catalog.get_course(code)
    if enrolment.active_enrolment(user, course) is None:
        raise NotFound(_("You are not enrolled in this course."))
    return _result_body(gradebook.student_result(course, user, now=utcnow()))


# ------------------------------------------------------------------ set-up (teachers)


class PoolSchema(Schema):
    tag = fields.String(required=True, validate=validate.Length(min=1, max=80))
    draw = fields.Integer(required=True, validate=validate.Range(min=1))


class WindowSchema(Schema):
    cohort_id = fields.Integer(required=True)
    opens_at = fields.AwareDateTime(allow_none=True, load_default=None)
    closes_at = fields.AwareDateTime(allow_none=True, load_default=None)


class AssessmentIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="quiz", validate=validate.OneOf(services.KINDS))
    category = fields.String(load_default="quizzes", validate=validate.OneOf(CATEGORIES))
    question_ids = fields.List(fields.Integer(), load_default=list)
    pools = fields.List(fields.Nested(PoolSchema), load_default=list)
    lesson_key = fields.String(allow_none=True, load_default=None)
    time_limit_minutes = fields.Integer(allow_none=True, load_default=None)
    max_attempts = fields.Integer(load_default=1)
    opens_at = fields.AwareDateTime(allow_none=True, load_default=None)
    closes_at = fields.AwareDateTime(allow_none=True, load_default=None)
    shuffle_questions = fields.Boolean(load_default=False)
    shuffle_choices = fields.Boolean(load_default=False)
    late_policy = fields.String(load_default="refuse", validate=validate.OneOf(LATE))
    late_grace_minutes = fields.Integer(load_default=0)
    review = fields.String(load_default="after_close", validate=validate.OneOf(REVIEW))
    show_answers = fields.Boolean(load_default=True)
    pass_percent = fields.Float(load_default=50.0, validate=validate.Range(min=0, max=100))
    graded = fields.Boolean(load_default=True)
    windows = fields.List(fields.Nested(WindowSchema), load_default=list)


class AssessmentOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    category = fields.String(required=True)
    time_limit_minutes = fields.Integer(allow_none=True)
    max_attempts = fields.Integer(required=True)
    opens_at = fields.DateTime(allow_none=True)
    closes_at = fields.DateTime(allow_none=True)
    late_policy = fields.String(required=True)
    review = fields.String(required=True)


class CategoryIn(Schema):
    weight = fields.Decimal(required=True, as_string=True)
    drop_lowest = fields.Integer(load_default=0, validate=validate.Range(min=0))


class PassMarkIn(Schema):
    pass_mark = fields.Decimal(required=True, as_string=True)


class ManualGradeIn(Schema):
    student_id = fields.Integer(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    score = fields.Decimal(required=True, as_string=True)
    max_score = fields.Decimal(required=True, as_string=True)


@blp.route("/courses/<code>/assessments", methods=["POST"])
@blp.arguments(AssessmentIn)
@blp.response(201, AssessmentOut)
@auth_required
def create_assessment(args, code):
    """Set up a quiz, exam or assignment from the bank (fixed questions and tagged pools),
    optionally on a lesson of the course, with per-cohort windows."""
    user = bearer_user()
    course = catalog.get_course(code)
    require(user, "assessment.author", course)
    lesson_key = args.pop("lesson_key")
    windows = args.pop("windows")
    pools = [(p["tag"], p["draw"]) for p in args.pop("pools")]
    lesson = catalog.get_lesson(course, lesson_key) if lesson_key else None
    args["pass_percent"] = Decimal(str(args["pass_percent"]))
    assessment = services.create_assessment(user, course, pools=pools, lesson=lesson, **args)
    for w in windows:
        services.set_cohort_window(user, assessment, w["cohort_id"], w["opens_at"], w["closes_at"])
    return assessment


@blp.route("/courses/<code>/assessments", methods=["GET"])
@blp.response(200, AssessmentOut(many=True))
@auth_required
def list_assessments(code):
    """The course's assessments (its staff and enrolled students)."""
    user = bearer_user()
    course = catalog.get_course(code)
    if (
        not can(user, "assessment.grade", course)
        and enrolment.active_enrolment(user, course) is None
    ):
        raise NotFound(_("You are not enrolled in this course."))
    return services.assessments_of(course)


@blp.route("/courses/<code>/gradebook/categories/<key>", methods=["PUT"])
@blp.arguments(CategoryIn)
@blp.response(200, CategorySchema)
@auth_required
def set_category(args, code, key):
    """Weigh a category (quizzes, assignments, exams, attendance) and its drop-lowest."""
    course = catalog.get_course(code)
    cat = gradebook.set_category(bearer_user(), course, key, args["weight"], args["drop_lowest"])
    return {"key": cat.key, "weight": str(cat.weight), "percent": None}


@blp.route("/courses/<code>/gradebook/pass-mark", methods=["PUT"])
@blp.arguments(PassMarkIn)
@blp.response(200, PassMarkIn)
@auth_required
def set_pass_mark(args, code):
    """The final percentage needed to pass the course."""
    course = catalog.get_course(code)
    row = gradebook.set_pass_mark(bearer_user(), course, args["pass_mark"])
    return {"pass_mark": row.pass_mark}


@blp.route("/courses/<code>/gradebook/grades", methods=["POST"])
@blp.arguments(ManualGradeIn)
@blp.response(201, ManualGradeIn)
@auth_required
def record_grade(args, code):
    """Record a grade outside an attempt (attendance, an offline task); audited."""
    from lms.accounts.models import User
    from lms.core.extensions import db

    course = catalog.get_course(code)
    student = db.session.get(User, args["student_id"])
    if student is None or enrolment.active_enrolment(student, course) is None:
        raise field_error("student_id", _("The student is not enrolled in this course."))
    row = gradebook.record_manual_grade(
        bearer_user(),
        course,
        student,
        args["category"],
        args["title"],
        args["score"],
        args["max_score"],
    )
    return {
        "student_id": student.id,
        "category": row.category,
        "title": row.title,
        "score": row.score,
        "max_score": row.max_score,
    }


# ------------------------------------------------------------------------ question bank


class QuestionIn(Schema):
    qtype = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    stem = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    data = fields.Dict(load_default=dict, metadata={"description": "The type's answer key"})
    name = fields.String(load_default="", validate=validate.Length(max=200))
    feedback = fields.String(load_default="", validate=validate.Length(max=20000))
    points = fields.Float(load_default=1.0, validate=validate.Range(min=0))
    difficulty = fields.Integer(load_default=3, validate=validate.Range(min=1, max=5))
    tags = fields.List(fields.String(validate=validate.Length(max=80)), load_default=list)
    locale = fields.String(allow_none=True, load_default=None)


class QuestionOut(Schema):
    id = fields.Integer(required=True)
    qtype = fields.String(required=True)
    name = fields.String(required=True)
    stem = fields.String(required=True)
    stem_locale = fields.String(allow_none=True)
    locales = fields.List(fields.String(), required=True)
    points = fields.String(required=True)
    difficulty = fields.Integer(required=True)
    tags = fields.List(fields.String(), required=True)
    data = fields.Dict(required=True, metadata={"description": "The answer key (staff only)"})


class TranslationIn(Schema):
    stem = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    feedback = fields.String(load_default="", validate=validate.Length(max=20000))
    status = fields.String(
        load_default="original", validate=validate.OneOf(("original", "machine", "reviewed"))
    )


def _question_body(q) -> dict:
    stem, served = q.text("stem", current_locale())
    return {
        "id": q.id,
        "qtype": q.qtype,
        "name": q.name,
        "stem": stem or "",
        "stem_locale": served,
        "locales": sorted(t.locale for t in q.translations),
        "points": str(q.points),
        "difficulty": q.difficulty,
        "tags": q.tags or [],
        "data": q.data,
    }


@blp.route("/courses/<code>/questions", methods=["GET"])
@blp.response(200, QuestionOut(many=True))
@auth_required
def list_questions(code):
    """The course's question bank with answer keys (its teachers only)."""
    course = catalog.get_course(code)
    require(bearer_user(), "assessment.author", course)
    return [_question_body(q) for q in services.questions(course)]


@blp.route("/courses/<code>/questions", methods=["POST"])
@blp.arguments(QuestionIn)
@blp.response(201, QuestionOut)
@auth_required
def create_question(args, code):
    """Add one question to the bank."""
    course = catalog.get_course(code)
    spec = QuestionSpec(
        qtype=args["qtype"],
        stem=args["stem"],
        data=args["data"],
        name=args["name"],
        feedback=args["feedback"],
        points=Decimal(str(args["points"])),
        tags=args["tags"],
        difficulty=args["difficulty"],
    )
    q = services.create_question(bearer_user(), course, spec, locale=args["locale"])
    return _question_body(q)


@blp.route("/courses/<code>/questions/<int:question_id>/translations/<locale>", methods=["PUT"])
@blp.arguments(TranslationIn)
@blp.response(200, QuestionOut)
@auth_required
def translate_question(args, code, question_id, locale):
    """Add or replace a question's text in one language."""
    course = catalog.get_course(code)
    require(bearer_user(), "assessment.author", course)
    q = services.get_question(course, question_id)
    services.translate_question(
        bearer_user(), q, locale, args["stem"], args["feedback"], args["status"]
    )
    return _question_body(q)
