"""Live-class API: schedule and list a course's sessions, join one, the calendar feed."""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields, validate

from lms.catalog import services as catalog
from lms.core.api import api_blueprint, auth_required, bearer_user
from lms.core.db import utcnow
from lms.core.i18n import current_locale
from lms.core.security import can, require
from lms.live import calendar, joining, services
from lms.live.models import PROVIDERS

blp = api_blueprint("live_api", __name__, "Live classes and calendars")


class SessionRequest(Schema):
    title = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Title in the request's language (?lang= / Accept-Language)"},
    )
    titles = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.Length(max=200)),
        load_default=dict,
        metadata={"description": "More translations of the title: {locale: title}"},
    )
    starts_at = fields.NaiveDateTime(
        required=True,
        metadata={"description": "Local wall-clock time without offset, e.g. 2027-03-01T09:00:00"},
    )
    timezone = fields.String(
        required=True, metadata={"description": "IANA zone of starts_at, e.g. Asia/Yangon"}
    )
    duration_minutes = fields.Integer(required=True, validate=validate.Range(5, 720))
    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS))
    rrule = fields.String(
        load_default="",
        validate=validate.Length(max=300),
        metadata={"description": "RFC 5545 weekly RRULE, e.g. FREQ=WEEKLY;COUNT=10"},
    )
    exdates = fields.List(
        fields.Date(), load_default=list, metadata={"description": "Cancelled local dates"}
    )
    external_url = fields.String(load_default="", validate=validate.Length(max=500))
    cohort = fields.Integer(allow_none=True, load_default=None)
    instruction_languages = fields.List(fields.String(), load_default=list)
    interpretation_languages = fields.List(fields.String(), load_default=list)
    join_opens_minutes = fields.Integer(load_default=15, validate=validate.Range(0, 120))


class SessionSchema(Schema):
    id = fields.Integer(required=True)
    course = fields.Function(lambda s: s.course.code, required=True)
    title = fields.Function(lambda s: s.title(current_locale())[0], required=True)
    title_locale = fields.Function(lambda s: s.title(current_locale())[1], allow_none=True)
    starts_at = fields.DateTime(required=True, metadata={"description": "First occurrence, UTC"})
    timezone = fields.String(required=True, metadata={"description": "The organiser's zone"})
    local_starts_at = fields.Function(lambda s: services.local_start(s).isoformat(), required=True)
    duration_minutes = fields.Integer(required=True)
    rrule = fields.String(required=True)
    exdates = fields.List(fields.String(), required=True)
    next_occurrences = fields.Function(
        lambda s: [
            t.isoformat().replace("+00:00", "Z")
            for t in services.occurrences(s, start=utcnow())[:10]
        ],
        required=True,
    )
    provider = fields.String(required=True)
    cohort = fields.Integer(attribute="cohort_id", allow_none=True)
    instruction_languages = fields.List(fields.String(), required=True)
    interpretation_languages = fields.List(fields.String(), required=True)
    join_opens_minutes = fields.Integer(required=True)
    recordings = fields.Function(
        lambda s: [r.url or f"media:{r.media_asset_id}" for r in s.recordings], required=True
    )


class CreatedSchema(Schema):
    session = fields.Nested(SessionSchema, required=True)
    warnings = fields.List(fields.String(), required=True)


class SessionList(Schema):
    items = fields.List(fields.Nested(SessionSchema), required=True)


class JoinSchema(Schema):
    url = fields.String(required=True, metadata={"description": "Open this to enter the meeting"})
    occurrence = fields.DateTime(required=True)
    moderator = fields.Boolean(required=True)


class CalendarSchema(Schema):
    url = fields.String(required=True, metadata={"description": "Secret iCalendar feed"})


@blp.route("/courses/<code>/sessions", methods=["POST"])
@blp.arguments(SessionRequest)
@blp.response(201, CreatedSchema)
@auth_required
def create_session(body, code):
    """Schedule a live session; the start is local time in ``timezone`` (stored in UTC).
    409 when the teacher is already teaching then; ``warnings`` lists night-time clashes."""
    user = bearer_user()
    course = catalog.get_visible_course(user, code)
    result = services.create_session(
        user,
        course,
        services.SessionData(
            titles={**body["titles"], current_locale(): body["title"]},
            source_locale=current_locale(),
            local_start=body["starts_at"],
            timezone=body["timezone"],
            duration_minutes=body["duration_minutes"],
            provider=body["provider"],
            rrule=body["rrule"],
            exdates=[d.isoformat() for d in body["exdates"]],
            cohort_id=body["cohort"],
            external_url=body["external_url"],
            instruction_languages=body["instruction_languages"],
            interpretation_languages=body["interpretation_languages"],
            join_opens_minutes=body["join_opens_minutes"],
        ),
    )
    return {"session": result.session, "warnings": result.warnings}


@blp.route("/courses/<code>/sessions", methods=["GET"])
@blp.response(200, SessionList)
@auth_required
def list_sessions(code):
    """The course's sessions the caller may see (its staff: all; a student: theirs)."""
    user = bearer_user()
    course = catalog.get_visible_course(user, code)
    require(user, "live.view", course)
    manage = can(user, "live.manage", course)
    return {
        "items": [
            s for s in services.sessions_of(course) if manage or services.is_participant(user, s)
        ]
    }


@blp.route("/sessions/<int:session_id>/join", methods=["GET"])
@blp.response(200, JoinSchema)
@auth_required
def join(session_id):
    """Join the session now (recorded for attendance): a URL for this user only."""
    result = joining.join(bearer_user(), services.get_session(session_id), now=utcnow())
    return {"url": result.url, "occurrence": result.occurrence, "moderator": result.moderator}


@blp.route("/me/calendar", methods=["GET"])
@blp.response(200, CalendarSchema)
@auth_required
def my_calendar():
    """The caller's secret iCalendar feed address (sessions and deadlines)."""
    token = calendar.feed_token(bearer_user())
    return {"url": url_for("live.feed", token=token, _external=True)}
