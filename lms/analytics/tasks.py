"""Background jobs of the analytics domain (see ``lms.core.jobs``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.analytics import lrs
from lms.core import jobs
from lms.core.extensions import db
from lms.core.schedule import periodic

_FLAG = "lms_xapi_forward_scheduled"


@jobs.task(queue="default", name="lms.analytics.forward_xapi")
def forward_xapi(self) -> None:
    """Forward the statements not yet in the LRS (safe to run twice: statement ids make the
    LRS keep one copy)."""
    lrs.forward_pending()


def schedule_forwarding() -> None:
    """Called when a statement is stored. With workers (scale-out) the forwarding job is
    sent once per transaction, after it commits. In-process (embedded) mode sends nothing
    here, so no page waits for the LRS: the periodic ``lms tick`` (cron) forwards."""
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


@periodic("xapi.forward", every=300)
def forward_periodically(now: datetime) -> str:
    """The periodic run (``lms tick`` / beat): forward what is due, when an LRS is set."""
    if not lrs.configured():
        return "no LRS configured"
    report = lrs.forward_pending(now=now)
    errors = f"; {report.errors[0]}" if report.errors else ""
    return f"forwarded {report.forwarded}, waiting {report.failed}{errors}"
