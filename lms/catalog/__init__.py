"""The catalogue: courses, modules, lessons, translatable content, glossary, packages."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.catalog.models import Course, Lesson
from lms.core.extensions import db
from lms.core.security import can
from lms.core.web import NavLink, add_nav_link
from lms.media import services as media_services


def _used_in_open_lesson(user, asset) -> bool:
    """A video or document may be seen by whoever may open a lesson that uses it."""
    used_in = select(Lesson.course_id).where(Lesson.media_asset_id == asset.id)
    courses = db.session.scalars(select(Course).where(Course.id.in_(used_in)))
    return any(can(user, "lesson.view", course) for course in courses)


def init_app(app: Flask) -> None:
    from lms.catalog import permissions, views  # noqa: F401  (rules register)

    app.register_blueprint(views.bp)
    media_services.register_view_check(_used_in_open_lesson)
    add_nav_link(NavLink("catalog.teach_home", _l("Teaching"), "course.teach", 30))
