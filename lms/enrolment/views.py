"""Pages of the enrolment domain: enrolling and withdrawing, the student's dashboard,
progress, the teacher's roster and settings, and the registrars' course-selection pages."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.accounts import services as accounts
from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.core.errors import ValidationError, field_error
from lms.core.export import csv_response
from lms.core.extensions import db
from lms.core.forms import options, show_errors
from lms.core.i18n import current_locale
from lms.core.security import can, require
from lms.enrolment import forms, services

bp = Blueprint("enrolment", __name__, template_folder="templates")


@bp.app_context_processor
def _labels() -> dict:
    return {"enrolment_status_labels": forms.STATUS_LABELS}


# ---------------------------------------------------------------------------- panels


def course_panel(course, user) -> Markup:
    """Enrolment status and actions on the course page."""
    enrolment = services.find_enrolment(user, course) if user.is_authenticated else None
    progress = (
        services.progress(enrolment)
        if enrolment is not None and enrolment.status in services.ACTIVE
        else None
    )
    return Markup(
        render_template(
            "enrolment/_course_panel.html",
            course=course,
            enrolment=enrolment,
            progress=progress,
            policy=services.policy_for(course),
            cohorts=services.cohorts(course),
            seats=services.seats_taken(course),
            refusal=services.why_not(user, course, now=utcnow()) if user.is_authenticated else None,
            can_manage=user.is_authenticated and can(user, "enrolment.view_roster", course),
        )
    )


def lesson_actions(lesson, user) -> Markup:
    """ "Mark as done" below a lesson, for enrolled students."""
    if not user.is_authenticated:
        return Markup("")
    enrolment = services.active_enrolment(user, lesson.module.course)
    if enrolment is None:
        return Markup("")
    done = lesson.id in services.completed_lessons(enrolment)
    return Markup(
        render_template(
            "enrolment/_lesson_actions.html", lesson=lesson, done=done, course=lesson.module.course
        )
    )


# ---------------------------------------------------------------------------- students


@bp.post("/courses/<code>/enrol")
@login_required
def enrol(code: str):
    course = catalog.get_visible_course(current_user, code)
    cohort = request.form.get("cohort", type=int)
    result = services.enrol(
        current_user,
        course,
        now=utcnow(),
        cohort_id=cohort,
        invitation_code=request.form.get("invitation_code"),
        locale=current_locale(),
    )
    flash(result.message, "success")
    return redirect(url_for("catalog.course", code=course.code))


@bp.post("/courses/<code>/withdraw")
@login_required
def withdraw(code: str):
    course = catalog.get_visible_course(current_user, code)
    enrolment = services.find_enrolment(current_user, course)
    if enrolment is None:
        flash(_("There is no current enrolment to withdraw from."), "error")
        return redirect(url_for("catalog.course", code=code))
    services.withdraw(current_user, enrolment, now=utcnow())
    flash(_("You have left the course."), "success")
    return redirect(url_for("catalog.course", code=code))


@bp.post("/courses/<code>/lessons/<key>/complete")
@login_required
def complete(code: str, key: str):
    course = catalog.get_visible_course(current_user, code)
    lesson = catalog.get_lesson(course, key)
    services.complete_lesson(current_user, lesson, now=utcnow())
    enrolment = services.active_enrolment(current_user, course)
    if enrolment is not None and enrolment.status == "completed":
        flash(_("Congratulations: you have completed this course."), "success")
    nxt = services.progress(enrolment).next_lesson if enrolment else None
    if nxt is not None:
        return redirect(url_for("catalog.lesson", code=code, key=nxt.key))
    return redirect(url_for("catalog.course", code=code))


@bp.get("/me/courses")
@login_required
def dashboard():
    enrolments = services.my_enrolments(current_user)
    progress = services.progress_of([e for e in enrolments if e.status in services.ACTIVE])
    rows = [(e, progress.get(e.id)) for e in enrolments]
    return render_template(
        "enrolment/dashboard.html", rows=rows, upcoming=services.upcoming(current_user, enrolments)
    )


# ---------------------------------------------------------------------------- teachers


@bp.get("/teach/courses/<code>/roster")
@login_required
def roster(code: str):
    course = catalog.get_course(code)
    require(current_user, "enrolment.view_roster", course)
    cohort = request.args.get("cohort", type=int)
    enrolments = services.roster(course, cohort)
    done = services.completed_counts(course)
    required = sum(1 for m in course.modules for lesson in m.lessons if lesson.required)
    if request.args.get("format") == "csv":
        return _roster_csv(course, enrolments, done, required)
    return render_template(
        "enrolment/roster.html",
        course=course,
        enrolments=enrolments,
        done=done,
        required=required,
        cohorts=services.cohorts(course),
        cohort=cohort,
        can_manage=can(current_user, "enrolment.manage", course),
    )


def _roster_csv(course, enrolments, done, required) -> Response:
    header = [
        _("Name"),
        _("Full name in Latin letters"),
        _("E-mail address"),
        _("Class"),
        _("Status"),
        _("Required lessons done"),
        _("Learning time (minutes)"),
        _("Last activity"),
    ]
    rows = (
        (
            e.student.display_name,
            e.student.name_latin,
            e.student.email,
            e.cohort.name if e.cohort else "",
            forms.STATUS_LABELS[e.status],
            f"{done.get(e.id, 0)}/{required}",
            (e.learning_seconds or 0) // 60,
            e.last_activity_at.isoformat() if e.last_activity_at else "",
        )
        for e in enrolments
    )
    return csv_response(header, rows, f"{course.code}-roster.csv")


@bp.post("/teach/enrolments/<int:enrolment_id>/decide")
@login_required
def decide(enrolment_id: int):
    enrolment = services.get_enrolment(enrolment_id)
    services.decide(
        current_user,
        enrolment,
        approve=request.form.get("decision") == "approve",
        note=request.form.get("note", ""),
        now=utcnow(),
    )
    flash(_("Saved."), "success")
    return redirect(url_for("enrolment.roster", code=enrolment.course.code))


@bp.post("/teach/enrolments/<int:enrolment_id>/withdraw")
@login_required
def withdraw_student(enrolment_id: int):
    enrolment = services.get_enrolment(enrolment_id)
    services.withdraw(current_user, enrolment, now=utcnow(), reason=request.form.get("reason", ""))
    flash(_("Saved."), "success")
    return redirect(url_for("enrolment.roster", code=enrolment.course.code))


@bp.post("/teach/courses/<code>/finalize")
@login_required
def finalize(code: str):
    course = catalog.get_course(code)
    counts = services.finalize_course(current_user, course, now=utcnow())
    flash(
        _(
            "Results recorded: %(completed)d completed, %(failed)d not passed.",
            completed=counts["completed"],
            failed=counts["failed"],
        ),
        "success",
    )
    return redirect(url_for("enrolment.roster", code=code))


@bp.route("/teach/courses/<code>/enrolment", methods=["GET", "POST"])
@login_required
def settings(code: str):
    course = catalog.get_course(code)
    require(current_user, "course.edit", course)
    policy = services.policy_for(course)
    form = forms.PolicyForm(obj=policy)
    cohort_form = forms.CohortForm(prefix="cohort")
    status = 200
    if form.submit.data and form.validate_on_submit():
        try:
            services.set_policy(
                current_user,
                course,
                mode=form.mode.data,
                audience=form.audience.data,
                invitation_code=form.invitation_code.data or None,
                require_lessons=form.require_lessons.data,
                require_assessments=form.require_assessments.data,
                min_attendance_percent=form.min_attendance_percent.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            status = 422
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("enrolment.settings", code=code))
    elif cohort_form.submit.data and cohort_form.validate_on_submit():
        try:
            teachers = [
                accounts.find_user_by_email(e) for e in (cohort_form.teachers.data or "").split()
            ]
            if any(t is None for t in teachers):
                raise ValidationError(
                    errors=[
                        {"field": "teachers", "message": _("No account with this e-mail address.")}
                    ]
                )
            services.create_cohort(
                current_user,
                course,
                cohort_form.name.data,
                capacity=cohort_form.capacity.data,
                starts_on=cohort_form.starts_on.data,
                ends_on=cohort_form.ends_on.data,
                teachers=teachers,
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(cohort_form, exc)
            status = 422
        else:
            flash(_("The class is added."), "success")
            return redirect(url_for("enrolment.settings", code=code))
    return render_template(
        "enrolment/settings.html",
        course=course,
        form=form,
        cohort_form=cohort_form,
        cohorts=services.cohorts(course),
    ), status


# ---------------------------------------------------------------------------- registrars


@bp.route("/admin/institutions/<slug>/selection", methods=["GET", "POST"])
@login_required
def selection(slug: str):
    institution = accounts.get_institution(slug)
    require(current_user, "selection.view", institution)
    form = forms.AgreementForm()
    locale = current_locale()
    others = [i for i in db.session.scalars(accounts.list_institutions()) if i.id != institution.id]
    form.partner.choices = options((i.slug, i.name_in(locale)[0]) for i in others)
    status = 200
    if request.method == "POST":
        require(current_user, "selection.manage", institution)
        if form.validate_on_submit():
            try:
                if not form.partner.data:
                    raise field_error("partner", _("Choose another institution."))
                courses = [catalog.get_course(c) for c in (form.courses.data or "").split()]
                services.create_agreement(
                    current_user,
                    institution,
                    accounts.get_institution(form.partner.data),
                    term=form.term.data,
                    valid_from=form.valid_from.data,
                    valid_to=form.valid_to.data,
                    quota=form.quota.data or 0,
                    courses=courses,
                )
            except ValidationError as exc:
                db.session.rollback()
                show_errors(form, exc)
                status = 422
            else:
                flash(_("The agreement is saved."), "success")
                return redirect(url_for("enrolment.selection", slug=slug))
        else:
            status = 422
    agreements = db.session.scalars(services.agreements_of(institution)).all()
    enrolments = db.session.scalars(services.cross_enrolments(institution).limit(500)).all()
    return render_template(
        "enrolment/selection.html",
        institution=institution,
        agreements=agreements,
        enrolments=enrolments,
        form=form,
        can_manage=can(current_user, "selection.manage", institution),
    ), status
