"""``flask --app wsgi lms credits …``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.credits import services

credits = AppGroup("credits", help="Credit systems and grade scales.")


@credits.command("seed")
def seed() -> None:
    """Load the national default grade scales and credit systems (safe to run again)."""
    try:
        report = services.seed_national_defaults()
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors) or exc.message
        raise click.ClickException(details) from None
    db.session.commit()
    click.echo(f"grade scales created: {', '.join(report.scales_created) or 'none (all present)'}")
    click.echo(
        f"credit systems created: {', '.join(report.systems_created) or 'none (all present)'}"
    )


@credits.command("list")
def list_all() -> None:
    """List grade scales and credit systems."""
    for scale in db.session.scalars(services.list_scales()):
        labels = " ".join(b.label for b in scale.bands)
        click.echo(f"scale\t{scale.ref}\t{scale.direction}\tpass {scale.pass_mark}\t{labels}")
    for system in db.session.scalars(services.list_credit_systems()):
        click.echo(
            f"credits\t{system.ref}\t{system.hours_per_credit} h/credit\t"
            f"{system.rounding_mode} to {system.rounding_step}"
        )
