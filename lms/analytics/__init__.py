"""Analytics: the teacher's course analytics, institution and platform statistics, charts
drawn on the server as accessible SVG, CSV and XLSX exports, and xAPI statements from
learning events with their export and forwarding to a learning record store (DESIGN §2: the
top domain; it reads every domain below it and none reads it)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.catalog import signals as catalog_signals
from lms.core.web import NavLink, add_nav_link


def init_app(app: Flask) -> None:
    from lms.analytics import models, tasks, xapi  # noqa: F401  (models, jobs, rules register)

    xapi.connect()
    app.register_blueprint(views.bp)
    add_nav_link(NavLink("analytics.index", _l("Analytics"), "analytics.dashboard", 70))
    if views.course_panel not in catalog_signals.course_panels:
        catalog_signals.course_panels.append(views.course_panel)


from lms.analytics import api, permissions, services, views  # noqa: E402, F401  (rules register)
