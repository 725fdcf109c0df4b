"""Accounts: users, institutions, roles, sign-in, tokens and profiles."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.core import api as core_api
from lms.core import i18n
from lms.core.web import NavLink, add_nav_link


def _user_locale() -> str | None:
    return current_user.locale if current_user and current_user.is_authenticated else None


def _api_user_locale() -> str | None:
    if not request.path.startswith("/api/"):
        return None  # a bearer token never speaks for a page request
    user = core_api.bearer_user()
    return user.locale if user is not None else None


def _user_timezone() -> str | None:
    if not (current_user and current_user.is_authenticated):
        return None
    if current_user.timezone:
        return current_user.timezone
    for m in current_user.active_memberships():
        return m.institution.timezone
    return None


def _load_user(session_id: str):
    """Flask-Login loader: the user while their auth version holds and the server-side
    session named by the cookie is alive (signing out ends it for every copy)."""
    from lms.accounts import services, sessions
    from lms.accounts.models import SESSION_KEY

    user = services.load_session_user(session_id)
    if user is None or not sessions.session_alive(user, session.get(SESSION_KEY)):
        return None
    return user


def _resolve_token(raw: str):
    from lms.accounts import services

    return services.user_for_token(raw)


def init_app(app: Flask) -> None:
    from lms.accounts import permissions, security_views, views  # noqa: F401  (rules, routes)
    from lms.core.extensions import login_manager

    login_manager.user_loader(_load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    i18n.user_locale_loader = _user_locale
    i18n.user_timezone_loader = _user_timezone
    i18n.api_user_locale_loader = _api_user_locale
    core_api.token_resolver = _resolve_token
    app.register_blueprint(views.bp)
    add_nav_link(NavLink("accounts.admin_home", _l("Administration"), "admin.access", 90))
