"""``flask --app wsgi lms questions import --course CODE FILE | export --course CODE FILE`` and
``lms assessment close-overdue``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.assessment import attempts, services
from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.core.errors import DomainError
from lms.core.extensions import db

questions = AppGroup("questions", help="Import and export question banks (GIFT, Moodle XML).")
assessment = AppGroup("assessment", help="Quiz and exam housekeeping.")


def _format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    return "moodlexml" if path.suffix.lower() == ".xml" else "gift"


@questions.command("import")
@click.option("--course", "code", required=True, help="Course code")
@click.option("--format", "fmt", type=click.Choice(services.FORMATS), help="Default: by suffix")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(code: str, fmt: str | None, file: Path) -> None:
    """Import a GIFT or Moodle XML file into a course's question bank. Each problem is
    printed with its position; the questions without problems are kept."""
    try:
        course = catalog.get_course(code)
        result = services.import_questions(
            None, course, _format_of(file, fmt), file.read_bytes(), check=False
        )
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    for problem in result.errors:
        click.echo(f"{file.name}: {problem.position}: {problem.message}", err=True)
    click.echo(f"imported {len(result.imported)} question(s) into {course.code}")
    if result.errors:
        raise SystemExit(1)


@questions.command("export")
@click.option("--course", "code", required=True, help="Course code")
@click.option("--format", "fmt", type=click.Choice(services.FORMATS), help="Default: by suffix")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(code: str, fmt: str | None, file: Path) -> None:
    """Write a course's question bank to FILE."""
    try:
        course = catalog.get_course(code)
        body, problems = services.export_questions(course, _format_of(file, fmt))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    file.write_bytes(body)
    for problem in problems:
        click.echo(f"{problem.position}: {problem.message}", err=True)
    click.echo(f"wrote {file}")


@assessment.command("close-overdue")
def close_overdue_command() -> None:
    """Submit every attempt whose time is over, with the answers saved before it."""
    count = attempts.close_overdue(now=utcnow())
    db.session.commit()
    click.echo(f"submitted {count} overdue attempt(s)")
