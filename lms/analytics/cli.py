"""``flask --app wsgi lms xapi export|forward``: learning records for an LRS."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.accounts.models import User
from lms.analytics import lrs, xapi
from lms.catalog import services as catalog
from lms.core.errors import DomainError
from lms.core.extensions import db

xapi_group = AppGroup("xapi", help="xAPI learning records.")


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an RFC 3339 time or date: {value}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@xapi_group.command("export")
@click.option("--since", help="Statements stored after this time (RFC 3339 or a date).")
@click.option("--until", help="Statements stored at or before this time.")
@click.option("--verb", help="Only this verb (short name such as passed, or its IRI).")
@click.option("--course", "code", help="Only this course (code).")
@click.option(
    "--as",
    "email",
    help="Export what this user may see (default: everything, as the operator).",
)
def export(
    since: str | None, until: str | None, verb: str | None, code: str | None, email: str | None
) -> None:
    """Write the statements as one JSON array (what an LRS's POST /statements takes) to
    standard output: ``lms xapi export --since 2027-03-01 > statements.json``."""
    try:
        user = None
        if email:
            user = db.session.scalar(select(User).filter_by(email=email.strip().casefold()))
            if user is None:
                raise click.ClickException(f"no user {email}")
        course = catalog.get_course(code) if code else None
        stmt = xapi.export_query(
            user, since=_moment(since), until=_moment(until), verb=verb, course=course
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo("[", nl=False)
    for n, row in enumerate(db.session.scalars(stmt.execution_options(yield_per=500))):
        click.echo(("," if n else "") + "\n" + json.dumps(row.body, ensure_ascii=False), nl=False)
    click.echo("\n]")


@xapi_group.command("forward")
def forward() -> None:
    """Send the statements not yet forwarded to the configured LRS (run it from cron)."""
    if not lrs.configured():
        raise click.ClickException("LMS_XAPI_LRS_ENDPOINT is not set")
    report = lrs.forward_pending()
    click.echo(f"forwarded {report.forwarded}, waiting {report.failed}")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        raise SystemExit(1)
