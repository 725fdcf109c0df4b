"""Signals and hooks through which higher domains plug into the catalogue (DESIGN §2: a
lower domain never imports a higher one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blinker import Namespace
from markupsafe import Markup

_signals = Namespace()

#: sent as ``lesson_viewed.send(lesson, user=user)`` when a signed-in user opens a lesson
lesson_viewed = _signals.signal("lesson-viewed")

#: once any check is registered, lessons of published courses are open only to the course's
#: staff and to users for whom a check says yes (enrolment registers "is enrolled")
lesson_access_checks: list[Callable[[Any, Any], bool]] = []

#: extra panels on the course page (enrolment status and button, upcoming sessions …):
#: fn(course, user) -> Markup
course_panels: list[Callable[[Any, Any], Markup]] = []

#: extra panels above a lesson's text (the video player …): fn(lesson, user) -> Markup
lesson_panels: list[Callable[[Any, Any], Markup]] = []

#: extra panels below a lesson's text (progress controls …): fn(lesson, user) -> Markup
lesson_actions: list[Callable[[Any, Any], Markup]] = []


def panels(hooks: list[Callable[[Any, Any], Markup]], obj: Any, user: Any) -> Markup:
    return Markup("").join(hook(obj, user) for hook in hooks)
