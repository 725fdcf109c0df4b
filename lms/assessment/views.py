"""Pages of the assessment domain. Quizzes work without JavaScript: every "Save" is a POST
that stores the answers, the server computes the time left, and "Submit" is idempotent."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.assessment import attempts, forms, gradebook, present, services
from lms.assessment.models import CATEGORIES, Attempt
from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.core.errors import DomainError, NotFound, ValidationError, field_error
from lms.core.export import csv_response
from lms.core.extensions import db
from lms.core.i18n import LANGUAGES, current_locale
from lms.core.security import can, require
from lms.core.storage import get_storage
from lms.enrolment import services as enrolment

bp = Blueprint("assessment", __name__, template_folder="templates")


@bp.app_context_processor
def _labels() -> dict:
    return {
        "question_type_labels": forms.QUESTION_TYPE_LABELS,
        "category_labels": forms.CATEGORY_LABELS,
    }


# ---------------------------------------------------------------------------- panels


def lesson_panel(lesson, user) -> Markup:
    """The start / continue button on a quiz lesson linked to an assessment."""
    if lesson.kind not in ("quiz", "assignment"):
        return Markup("")
    assessment = services.assessment_for_lesson(lesson)
    if assessment is None:
        return Markup("")
    mine = attempts.attempts_of(user, assessment) if user.is_authenticated else []
    return Markup(
        render_template(
            "assessment/_lesson_panel.html",
            assessment=assessment,
            attempts=mine,
            running=next((a for a in mine if a.status == "in_progress"), None),
        )
    )


# --------------------------------------------------------------------------- students


def _visible_assessment(assessment_id: int):
    assessment = services.get_assessment(assessment_id)
    course = assessment.course
    staff = can(current_user, "assessment.grade", course)
    if not staff and enrolment.active_enrolment(current_user, course) is None:
        raise NotFound(_("No such assessment."))
    return assessment, course, staff


@bp.get("/assessments/<int:assessment_id>")
@login_required
def overview(assessment_id: int):
    assessment, course, staff = _visible_assessment(assessment_id)
    opens, closes = attempts.window_for(assessment, current_user)
    return render_template(
        "assessment/overview.html",
        assessment=assessment,
        course=course,
        staff=staff,
        opens=opens,
        closes=closes,
        attempts=attempts.attempts_of(current_user, assessment),
    )


@bp.post("/assessments/<int:assessment_id>/start")
@login_required
def start(assessment_id: int):
    assessment, _course, _staff = _visible_assessment(assessment_id)
    attempt = attempts.start_attempt(current_user, assessment, now=utcnow())
    return redirect(url_for("assessment.attempt", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    now = utcnow()
    row = attempts.get_attempt(current_user, attempt_id, now=now)
    view = present.attempt_view(row, current_user, locale=current_locale(), now=now)
    return render_template(
        "assessment/attempt.html",
        attempt=row,
        view=view,
        mine=row.student_id == current_user.id,
    )


@bp.post("/attempts/<int:attempt_id>")
@login_required
def answer(attempt_id: int):
    now = utcnow()
    row = attempts.get_attempt(current_user, attempt_id, now=now, finalise=False)
    answers = attempts.form_answers(row, request.form)
    for key, upload in request.files.items():
        if upload and upload.filename and key.startswith("q-"):
            attempts.save_upload(
                current_user,
                row,
                int(key[2:]),
                upload.filename,
                upload.read(attempts.MAX_UPLOAD_BYTES + 1),
                now=now,
            )
    if request.form.get("action") == "submit":
        attempts.submit_attempt(current_user, row, now=now, answers=answers)
        flash(_("Your answers were submitted."))
    elif request.form.get("action") == "autosave":  # the page's script, on every change
        attempts.save_answers(current_user, row, answers, now=now)
        return "", 204
    else:
        attempts.save_answers(current_user, row, answers, now=now)
        flash(_("Your answers were saved."))
    return redirect(url_for("assessment.attempt", attempt_id=attempt_id))


@bp.get("/courses/<code>/grades")
@login_required
def my_grades(code: str):
    course = catalog.get_course(code)
    if enrolment.active_enrolment(current_user, course) is None:
        raise NotFound(_("You are not enrolled in this course."))
    result = gradebook.student_result(course, current_user, now=utcnow())
    return render_template("assessment/grades.html", course=course, result=result)


# --------------------------------------------------------------------------- teachers


@bp.route("/teach/courses/<code>/questions", methods=["GET", "POST"])
@login_required
def bank(code: str):
    course = catalog.get_course(code)
    require(current_user, "assessment.author", course)
    report = None
    if request.method == "POST":
        upload = request.files.get("file")
        written = request.form.get("text", "")
        if upload is not None and upload.filename:
            data = upload.read(services.MAX_IMPORT_BYTES + 1)
        else:
            data = written.encode()
        if not data.strip():
            flash(_("Please choose a file or write the questions."))
        else:
            report = services.import_questions(
                current_user, course, request.form.get("format", ""), data
            )
            flash(
                ngettext(
                    "%(num)d question imported.",
                    "%(num)d questions imported.",
                    len(report.imported),
                )
            )
    fmt = request.args.get("export")
    if fmt in services.FORMATS:
        body, _problems = services.export_questions(course, fmt)
        ext = "gift.txt" if fmt == "gift" else "xml"
        return Response(
            body,
            mimetype="text/plain" if fmt == "gift" else "text/xml",
            headers={"Content-Disposition": f'attachment; filename="{course.code}.{ext}"'},
        )
    return render_template(
        "assessment/bank.html",
        course=course,
        questions=services.questions(course, q=request.args.get("q", "")[:200]),
        query=request.args.get("q", "")[:200],
        assessments=services.assessments_of(course),
        report=report,
    )


@bp.route("/teach/courses/<code>/questions/<int:question_id>", methods=["GET", "POST"])
@login_required
def question(code: str, question_id: int):
    """One question of the bank: its answer key (as GIFT or Moodle XML) and its text in
    each language, with the form that adds or replaces a language's text."""
    course = catalog.get_course(code)
    require(current_user, "assessment.author", course)
    item = services.get_question(course, question_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.translate_question(
                current_user,
                item,
                request.form.get("locale", ""),
                request.form.get("stem", ""),
                request.form.get("feedback", ""),
                status=request.form.get("status", "original"),
            )
        except ValidationError as exc:
            errors = {e["field"]: e["message"] for e in exc.errors}
        else:
            flash(_("The question's text is saved."), "success")
            return redirect(url_for("assessment.question", code=code, question_id=question_id))
    return render_template(
        "assessment/question.html",
        course=course,
        q=item,
        key=services.question_key(item),
        languages=LANGUAGES,
        errors=errors,
        form=request.form if errors else {},
    ), (422 if errors else 200)


def _local_time(value: str | None):
    """A ``datetime-local`` form value, read in the user's time zone, as UTC."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from lms.core.i18n import select_timezone

    if not value:
        return None
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise field_error("closes_at", _("Please enter a valid date and time.")) from None
    return local.replace(tzinfo=ZoneInfo(select_timezone())).astimezone(UTC)


@bp.post("/teach/courses/<code>/assessments")
@login_required
def create_assessment(code: str):
    course = catalog.get_course(code)
    require(current_user, "assessment.author", course)
    form = request.form
    lesson_key = form.get("lesson") or None
    assessment = services.create_assessment(
        current_user,
        course,
        form.get("title", ""),
        kind=form.get("kind", "quiz"),
        category=form.get("category", "quizzes"),
        question_ids=form.getlist("question", type=int),
        lesson=catalog.get_lesson(course, lesson_key) if lesson_key else None,
        time_limit_minutes=form.get("time_limit_minutes", type=int),
        max_attempts=form.get("max_attempts", 1, type=int),
        opens_at=_local_time(form.get("opens_at")),
        closes_at=_local_time(form.get("closes_at")),
        shuffle_questions="shuffle_questions" in form,
        shuffle_choices="shuffle_choices" in form,
        late_policy=form.get("late_policy", "refuse"),
        late_grace_minutes=form.get("late_grace_minutes", 0, type=int),
        review=form.get("review", "after_close"),
        show_answers="show_answers" in form,
    )
    flash(_("The assessment was created."))
    return redirect(url_for("assessment.overview", assessment_id=assessment.id))


@bp.post("/teach/courses/<code>/gradebook")
@login_required
def gradebook_settings(code: str):
    course = catalog.get_course(code)
    require(current_user, "assessment.author", course)
    for key in CATEGORIES:
        weight = request.form.get(f"weight-{key}")
        if weight:
            try:
                value = Decimal(weight)
            except InvalidOperation:
                raise field_error(f"weight-{key}", _("Please enter a number.")) from None
            gradebook.set_category(
                current_user, course, key, value, request.form.get(f"drop-{key}", 0, type=int)
            )
    if request.form.get("pass_mark"):
        try:
            gradebook.set_pass_mark(current_user, course, Decimal(request.form["pass_mark"]))
        except InvalidOperation:
            raise field_error("pass_mark", _("Please enter a number.")) from None
    flash(_("The gradebook settings were saved."))
    return redirect(url_for("assessment.course_gradebook", code=code))


@bp.get("/teach/courses/<code>/grading")
@login_required
def queue(code: str):
    course = catalog.get_course(code)
    rows = attempts.grading_queue(current_user, course, now=utcnow())
    return render_template("assessment/queue.html", course=course, rows=rows)


@bp.post("/teach/responses/<int:response_id>/grade")
@login_required
def grade(response_id: int):
    resp = attempts.get_response(current_user, response_id)
    levels = request.form.getlist("level", type=int)
    try:
        attempts.grade_response(
            current_user,
            resp,
            score=None if levels else request.form.get("score") or None,
            rubric_levels=levels or None,
            feedback=request.form.get("feedback", ""),
            reason=request.form.get("reason", ""),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message)
    else:
        flash(_("The grade was saved."))
    row = db.session.get(Attempt, resp.attempt_id)
    course = row.assessment.course
    return redirect(url_for("assessment.queue", code=course.code))


@bp.get("/teach/responses/<int:response_id>/files/<int:n>")
@login_required
def response_file(response_id: int, n: int):
    resp = attempts.get_response(current_user, response_id)
    files = resp.answer if isinstance(resp.answer, list) else []
    if not 0 <= n < len(files):
        abort(404)
    data = get_storage().read_bytes(files[n]["key"])
    return Response(
        data,
        mimetype="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="answer-{response_id}-{n}"'},
    )


@bp.get("/teach/courses/<code>/gradebook")
@login_required
def course_gradebook(code: str):
    course = catalog.get_course(code)
    results = gradebook.course_results(current_user, course, now=utcnow())
    if request.args.get("format") == "csv":
        header, rows = gradebook.csv_rows(results)
        return csv_response(header, rows, f"{course.code}-gradebook.csv")
    return render_template(
        "assessment/gradebook.html",
        course=course,
        results=results,
        weights={c.key: c for c in gradebook.categories_of(course)},
        pass_mark=gradebook.pass_mark_of(course),
    )
