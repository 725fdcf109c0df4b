"""Credits: credit systems, grade scales and their conversions (agreements, the credit
ledger and recognition requests build on these)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.core.web import NavLink, add_nav_link


def init_app(app: Flask) -> None:
    from lms.credits import ledger, permissions, recognition_views, views  # noqa: F401
    from lms.enrolment.signals import enrolment_finished

    app.register_blueprint(views.bp)
    enrolment_finished.connect(ledger.on_enrolment_finished)
    add_nav_link(NavLink("credits.scales", _l("Grade scales"), "admin.access", 80))
    add_nav_link(NavLink("credits.my_ledger", _l("My credits"), None, 30))
