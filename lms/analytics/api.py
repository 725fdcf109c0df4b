"""Analytics API: the same tables as the pages, as JSON (raw numbers and codes; labels in
the requested language)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from lms.accounts import services as accounts
from lms.analytics import services
from lms.analytics.tables import KINDS
from lms.catalog import services as catalog
from lms.core.api import api_blueprint, auth_required, bearer_user
from lms.core.db import utcnow
from lms.core.i18n import current_locale
from lms.core.security import require

blp = api_blueprint("analytics_api", __name__, "Course analytics and platform statistics")


class FilterArgs(Schema):
    country = fields.String(
        validate=validate.Regexp(r"^[A-Z]{2}$"),
        metadata={"description": "Only students of this country (ISO 3166-1 alpha-2)"},
    )


class CourseArgs(FilterArgs):
    cohort = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Only this class of the course"}
    )
    assessment = fields.Integer(
        metadata={"description": "Assessment for item analysis and grades (default: the first)"}
    )
    video = fields.Integer(
        metadata={"description": "Video lesson for the drop-off curve (default: the first)"}
    )


class ColumnSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})


class TableSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    columns = fields.List(fields.Nested(ColumnSchema), required=True)
    rows = fields.List(
        fields.Dict(keys=fields.String()),
        required=True,
        metadata={"description": "One object per row, keyed by column key (and ids)"},
    )


class FiltersSchema(Schema):
    cohort = fields.Integer(attribute="cohort_id", allow_none=True, required=True)
    country = fields.String(allow_none=True, required=True)


class CourseAnalyticsSchema(Schema):
    course = fields.Function(lambda b: b.course.code, required=True)
    filters = fields.Nested(FiltersSchema, required=True)
    learners = fields.Integer(required=True)
    assessment = fields.Function(
        lambda b: b.assessment.id if b.assessment else None, required=True, allow_none=True
    )
    video = fields.Function(
        lambda b: b.video.id if b.video else None, required=True, allow_none=True
    )
    tables = fields.List(fields.Nested(TableSchema), required=True)


class FiguresSchema(Schema):
    enrolments = fields.Integer(required=True)
    learners = fields.Integer(required=True)
    active_learners = fields.Integer(required=True)
    completion_rate = fields.Float(required=True, allow_none=True)
    transcripts_issued = fields.Integer(required=True)


class StatisticsSchema(Schema):
    institution = fields.Function(
        lambda s: s.institution.slug if s.institution else None, required=True, allow_none=True
    )
    filters = fields.Nested(FiltersSchema, required=True)
    figures = fields.Nested(FiguresSchema, required=True)
    tables = fields.List(fields.Nested(TableSchema), required=True)


def _filters(args) -> services.Filters:
    return services.Filters(cohort_id=args.get("cohort"), country=args.get("country"))


@blp.route("/analytics/courses/<code>", methods=["GET"])
@blp.arguments(CourseArgs, location="query")
@blp.response(200, CourseAnalyticsSchema)
@auth_required
def course_analytics(args, code):
    """A course's analytics for its teachers and its institution's administrators:
    enrolments over time, completion by module, video engagement and drop-off, quiz item
    analysis, grade distribution, attendance per live session."""
    course = catalog.get_course(code)
    require(bearer_user(), "analytics.course", course)
    return services.course_dashboard(
        course,
        _filters(args),
        current_locale(),
        assessment_id=args.get("assessment"),
        video_id=args.get("video"),
    )


@blp.route("/analytics/institutions/<slug>", methods=["GET"])
@blp.arguments(FilterArgs, location="query")
@blp.response(200, StatisticsSchema)
@auth_required
def institution_statistics(args, slug):
    """An institution's statistics, for its administrators and registrars."""
    institution = accounts.get_institution(slug)
    require(bearer_user(), "analytics.institution", institution)
    return services.statistics(institution, _filters(args), current_locale(), now=utcnow())


@blp.route("/analytics/platform", methods=["GET"])
@blp.arguments(FilterArgs, location="query")
@blp.response(200, StatisticsSchema)
@auth_required
def platform_statistics(args):
    """Platform statistics, for platform administrators."""
    require(bearer_user(), "analytics.platform")
    return services.statistics(None, _filters(args), current_locale(), now=utcnow())
