"""``flask --app wsgi lms backup FILE`` and ``lms restore FILE``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.core.errors import DomainError
from lms.operations import backup as backups


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Write a backup archive: the database (a consistent snapshot) and every media object,
    with a signed manifest of SHA-256 checksums and the migration revision."""
    if path.exists():
        raise click.ClickException(f"{path} exists; choose a new file name")
    try:
        summary = backups.create_backup(path)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"{path}: {summary.dialect} database at {summary.revision}, {summary.tables} tables, "
        f"{summary.objects} media objects, {summary.bytes} bytes"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what the database and media store hold.")
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Accept an archive whose manifest signature does not match this platform's secret "
    "key (checksums, names, sizes and the revision are still checked).",
)
@with_appcontext
def restore(path: Path, force: bool, allow_unsigned: bool) -> None:
    """Restore a backup into a database migrated to the same revision (``flask db upgrade``
    first). An archive that fails any check changes nothing."""
    try:
        done = backups.restore_backup(path, force=force, allow_unsigned=allow_unsigned)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"restored {done.tables} tables and {done.objects} media objects at {done.revision}")
