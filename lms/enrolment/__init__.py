"""Enrolment: admission, cohorts, course mutual selection, waitlists, progress, completion."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.catalog import signals as catalog_signals
from lms.core.db import utcnow
from lms.core.web import NavLink, add_nav_link


def _is_enrolled(user, course) -> bool:
    return services.active_enrolment(user, course) is not None


def _on_lesson_viewed(lesson, user) -> None:
    services.lesson_viewed(user, lesson, now=utcnow())


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav_link(NavLink("enrolment.dashboard", _l("My courses"), None, 10))
    if _is_enrolled not in catalog_signals.lesson_access_checks:
        catalog_signals.lesson_access_checks.append(_is_enrolled)
        catalog_signals.course_panels.append(views.course_panel)
        catalog_signals.lesson_actions.append(views.lesson_actions)
        catalog_signals.lesson_viewed.connect(_on_lesson_viewed)


from lms.enrolment import api, permissions, services, views  # noqa: E402, F401  (rules register)
