"""Roles and the one permission helper.

Every view, endpoint, CLI command and service that guards an object asks ``require(user,
action, obj)`` (or ``can`` for a yes/no). Domains register the rule for each action they own
with ``@rule("action")``; an action with no rule is a programming error, so a forgotten rule
fails loudly instead of silently allowing. Roles are always checked against the object's
institution or course, never globally by name alone."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l

from lms.core.errors import NotAuthenticated, PermissionDenied


class Role(StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    REGISTRAR = "registrar"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.STUDENT: _l("Student"),
    Role.TEACHER: _l("Teacher"),
    Role.REGISTRAR: _l("Registrar"),
    Role.ADMIN: _l("Institution administrator"),
}

Rule = Callable[[Any, Any], bool]
_RULES: dict[str, Rule] = {}


def rule(action: str) -> Callable[[Rule], Rule]:
    """Register the rule deciding ``action``. ``fn(user, obj) -> bool``; ``user`` is never
    anonymous when the rule runs (anonymous users are refused before, unless the rule is
    registered with ``public_rule``)."""

    def deco(fn: Rule) -> Rule:
        if action in _RULES:
            raise RuntimeError(f"permission rule {action!r} registered twice")
        _RULES[action] = fn
        return fn

    return deco


_PUBLIC: set[str] = set()


def public_rule(action: str) -> Callable[[Rule], Rule]:
    """Like ``rule``, for actions anonymous visitors may be allowed (``user`` may be None)."""
    _PUBLIC.add(action)
    return rule(action)


def registered_actions() -> frozenset[str]:
    return frozenset(_RULES)


def _authenticated(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
    )


def can(user: Any, action: str, obj: Any = None) -> bool:
    """True when ``user`` may do ``action`` on ``obj``."""
    try:
        check = _RULES[action]
    except KeyError:
        raise LookupError(f"no permission rule registered for {action!r}") from None
    if not _authenticated(user):
        return action in _PUBLIC and bool(check(None, obj))
    if getattr(user, "is_platform_admin", False):
        return True
    return bool(check(user, obj))


def require(user: Any, action: str, obj: Any = None) -> None:
    """Raise ``NotAuthenticated`` (anonymous) or ``PermissionDenied`` unless allowed."""
    if can(user, action, obj):
        return
    if not _authenticated(user):
        raise NotAuthenticated()
    raise PermissionDenied()
