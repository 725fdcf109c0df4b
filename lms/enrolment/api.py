"""Enrolment API: enrol and withdraw, the student's courses, lesson progress."""

from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms.catalog import services as catalog
from lms.core.api import api_blueprint, auth_required, bearer_user
from lms.core.db import finish_writes, utcnow
from lms.core.errors import Conflict
from lms.core.i18n import current_locale
from lms.enrolment import services
from lms.enrolment.models import STATUSES

blp = api_blueprint("enrolment_api", __name__, "Enrolments and learning progress")


class EnrolRequest(Schema):
    cohort = fields.Integer(allow_none=True, metadata={"description": "Class id, if any"})
    invitation_code = fields.String(allow_none=True, validate=validate.Length(max=200))


class EnrolResponse(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    message = fields.String(required=True)


class EnrolmentSchema(Schema):
    id = fields.Integer(required=True)
    course = fields.Function(lambda e: e.course.code, required=True)
    title = fields.Function(lambda e: e.course.title(current_locale())[0], required=True)
    title_locale = fields.Function(
        lambda e: e.course.title(current_locale())[1], required=True, allow_none=True
    )
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    cohort = fields.Function(
        lambda e: e.cohort.name if e.cohort else None, allow_none=True, required=True
    )
    source = fields.String(required=True, metadata={"enum": ["direct", "agreement"]})
    progress_percent = fields.Function(
        lambda e: services.progress(e).percent if e.status in services.ACTIVE else None,
        allow_none=True,
        required=True,
    )
    learning_seconds = fields.Integer(required=True)
    enrolled_at = fields.DateTime(allow_none=True, required=True)
    finished_at = fields.DateTime(allow_none=True, required=True)


class EnrolmentList(Schema):
    items = fields.List(fields.Nested(EnrolmentSchema), required=True)


class ProgressRequest(Schema):
    completed = fields.Boolean(metadata={"description": "Mark the lesson done"})
    position = fields.Float(
        validate=validate.Range(0, 86400), metadata={"description": "Resume position, seconds"}
    )
    start = fields.Float(
        validate=validate.Range(0, 86400),
        metadata={"description": "Start of the interval played since the last heartbeat, seconds"},
    )
    end = fields.Float(validate=validate.Range(0, 86400))
    duration = fields.Float(
        validate=validate.Range(0, 86400), metadata={"description": "Length of the video, if known"}
    )


class ProgressResponse(Schema):
    lesson = fields.Integer(required=True, attribute="lesson_id")
    completed = fields.Function(lambda p: p.completed_at is not None, required=True)
    position = fields.Integer(required=True)
    seconds_watched = fields.Integer(required=True)
    course_status = fields.Function(lambda p: p.enrolment.status, required=True)


@blp.route("/courses/<code>/enrolments", methods=["POST"])
@blp.arguments(EnrolRequest)
@blp.response(201, EnrolResponse, description="Enrolled")
@blp.alt_response(202, schema=EnrolResponse, description="Waitlisted, or waiting for approval")
@auth_required
def enrol(body, code):
    """Enrol the signed-in student (201), or put them on the waitlist / ask for approval
    (202). 409 when already enrolled or the course does not take enrolments."""
    course = catalog.get_visible_course(bearer_user(), code)
    result = services.enrol(
        bearer_user(),
        course,
        now=utcnow(),
        cohort_id=body.get("cohort"),
        invitation_code=body.get("invitation_code"),
        locale=current_locale(),
    )
    finish_writes()  # the seat's lock or SQLite's writer turn is not held for the answer
    payload = {"id": result.enrolment.id, "status": result.status, "message": result.message}
    return payload, 201 if result.status == "enrolled" else 202


@blp.route("/courses/<code>/enrolments", methods=["DELETE"])
@blp.response(200, EnrolResponse)
@auth_required
def withdraw(code):
    """Withdraw the signed-in student from the course; the first waitlisted student moves up."""
    course = catalog.get_visible_course(bearer_user(), code)
    enrolment = services.find_enrolment(bearer_user(), course)
    if enrolment is None:
        raise Conflict(_("There is no current enrolment to withdraw from."))
    services.withdraw(bearer_user(), enrolment, now=utcnow())
    return {"id": enrolment.id, "status": enrolment.status, "message": ""}


@blp.route("/me/enrolments", methods=["GET"])
@blp.response(200, EnrolmentList)
@auth_required
def my_enrolments():
    """The signed-in student's courses with status and progress."""
    return {"items": services.my_enrolments(bearer_user())}


@blp.route("/lessons/<int:lesson_id>/progress", methods=["POST"])
@blp.arguments(ProgressRequest)
@blp.response(200, ProgressResponse)
@auth_required
def lesson_progress(body, lesson_id):
    """Record progress in a lesson: completion, and for videos the resume position and the
    interval actually played since the last heartbeat (capped by server time)."""
    lesson = catalog.get_lesson_by_id(lesson_id)
    catalog.get_visible_course(bearer_user(), lesson.module.course.code)
    now = utcnow()
    row = None
    if "position" in body or "start" in body:
        row = services.heartbeat(
            bearer_user(),
            lesson,
            position=body.get("position", 0),
            start=body.get("start"),
            end=body.get("end"),
            duration=body.get("duration"),
            now=now,
        )
    if body.get("completed"):
        row = services.complete_lesson(bearer_user(), lesson, now=now)
    if row is None:
        row = services.heartbeat(bearer_user(), lesson, position=0, now=now)
    return row
