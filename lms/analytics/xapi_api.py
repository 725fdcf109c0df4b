"""xAPI export API: ``GET /api/v1/xapi/statements``.

The list follows the platform's convention (``{"items", "total", "page", "per_page"}``),
each item being one complete xAPI 1.0.3 statement; ``since`` / ``until`` filter on the
time the platform stored the statement (as the xAPI statement resource does), oldest first,
so an exporter can continue from the last ``stored`` it has."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from lms.analytics import xapi
from lms.catalog import services as catalog
from lms.core.api import PageArgs, api_blueprint, auth_required, bearer_user, page_body
from lms.core.pagination import paginate

blp = api_blueprint("xapi_api", __name__, "xAPI 1.0.3 learning records (export)")


class StatementQuery(PageArgs):
    since = fields.DateTime(
        metadata={"description": "Only statements stored after this time (RFC 3339)"}
    )
    until = fields.DateTime(
        metadata={"description": "Only statements stored at or before this time (RFC 3339)"}
    )
    verb = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "Verb: short name (passed) or ADL IRI"},
    )
    course = fields.String(
        validate=validate.Length(max=40), metadata={"description": "Course code"}
    )


class StatementList(Schema):
    items = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "xAPI 1.0.3 statements (id, actor, verb, object, …)"},
    )
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@blp.route("/xapi/statements", methods=["GET"])
@blp.arguments(StatementQuery, location="query")
@blp.response(200, StatementList)
@auth_required
def statements(args):
    """xAPI statements the caller may export: platform administrators all; institution
    administrators and registrars their institution's courses; teachers their own
    courses (403 for anyone else, or for a course outside their reach)."""
    user = bearer_user()
    course = catalog.get_course(args["course"]) if args.get("course") else None
    stmt = xapi.export_query(
        user,
        since=_utc(args.get("since")),
        until=_utc(args.get("until")),
        verb=args.get("verb"),
        course=course,
    )
    page = paginate(stmt, args["page"], args["per_page"])
    page.items = [row.body for row in page.items]
    return page_body(page)
