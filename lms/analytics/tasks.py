"""Background jobs of the analytics domain (see ``lms.core.jobs``)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.analytics import lrs
from lms.core import jobs
from lms.core.extensions import db

_FLAG = "lms_xapi_forward_scheduled"


@jobs.task(queue="default", name="lms.analytics.forward_xapi")
def forward_xapi(self) -> None:
    """Forward the statements not yet in the LRS (safe to run twice: statement ids make the
    LRS keep one copy)."""
    lrs.forward_pending()


def schedule_forwarding() -> None:
    """Called when a statement is stored. With workers (scale-out) the forwarding job is
    sent once per transaction, after it commits. In-process (embedded) mode sends nothing
    here, so no page waits for the LRS: run ``flask --app wsgi lms xapi forward`` from cron."""
    if not current_app.config.get("XAPI_LRS_ENDPOINT") or jobs.eager():
        return
    session = db.session()
    if session.info.get(_FLAG):
        return
    session.info[_FLAG] = True
    jobs.enqueue(forward_xapi)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _reset(session: Session, *_args: Any) -> None:
    session.info.pop(_FLAG, None)
