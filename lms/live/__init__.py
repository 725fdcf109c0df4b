"""Live classes: sessions, providers (BigBlueButton, Jitsi, external), attendance, iCal."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.catalog import signals as catalog_signals
from lms.core.db import utcnow
from lms.core.web import NavLink, add_nav_link
from lms.enrolment import services as enrolment
from lms.media import services as media


def _attendance(found):
    return attendance.attendance_check(found, now=utcnow())


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav_link(NavLink("live.my_calendar", _l("My calendar"), None, 15))
    enrolment.completion_checks["attendance"] = _attendance
    if views.upcoming_for not in enrolment.upcoming_sources:
        enrolment.upcoming_sources.append(views.upcoming_for)
        catalog_signals.course_panels.append(views.course_panel)
    media.register_view_check(recordings.used_in_recording)


from lms.live import api, attendance, permissions, recordings, services, tasks, views  # noqa: E402, F401  (rules register)
