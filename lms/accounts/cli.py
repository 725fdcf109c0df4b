"""``flask --app wsgi lms users …`` and ``lms institutions …``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.accounts import services
from lms.accounts.models import INSTITUTION_KINDS
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.core.i18n import LOCALES
from lms.core.security import Role

users = AppGroup("users", help="Manage user accounts.")
institutions = AppGroup("institutions", help="Manage institutions.")


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors) or exc.message
    raise click.ClickException(details)


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    help="Role; 'admin' without --institution makes a platform administrator.",
)
@click.option("--institution", "slug", help="Institution identifier for the role.")
@click.option("--native-name", default="", help="Full name in the person's own script.")
@click.option("--latin-name", default="", help="Full name in Latin letters.")
@click.option("--country", default="", help="ISO 3166 code, e.g. VN.")
@click.option("--locale", default="", type=click.Choice(["", *LOCALES]))
@click.option("--timezone", default="", help="IANA zone, e.g. Asia/Bangkok.")
def create_user(
    email, password, display_name, role, slug, native_name, latin_name, country, locale, timezone
):
    """Create a user, optionally with a role at an institution."""
    try:
        inst = services.get_institution(slug) if slug else None
        user = services.create_user(
            None,
            email=email,
            password=password,
            display_name=display_name,
            role=role,
            institution=inst,
            name_native=native_name,
            name_latin=latin_name,
            country=country,
            locale=locale,
            timezone=timezone,
        )
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"created user {user.email} (id {user.id})")


@users.command("grant")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--institution", "slug", required=True)
def grant(email, role, slug):
    """Give an existing user a role at an institution."""
    try:
        user = services.find_user_by_email(email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        services.grant_role(None, user, services.get_institution(slug), role)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"{email} is now {role} at {slug}")


@institutions.command("create")
@click.option("--slug", required=True, help="Lower-case identifier, e.g. gxcvc.")
@click.option(
    "--name",
    "names",
    multiple=True,
    required=True,
    help="LOCALE=NAME, repeatable: --name en='Guangxi College' --name zh_Hans=广西学院",
)
@click.option("--country", required=True, help="ISO 3166 code, e.g. CN.")
@click.option("--kind", required=True, type=click.Choice(INSTITUTION_KINDS))
@click.option("--timezone", default="UTC")
@click.option("--locale", "default_locale", default="en", type=click.Choice(LOCALES))
@click.option("--website", default="")
def create_institution(slug, names, country, kind, timezone, default_locale, website):
    """Create an institution."""
    parsed = {}
    for item in names:
        loc, sep, name = item.partition("=")
        if not sep:
            raise click.BadParameter("use LOCALE=NAME", param_hint="--name")
        parsed[loc.strip()] = name
    try:
        inst = services.create_institution(
            None,
            slug=slug,
            names=parsed,
            country=country,
            kind=kind,
            timezone=timezone,
            default_locale=default_locale,
            website=website,
        )
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"created institution {inst.slug}")


@institutions.command("list")
def list_institutions():
    """List institutions."""
    for inst in db.session.scalars(services.list_institutions()):
        click.echo(f"{inst.slug}\t{inst.country}\t{inst.name_in('en')[0]}")
