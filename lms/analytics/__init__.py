"""Analytics: xAPI statements from learning events, their export and forwarding to a
learning record store."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.analytics import models, tasks, xapi  # noqa: F401  (models, jobs, rules register)

    xapi.connect()
