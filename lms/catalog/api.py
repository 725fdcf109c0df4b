"""Catalogue API: find and read courses; teachers create and edit courses, modules and
lessons. Translatable fields come in the requested language (``?lang=`` or
``Accept-Language``) with the locale actually served beside each (``title_locale``)."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from marshmallow import Schema, fields, validate

from lms.accounts import services as accounts
from lms.catalog import services
from lms.catalog.models import (
    ASEAN_LANGUAGES,
    CN_LEVELS,
    INDUSTRIES,
    KINDS,
    LESSON_KINDS,
    TRACKS,
    Course,
)
from lms.core.api import PageArgs, api_blueprint, auth_required, bearer_user, page_body, page_schema
from lms.core.i18n import LOCALES, current_locale
from lms.core.pagination import paginate
from lms.core.richtext import render
from lms.core.security import require

blp = api_blueprint("catalog_api", __name__, "Courses, modules and lessons")


def _tr(item: Any, name: str) -> tuple[Any, str | None]:
    return item.text(name, current_locale())


def _locale_field(name: str):
    return fields.Function(
        lambda obj: _tr(obj, name)[1],
        allow_none=True,
        required=True,
        metadata={"description": f"Locale of `{name}` actually served"},
    )


class CourseSummary(Schema):
    code = fields.String(required=True)
    title = fields.Function(lambda c: _tr(c, "title")[0], required=True)
    title_locale = _locale_field("title")
    summary = fields.Function(lambda c: _tr(c, "summary")[0], required=True)
    summary_locale = _locale_field("summary")
    track = fields.String(required=True, metadata={"enum": list(TRACKS)})
    asean_language = fields.String(allow_none=True, required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    industry = fields.String(required=True, metadata={"enum": list(INDUSTRIES)})
    institution = fields.Function(lambda c: c.institution.slug, required=True)
    country = fields.Function(lambda c: c.institution.country, required=True)
    credits = fields.Decimal(as_string=True, places=1, required=True)
    learning_hours = fields.Integer(required=True)
    aqrf_level = fields.Integer(allow_none=True, required=True)
    cn_level = fields.String(allow_none=True, required=True)
    instruction_languages = fields.List(fields.String(), required=True)
    status = fields.String(required=True)


class LessonSummary(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(LESSON_KINDS)})
    title = fields.Function(lambda x: _tr(x, "title")[0], required=True)
    title_locale = _locale_field("title")
    minutes = fields.Integer(required=True)
    required = fields.Boolean(required=True)


class ModuleSchema(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    position = fields.Integer(required=True)
    title = fields.Function(lambda x: _tr(x, "title")[0], required=True)
    title_locale = _locale_field("title")
    lessons = fields.List(fields.Nested(LessonSummary), required=True)


class CourseDetail(CourseSummary):
    description = fields.Function(lambda c: _tr(c, "description")[0], required=True)
    description_locale = _locale_field("description")
    outcomes = fields.Function(lambda c: list(_tr(c, "outcomes")[0] or []), required=True)
    outcomes_locale = _locale_field("outcomes")
    source_locale = fields.String(required=True)
    locales = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Languages the course texts exist in"},
    )
    capacity = fields.Integer(allow_none=True, required=True)
    starts_on = fields.Date(allow_none=True, required=True)
    ends_on = fields.Date(allow_none=True, required=True)
    teachers = fields.Function(lambda c: [t.display_name for t in c.teachers], required=True)
    prerequisites = fields.Function(lambda c: [p.code for p in c.prerequisites], required=True)
    modules = fields.List(fields.Nested(ModuleSchema), required=True)
    glossary = fields.Function(
        lambda c: [
            {
                "term": t.term,
                "pinyin": t.pinyin,
                "meaning": t.meaning(current_locale())[0],
                "meaning_locale": t.meaning(current_locale())[1],
            }
            for t in c.glossary
        ],
        required=True,
    )


class LessonDetail(LessonSummary):
    course = fields.Function(lambda x: x.module.course.code, required=True)
    module = fields.Function(lambda x: x.module.key, required=True)
    body = fields.Function(
        lambda x: _tr(x, "body")[0], required=True, metadata={"description": "Markdown"}
    )
    body_html = fields.Function(
        lambda x: str(render(_tr(x, "body")[0])),
        required=True,
        metadata={"description": "Sanitised HTML"},
    )
    body_locale = _locale_field("body")
    media_asset_id = fields.String(allow_none=True, required=True)


CoursePage = page_schema(CourseSummary, "CoursePage")


class CourseQuery(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    track = fields.String(load_default="", validate=validate.OneOf(["", *TRACKS]))
    kind = fields.String(load_default="", validate=validate.OneOf(["", *KINDS]))
    industry = fields.String(load_default="", validate=validate.OneOf(["", *INDUSTRIES]))
    lang = fields.String(
        load_default="",
        validate=validate.OneOf(["", *LOCALES]),
        metadata={
            "description": "Courses taught in this language (also the language of the texts "
            "returned, unless Accept-Language asks otherwise)"
        },
    )
    institution = fields.String(load_default="", validate=validate.Length(max=64))
    country = fields.String(load_default="", validate=validate.Length(max=2))


def _texts_field() -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(LOCALES)),
        values=fields.Dict(),
        metadata={
            "description": "Per language: title, summary, description, outcomes "
            "(course) / title, summary (module) / title, body "
            "(lesson), and status: original | machine | reviewed"
        },
    )


class CourseWrite(Schema):
    track = fields.String(validate=validate.OneOf(TRACKS))
    asean_language = fields.String(allow_none=True, validate=validate.OneOf([*ASEAN_LANGUAGES, ""]))
    kind = fields.String(validate=validate.OneOf(KINDS))
    industry = fields.String(validate=validate.OneOf(INDUSTRIES))
    aqrf_level = fields.Integer(allow_none=True, validate=validate.Range(1, 8))
    cn_level = fields.String(allow_none=True, validate=validate.OneOf([*CN_LEVELS, ""]))
    credits = fields.Decimal(places=1, metadata={"description": "0 to 999, one decimal"})
    learning_hours = fields.Integer(validate=validate.Range(0, 1_000_000))
    instruction_languages = fields.List(fields.String(validate=validate.OneOf(LOCALES)))
    source_locale = fields.String(validate=validate.OneOf(LOCALES))
    capacity = fields.Integer(allow_none=True, validate=validate.Range(0, 1_000_000))
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    prerequisites = fields.List(fields.String(validate=validate.Length(max=40)))
    teachers = fields.List(fields.String(validate=validate.Length(max=320)))
    texts = _texts_field()


class CourseCreate(CourseWrite):
    institution = fields.String(required=True)
    code = fields.String(required=True, validate=validate.Length(max=40))
    track = fields.String(required=True, validate=validate.OneOf(TRACKS))
    industry = fields.String(required=True, validate=validate.OneOf(INDUSTRIES))
    texts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(LOCALES)),
        values=fields.Dict(),
        required=True,
        metadata={"description": "Per language: title, summary, description, outcomes, status"},
    )


class ItemWrite(Schema):
    key = fields.String(validate=validate.Length(max=64))
    texts = _texts_field()


class LessonWrite(ItemWrite):
    kind = fields.String(validate=validate.OneOf(LESSON_KINDS))
    minutes = fields.Integer(validate=validate.Range(0, 100_000))
    required = fields.Boolean()
    media_asset_id = fields.String(allow_none=True, validate=validate.Length(max=32))


class ReviewWrite(Schema):
    decision = fields.String(
        required=True, validate=validate.OneOf(["approve", "return", "archive", "reopen"])
    )
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


def _data(body: dict[str, Any]) -> services.CourseData:
    names = set(services.CourseData.__dataclass_fields__) - {"given"}
    data = services.CourseData(**{k: v for k, v in body.items() if k in names})
    data.given = {
        k
        for k in ("asean_language", "aqrf_level", "cn_level", "capacity", "starts_on", "ends_on")
        if k in body
    }
    return data


def _apply_texts(setter, item, texts: dict[str, dict[str, Any]] | None) -> None:
    user = bearer_user()
    for locale, fields_ in (texts or {}).items():
        setter(user, item, locale, fields_, fields_.get("status"))


@blp.route("/courses", methods=["GET"])
@blp.arguments(CourseQuery, location="query")
@blp.response(200, CoursePage)
def list_courses(args):
    """Published courses, filtered and searched (substring search in every language)."""

    def render_body() -> str:
        page = paginate(services.catalogue(filters), args["page"], args["per_page"])
        return json.dumps(CoursePage().dump(page_body(page)), ensure_ascii=False)

    filters = services.CatalogueFilter(
        q=args["q"],
        track=args["track"],
        kind=args["kind"],
        industry=args["industry"],
        lang=args["lang"],
        institution=args["institution"],
        country=args["country"],
    )
    # the same for every caller of this locale and query: serialised once, reused
    parts = ("api", current_locale(), sorted(request.args.items(multi=True)))
    body = services.cached_catalogue(parts, render_body)
    return current_app.response_class(body, mimetype="application/json")


@blp.route("/courses/<code>", methods=["GET"])
@blp.response(200, CourseDetail)
def get_course(code):
    """One course with its outline. Drafts are visible to their authors only (send a token)."""
    return services.get_visible_course(bearer_user(), code)


@blp.route("/courses", methods=["POST"])
@blp.arguments(CourseCreate)
@blp.response(201, CourseDetail)
@auth_required
def create_course(body):
    """Create a draft course (teachers and administrators of the institution)."""
    institution = accounts.get_institution(body.pop("institution"))
    texts = body.pop("texts")
    return services.create_course(bearer_user(), institution, _data(body), texts)


@blp.route("/courses/<code>", methods=["PATCH"])
@blp.arguments(CourseWrite)
@blp.response(200, CourseDetail)
@auth_required
def update_course(body, code):
    """Change a course's facts and texts (its teachers and the institution's admins)."""
    course: Course = services.get_course(code)
    require(bearer_user(), "course.edit", course)
    texts = body.pop("texts", None)
    services.update_course(bearer_user(), course, _data(body))
    _apply_texts(services.set_course_texts, course, texts)
    return course


@blp.route("/courses/<code>/modules", methods=["POST"])
@blp.arguments(ItemWrite)
@blp.response(201, ModuleSchema)
@auth_required
def create_module(body, code):
    """Append a module."""
    course = services.get_course(code)
    require(bearer_user(), "course.edit", course)
    return services.add_module(bearer_user(), course, body.get("key", ""), body.get("texts", {}))


@blp.route("/modules/<int:module_id>", methods=["PATCH"])
@blp.arguments(ItemWrite)
@blp.response(200, ModuleSchema)
@auth_required
def update_module(body, module_id):
    """Change a module's texts."""
    module = services.get_module(module_id)
    require(bearer_user(), "course.edit", module.course)
    _apply_texts(services.set_module_texts, module, body.get("texts"))
    return module


@blp.route("/modules/<int:module_id>/lessons", methods=["POST"])
@blp.arguments(LessonWrite)
@blp.response(201, LessonDetail)
@auth_required
def create_lesson(body, module_id):
    """Append a lesson to a module."""
    module = services.get_module(module_id)
    require(bearer_user(), "course.edit", module.course)
    return services.add_lesson(
        bearer_user(),
        module,
        body.get("key", ""),
        body.get("kind", "text"),
        body.get("texts", {}),
        minutes=body.get("minutes", 0),
        required=body.get("required", True),
        media_asset_id=body.get("media_asset_id"),
    )


@blp.route("/lessons/<int:lesson_id>", methods=["GET"])
@blp.response(200, LessonDetail)
def get_lesson(lesson_id):
    """A lesson's text in the requested language (Markdown and sanitised HTML)."""
    lesson = services.get_lesson_by_id(lesson_id)
    course = services.get_visible_course(bearer_user(), lesson.module.course.code)
    require(bearer_user(), "lesson.view", course)
    return lesson


@blp.route("/lessons/<int:lesson_id>", methods=["PATCH"])
@blp.arguments(LessonWrite)
@blp.response(200, LessonDetail)
@auth_required
def update_lesson(body, lesson_id):
    """Change a lesson's kind, time, requirement or texts."""
    lesson = services.get_lesson_by_id(lesson_id)
    services.update_lesson(
        bearer_user(),
        lesson,
        kind=body.get("kind"),
        minutes=body.get("minutes"),
        required=body.get("required"),
        media_asset_id=body.get("media_asset_id"),
    )
    _apply_texts(services.set_lesson_texts, lesson, body.get("texts"))
    return lesson


@blp.route("/courses/<code>/submit", methods=["POST"])
@blp.response(200, CourseDetail)
@auth_required
def submit_course(code):
    """Send a draft for review."""
    return services.submit_for_review(bearer_user(), services.get_course(code))


@blp.route("/courses/<code>/review", methods=["POST"])
@blp.arguments(ReviewWrite)
@blp.response(200, CourseDetail)
@auth_required
def review_course(body, code):
    """Approve, return, archive or reopen (the institution's administrators)."""
    course = services.get_course(code)
    user = bearer_user()
    action = {"approve": services.approve, "archive": services.archive}
    if body["decision"] in action:
        return action[body["decision"]](user, course, body["comment"])
    if body["decision"] == "return":
        return services.return_for_changes(user, course, body["comment"])
    return services.reopen(user, course)
