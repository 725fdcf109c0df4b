"""``flask --app wsgi lms courses import PATH… | export CODE DIR``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.catalog import archives, packages, services
from lms.core.errors import DomainError
from lms.core.extensions import db

courses = AppGroup("courses", help="Import and export course packages.")


@courses.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def import_command(paths: tuple[Path, ...]) -> None:
    """Import course packages (folders with a course.yaml, folders of them, or .zip / .tar /
    .tar.gz archives of either).

    Every problem is reported with file and line; if there is any, nothing is written."""
    try:
        with archives.unpacked(list(paths)) as folders:
            imported = packages.import_packages(folders)
    except packages.PackageError as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(exc.message) from None
    db.session.commit()
    for course in imported:
        click.echo(f"imported {course.code} ({course.status})")


@courses.command("export")
@click.argument("code")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(code: str, directory: Path) -> None:
    """Export one course as a package folder DIRECTORY/CODE."""
    try:
        course = services.get_course(code)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    root = packages.export_package(course, directory)
    click.echo(f"exported {course.code} to {root}")
