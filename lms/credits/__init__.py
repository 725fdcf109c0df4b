"""Credits: credit systems, grade scales and their conversions (agreements, the credit
ledger and recognition requests build on these)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.core.web import NavLink, add_nav_link


def init_app(app: Flask) -> None:
    from lms.credits import permissions, views  # noqa: F401  (rules register)

    app.register_blueprint(views.bp)
    add_nav_link(NavLink("credits.scales", _l("Grade scales"), "admin.access", 80))
