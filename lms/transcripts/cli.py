"""``flask --app wsgi lms transcripts verify FILE.json`` and ``lms keys rotate``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.accounts import services as accounts
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.transcripts import keys as keys_service
from lms.transcripts import untrusted, verify

transcripts = AppGroup("transcripts", help="Verifiable transcripts.")
keys = AppGroup("keys", help="Institutions' signing keys.")


@transcripts.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def verify_file(path: str) -> None:
    """Verify a credential file; exit status 0 only when it is valid."""
    with open(path, "rb") as fh:
        raw = fh.read(untrusted.MAX_BYTES + 1)
    try:
        result = verify.verify_credential(
            untrusted.parse_untrusted(raw), resolver=verify.platform_resolver
        )
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.rollback()  # verification changes nothing
    click.echo(result["status"])
    for check in result["checks"]:
        mark = "ok" if check["ok"] else "FAIL"
        click.echo(f"  [{mark}] {check['check']}: {check['detail']}")
    if result["status"] != "valid":
        raise click.exceptions.Exit(1)


@keys.command("rotate")
@click.option("--institution", "slug", required=True, help="Institution identifier.")
def rotate(slug: str) -> None:
    """Retire an institution's signing key and create a new one (old keys stay published,
    so the credentials they signed still verify)."""
    try:
        key = keys_service.rotate_key(None, accounts.get_institution(slug))
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{slug}: new signing key {key.fragment} {key.public_multikey}")
