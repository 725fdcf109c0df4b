"""Accounts: users, institutions, roles, sign-in, tokens and profiles."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.core import api as core_api
from lms.core import i18n
from lms.core.web import NavLink, add_nav_link


def _user_locale() -> str | None:
    return current_user.locale if current_user and current_user.is_authenticated else None


def _user_timezone() -> str | None:
    if not (current_user and current_user.is_authenticated):
        return None
    if current_user.timezone:
        return current_user.timezone
    for m in current_user.active_memberships():
        return m.institution.timezone
    return None


def init_app(app: Flask) -> None:
    from lms.accounts import permissions, services, views  # noqa: F401  (rules register)
    from lms.core.extensions import login_manager

    login_manager.user_loader(services.load_session_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    i18n.user_locale_loader = _user_locale
    i18n.user_timezone_loader = _user_timezone
    core_api.token_resolver = services.user_for_token
    app.register_blueprint(views.bp)
    add_nav_link(NavLink("accounts.admin_home", _l("Administration"), "admin.access", 90))
