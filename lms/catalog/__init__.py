"""The catalogue: courses, modules, lessons, translatable content, glossary, packages."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.core.web import NavLink, add_nav_link


def init_app(app: Flask) -> None:
    from lms.catalog import permissions, views  # noqa: F401  (rules register)

    app.register_blueprint(views.bp)
    add_nav_link(NavLink("catalog.teach_home", _l("Teaching"), "course.teach", 30))
