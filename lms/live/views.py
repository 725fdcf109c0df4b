"""Pages of the live domain: a course's sessions, a session (join, recordings, add to
calendar), the attendance report and roll call, the calendar feed, provider settings."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.accounts import services as accounts
from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.core.errors import ValidationError
from lms.core.export import csv_response
from lms.core.extensions import csrf
from lms.core.i18n import current_locale
from lms.core.security import can, require
from lms.enrolment import services as enrolment
from lms.live import attendance as attendance_svc
from lms.live import calendar, forms, joining, recordings, services

bp = Blueprint("live", __name__, template_folder="templates")


def _zone() -> str:
    fallback = "UTC"
    return services.user_zone(current_user if current_user.is_authenticated else None, fallback)


@bp.app_context_processor
def _helpers() -> dict:
    return {
        "live_provider_labels": forms.PROVIDER_LABELS,
        "live_language_names": dict(forms.language_choices()),
    }


# ---------------------------------------------------------------------------- panels


def course_panel(course, user) -> Markup:
    """Upcoming live sessions on the course page, for the course's students and staff."""
    if not (user.is_authenticated and can(user, "live.view", course)):
        return Markup("")
    sessions = [
        s
        for s in services.sessions_of(course)
        if can(user, "live.manage", course) or services.is_participant(user, s)
    ]
    items = services.upcoming_occurrences(sessions, utcnow(), limit=5)
    return Markup(
        render_template(
            "live/_course_panel.html",
            course=course,
            items=items,
            zone=_zone(),
            show=services.show_time,
            can_manage=can(user, "live.manage", course),
        )
    )


def upcoming_for(student, enrolments) -> list[dict]:
    """The student's next sessions for the dashboard."""
    now = utcnow()
    sessions = [
        s for s in services.sessions_for_user(student, since=now) if s.organiser_id != student.id
    ]
    locale = current_locale()
    return [
        {
            "when": moment,
            "title": session.title(locale)[0],
            "url": url_for("live.session", session_id=session.id),
            "kind": "live",
        }
        for moment, session in services.upcoming_occurrences(sessions, now, limit=10)
    ]


# ---------------------------------------------------------------------------- sessions


@bp.route("/courses/<code>/live", methods=["GET", "POST"])
@login_required
def course_sessions(code: str):
    course = catalog.get_visible_course(current_user, code)
    require(current_user, "live.view", course)
    manage = can(current_user, "live.manage", course)
    form = forms.SessionForm()
    form.fill_choices(enrolment.cohorts(course))
    if request.method == "GET":
        form.timezone.data = _zone()
    if request.method == "POST":
        require(current_user, "live.manage", course)
        if form.validate_on_submit():
            weeks = form.weeks.data
            data = services.SessionData(
                titles={current_locale(): form.title.data},
                source_locale=current_locale(),
                local_start=form.starts_at.data,
                timezone=form.timezone.data,
                duration_minutes=form.duration_minutes.data or 0,
                provider=form.provider.data,
                rrule=f"FREQ=WEEKLY;COUNT={weeks}" if weeks and weeks > 1 else "",
                cohort_id=int(form.cohort.data) if form.cohort.data else None,
                external_url=form.external_url.data or "",
                instruction_languages=form.instruction_languages.data or [],
                interpretation_languages=form.interpretation_languages.data or [],
            )
            try:
                result = services.create_session(current_user, course, data)
            except ValidationError as exc:
                for err in exc.errors or [{"field": "title", "message": exc.message}]:
                    target = getattr(form, err["field"], form.title)
                    target.errors = [*target.errors, err["message"]]
            else:
                flash(_("The session is scheduled."), "success")
                for warning in result.warnings:
                    flash(warning, "warning")
                return redirect(url_for("live.session", session_id=result.session.id))
    sessions = [
        s
        for s in services.sessions_of(course)
        if manage or services.is_participant(current_user, s)
    ]
    return render_template(
        "live/sessions.html",
        course=course,
        sessions=sessions,
        upcoming=services.upcoming_occurrences(sessions, utcnow(), limit=50),
        form=form if manage else None,
        zone=_zone(),
        show=services.show_time,
    )


def _load(session_id: int, action: str = "live.view"):
    session = services.get_session(session_id)
    require(current_user, action, session.course)
    if action == "live.view" and not (
        can(current_user, "live.manage", session.course)
        or services.is_participant(current_user, session)
    ):
        require(current_user, "live.manage", session.course)
    return session


@bp.get("/live/<int:session_id>")
@login_required
def session(session_id: int):
    s = _load(session_id)
    now = utcnow()
    manage = can(current_user, "live.manage", s.course)
    return render_template(
        "live/session.html",
        s=s,
        window=joining.window(s, now),
        next_times=services.occurrences(s, start=now)[:10],
        zone=_zone(),
        show=services.show_time,
        manage=manage,
        report=can(current_user, "live.report", s.course),
        cancel_form=forms.CancelForm() if manage else None,
        recording_form=forms.RecordingForm() if manage else None,
    )


@bp.post("/live/<int:session_id>/join")
@login_required
def join(session_id: int):
    s = services.get_session(session_id)
    result = joining.join(current_user, s, now=utcnow())
    return redirect(result.url)


@bp.post("/live/<int:session_id>/leave")
@login_required
def leave(session_id: int):
    s = _load(session_id)
    joining.leave(current_user, s, now=utcnow())
    return redirect(url_for("live.session", session_id=s.id))


@bp.post("/live/<int:session_id>/cancel")
@login_required
def cancel(session_id: int):
    s = _load(session_id, "live.manage")
    form = forms.CancelForm()
    if not form.validate_on_submit():
        raise ValidationError(_("Choose the date to cancel."))
    services.cancel_occurrence(current_user, s, form.date.data)
    flash(_("That date is cancelled."), "success")
    return redirect(url_for("live.session", session_id=s.id))


@bp.post("/live/<int:session_id>/recordings")
@login_required
def add_recording(session_id: int):
    s = _load(session_id, "live.manage")
    form = forms.RecordingForm()
    form.validate_on_submit()
    recordings.add_recording(
        current_user, s, url=form.url.data or "", media_asset_id=form.media_asset_id.data
    )
    flash(_("The recording is attached."), "success")
    return redirect(url_for("live.session", session_id=s.id))


@bp.post("/live/<int:session_id>/recordings/fetch")
@login_required
def fetch_recordings(session_id: int):
    s = _load(session_id, "live.manage")
    added = recordings.import_provider_recordings(current_user, s)
    flash(
        ngettext("%(num)d new recording attached.", "%(num)d new recordings attached.", len(added)),
        "success",
    )
    return redirect(url_for("live.session", session_id=s.id))


@bp.get("/live/<int:session_id>/session.ics")
@login_required
def session_ics(session_id: int):
    s = _load(session_id)
    body = calendar.session_ics(s, current_locale(), now=utcnow())
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="session-{s.id}.ics"'},
    )


# ---------------------------------------------------------------------------- attendance


@bp.get("/live/<int:session_id>/attendance")
@login_required
def attendance(session_id: int):
    s = services.get_session(session_id)
    require(current_user, "live.report", s.course)
    held, rows = attendance_svc.attendance_report(current_user, s, now=utcnow())
    if request.args.get("format") == "csv":
        return csv_response(
            [_("Name"), _("E-mail"), _("Minutes attended"), _("Minutes held"), _("Share attended")],
            [
                (r.student.display_name, r.student.email, r.minutes, r.possible, r.percent)
                for r in rows
            ],
            f"attendance-{s.course.code}-{s.id}.csv",
        )
    return render_template(
        "live/attendance.html",
        s=s,
        held=held,
        rows=rows,
        zone=_zone(),
        show=services.show_time,
        manage=can(current_user, "live.manage", s.course),
    )


@bp.post("/live/<int:session_id>/roll-call")
@login_required
def roll_call(session_id: int):
    s = _load(session_id, "live.manage")
    try:
        occurrence = datetime.fromisoformat(request.form.get("occurrence", ""))
    except ValueError:
        raise ValidationError(_("Choose the session date.")) from None
    minutes = {}
    for key, value in request.form.items():
        if key.startswith("minutes-") and value.strip():
            try:
                minutes[int(key.removeprefix("minutes-"))] = int(value)
            except ValueError:
                raise ValidationError(_("Minutes must be whole numbers.")) from None
    attendance_svc.roll_call(current_user, s, occurrence, minutes, now=utcnow())
    flash(_("The roll call is saved."), "success")
    return redirect(url_for("live.attendance", session_id=s.id))


# ---------------------------------------------------------------------------- calendar


@bp.route("/me/calendar", methods=["GET", "POST"])
@login_required
def my_calendar():
    token = calendar.feed_token(current_user, renew=request.method == "POST")
    if request.method == "POST":
        flash(_("Your calendar address is renewed; the old one no longer works."), "success")
        return redirect(url_for("live.my_calendar"))
    return render_template(
        "live/calendar.html", url=url_for("live.feed", token=token, _external=True)
    )


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    user = calendar.user_for_feed(token)
    if user is None:
        abort(404)
    locale = user.locale or current_locale()
    return Response(calendar.user_feed(user, locale, now=utcnow()), mimetype="text/calendar")


# ---------------------------------------------------------------------------- callbacks


@bp.post("/live/bbb-events/<slug>")
@csrf.exempt
def bbb_events(slug: str):
    """BigBlueButton webhooks (user joined / left) for attendance; signed with the
    institution's shared secret, so no sign-in is needed."""
    institution = accounts.get_institution(slug)
    url = request.base_url
    count = attendance_svc.bbb_webhook(
        institution, url, request.get_data(cache=True), request.args.get("checksum", "")
    )
    return {"recorded": count}


# ---------------------------------------------------------------------------- settings


@bp.route("/institutions/<slug>/live", methods=["GET", "POST"])
@login_required
def settings(slug: str):
    institution = accounts.get_institution(slug)
    require(current_user, "live.configure", institution)
    stored = services.settings_for(institution)
    form = forms.SettingsForm(obj=stored)
    form.bbb_secret.data = form.bbb_secret.data if request.method == "POST" else ""
    form.jitsi_secret.data = form.jitsi_secret.data if request.method == "POST" else ""
    if form.validate_on_submit():
        services.set_provider_settings(
            current_user,
            institution,
            bbb_url=form.bbb_url.data or "",
            bbb_secret=form.bbb_secret.data or None,
            jitsi_domain=form.jitsi_domain.data or "",
            jitsi_app_id=form.jitsi_app_id.data or "",
            jitsi_secret=form.jitsi_secret.data or None,
        )
        flash(_("The live-class settings are saved."), "success")
        return redirect(url_for("live.settings", slug=slug))
    return render_template(
        "live/settings.html",
        institution=institution,
        form=form,
        has_bbb_secret=bool(stored.bbb_secret),
        has_jitsi_secret=bool(stored.jitsi_secret),
    )
