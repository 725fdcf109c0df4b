"""Offline study: saving a course's lessons and media on the device (service worker and
Cache Storage, or a downloadable pack), and syncing progress and quiz answers made offline
through an idempotent batch endpoint."""

from __future__ import annotations

from babel.units import format_unit
from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.catalog import signals as catalog_signals
from lms.core.i18n import current_locale
from lms.core.web import NavLink, add_nav_link


def filesize(n: int | None) -> str:
    """A size in the reader's language: kB below a megabyte, else MB with one decimal."""
    n = n or 0
    if n < 1_000_000:
        return format_unit(
            max(1, round(n / 1000)), "digital-kilobyte", length="short", locale=current_locale()
        )
    return format_unit(
        round(n / 1_000_000, 1), "digital-megabyte", length="short", locale=current_locale()
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.add_template_filter(filesize, "filesize")
    add_nav_link(NavLink("offline.index", _l("Offline"), None, 15))
    if views.course_panel not in catalog_signals.course_panels:
        catalog_signals.course_panels.append(views.course_panel)


from lms.offline import api, views  # noqa: E402, F401
