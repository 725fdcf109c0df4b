"""``flask --app wsgi lms live remind``: e-mail reminders before live classes."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from lms.core import mail as core_mail
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.live import calendar

live = AppGroup("live", help="Live classes.")


@live.command("remind")
@click.option("--minutes", default=60, show_default=True, help="Remind this long before.")
def remind(minutes: int) -> None:
    """Queue reminders for sessions starting soon (each once) and send the outbox."""
    count = calendar.send_reminders(utcnow(), timedelta(minutes=minutes))
    db.session.commit()
    sent, failed = core_mail.deliver_pending(limit=10_000)
    click.echo(f"queued {count} reminders; sent {sent}, failed {failed}")
