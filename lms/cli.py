"""``flask --app wsgi lms …``: the command-line group, gathering each domain's commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from lms import demo
from lms.core import schedule
from lms.core.db import utcnow

lms_group = AppGroup("lms", help="China–ASEAN Vocational Cloud LMS commands.")


@lms_group.command("tick")
def tick() -> None:
    """Run every periodic job once (close overdue attempts, live reminders, the outbox):
    cron runs this every minute in the embedded profile."""
    failed = False
    for name, summary, ok in schedule.run_all(utcnow()):
        click.echo(f"{name}: {summary}", err=not ok)
        failed = failed or not ok
    if failed:
        raise SystemExit(1)


@lms_group.command("beat")
def beat() -> None:
    """Run the Celery beat scheduler that sends the periodic jobs to the workers
    (scale-out profile; needs LMS_CELERY_BROKER_URL)."""
    try:
        schedule.run_beat()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


def init_app(app: Flask) -> None:
    from lms.accounts import cli as accounts_cli
    from lms.analytics import cli as analytics_cli
    from lms.assessment import cli as assessment_cli
    from lms.catalog import cli as catalog_cli
    from lms.credits import cli as credits_cli
    from lms.enrolment import cli as enrolment_cli
    from lms.live import cli as live_cli
    from lms.media import cli as media_cli
    from lms.operations import cli as operations_cli
    from lms.transcripts import cli as transcripts_cli

    if "users" not in lms_group.commands:  # once, however many apps are created
        lms_group.add_command(accounts_cli.users)
        lms_group.add_command(accounts_cli.institutions)
        lms_group.add_command(catalog_cli.courses)
        lms_group.add_command(enrolment_cli.enrolment)
        lms_group.add_command(enrolment_cli.mail)
        lms_group.add_command(assessment_cli.questions)
        lms_group.add_command(assessment_cli.assessment)
        lms_group.add_command(live_cli.live)
        lms_group.add_command(media_cli.media)
        lms_group.add_command(transcripts_cli.transcripts)
        lms_group.add_command(transcripts_cli.keys)
        lms_group.add_command(credits_cli.credits)
        lms_group.add_command(analytics_cli.xapi_group)
        lms_group.add_command(demo.demo)
        lms_group.add_command(operations_cli.backup)
        lms_group.add_command(operations_cli.restore)
    app.cli.add_command(lms_group)
