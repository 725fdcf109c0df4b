"""Pages of the analytics domain: the teacher's course analytics, an institution's and the
platform's statistics, and a CSV / XLSX download of every table on them."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.accounts import services as accounts
from lms.analytics import charts, exports, forms, services
from lms.analytics.tables import show
from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.core.errors import NotFound
from lms.core.extensions import db
from lms.core.i18n import current_locale
from lms.core.security import can, require

bp = Blueprint("analytics", __name__, template_folder="templates", url_prefix="/analytics")


@bp.app_context_processor
def _helpers() -> dict:
    return {"analytics_cell": show, "analytics_chart": charts.render}


def course_panel(course, user) -> Markup:
    """A link to the course's analytics on the course page, for those allowed to read it."""
    if not user.is_authenticated or not can(user, "analytics.course", course):
        return Markup("")
    return Markup(render_template("analytics/_course_panel.html", course=course))


@bp.get("/")
@login_required
def index():
    require(current_user, "analytics.dashboard")
    courses = db.session.scalars(catalog.teaching(current_user)).all()
    return render_template(
        "analytics/index.html",
        courses=courses,
        institutions=services.institutions_for(current_user),
        platform=can(current_user, "analytics.platform"),
    )


def _course_dashboard(code: str, only: str | None = None) -> services.CourseDashboard:
    course = catalog.get_course(code)
    require(current_user, "analytics.course", course)
    return services.course_dashboard(
        course,
        forms.parse_filters(request.args),
        current_locale(),
        assessment_id=forms.parse_int(request.args, "assessment"),
        video_id=forms.parse_int(request.args, "video"),
        only=only,
    )


@bp.get("/courses/<code>")
@login_required
def course(code: str):
    board = _course_dashboard(code)
    return render_template(
        "analytics/course.html",
        board=board,
        course=board.course,
        cohorts=services.cohorts(board.course),
        countries=services.learner_countries(board.course),
        assessments=services.graded_assessments(board.course),
        videos=services.video_lessons(board.course),
        args=_args(),
    )


@bp.get("/courses/<code>/<key>.<fmt>")
@login_required
def course_export(code: str, key: str, fmt: str):
    board = _course_dashboard(code, only=key)
    return _download(board.tables, key, fmt, board.course.code)


def _statistics(slug: str | None, only: str | None = None) -> services.Statistics:
    if slug is None:
        require(current_user, "analytics.platform")
        institution = None
    else:
        institution = accounts.get_institution(slug)
        require(current_user, "analytics.institution", institution)
    return services.statistics(
        institution,
        forms.parse_filters(request.args, cohort=False),
        current_locale(),
        now=utcnow(),
        only=only,
    )


@bp.get("/institutions/<slug>")
@login_required
def institution(slug: str):
    return _statistics_page(_statistics(slug), slug)


@bp.get("/institutions/<slug>/<key>.<fmt>")
@login_required
def institution_export(slug: str, key: str, fmt: str):
    return _download(_statistics(slug, only=key).tables, key, fmt, slug)


@bp.get("/platform")
@login_required
def platform():
    return _statistics_page(_statistics(None), None)


@bp.get("/platform/<key>.<fmt>")
@login_required
def platform_export(key: str, fmt: str):
    return _download(_statistics(None, only=key).tables, key, fmt, "platform")


def _statistics_page(stats: services.Statistics, slug: str | None):
    return render_template(
        "analytics/statistics.html",
        stats=stats,
        slug=slug,
        countries=services.student_countries(stats.institution),
        active_days=services.ACTIVE_DAYS,
        args=_args(),
    )


def _args() -> dict[str, str]:
    """The page's query (its filters), carried over into the download links."""
    return {k: v for k, v in request.args.items() if v}


def _download(tables, key: str, fmt: str, stem: str):
    table = services.find_table(tables, key)
    if table is None or fmt not in exports.FORMATS:
        raise NotFound()
    return exports.download(table, fmt, current_locale(), stem)
