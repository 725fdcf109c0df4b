"""Operations: the audit log's search and export, personal-data export and erasure, and
backups. It sits on top of every domain (like ``lms.api``), because a person's data and the
audit trail span them all."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.core.web import NavLink, add_nav_link


def init_app(app: Flask) -> None:
    from lms.operations import audit_log, permissions, views  # noqa: F401  (rules register)

    app.register_blueprint(views.bp)
    add_nav_link(NavLink("operations.audit", _l("Audit log"), "audit.view", 95))
