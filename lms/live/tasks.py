"""Background jobs of the live-classes domain."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms.core.schedule import periodic
from lms.live import calendar

REMIND_BEFORE = timedelta(minutes=60)


@periodic("live.remind", every=300)
def remind(now: datetime) -> str:
    """Queue reminders for sessions starting within the hour (each once); the outbox job
    sends them."""
    return f"queued {calendar.send_reminders(now, REMIND_BEFORE)} reminder(s)"
