"""``flask --app wsgi lms enrolment finalize`` and ``lms mail send``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.catalog import services as catalog
from lms.core import mail as core_mail
from lms.core.db import utcnow
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.enrolment import services

enrolment = AppGroup("enrolment", help="Enrolments and course results.")
mail = AppGroup("mail", help="The e-mail outbox.")


@enrolment.command("finalize")
@click.option("--course", "code", required=True, help="Course code.")
def finalize(code: str) -> None:
    """Close a course: every current enrolment becomes completed or failed."""
    try:
        counts = services.finalize_course(None, catalog.get_course(code), now=utcnow())
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{code}: {counts['completed']} completed, {counts['failed']} failed")


@mail.command("send")
def send() -> None:
    """Send the messages waiting in the outbox (failed ones are tried again)."""
    sent, failed = core_mail.deliver_pending(limit=10_000)
    click.echo(f"sent {sent}, failed {failed}")
    if failed:
        raise SystemExit(1)
