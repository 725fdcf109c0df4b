"""``flask --app wsgi lms media …``: the worker, retries and processing in the foreground."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import click
from flask.cli import AppGroup

from lms.accounts import services as accounts
from lms.core import jobs
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.core.storage import get_storage
from lms.media import processing, services
from lms.media.models import KINDS, MediaJob

media = AppGroup("media", help="Media uploads and processing.")


@media.command("worker")
@click.option(
    "--queues",
    default="transcoding,documents,default",
    show_default=True,
    help="Comma-separated queues to take jobs from.",
)
@click.option("--concurrency", default=1, show_default=True, help="Jobs at a time.")
def worker(queues: str, concurrency: int) -> None:
    """Run a Celery worker (needs LMS_CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0)."""
    if jobs.eager():
        raise click.ClickException("set LMS_CELERY_BROKER_URL to run a worker")
    jobs.run_worker([q.strip() for q in queues.split(",") if q.strip()], concurrency)


@media.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--owner", "email", required=True, help="E-mail of the teacher who owns it.")
@click.option("--kind", type=click.Choice(KINDS), default="video", show_default=True)
@click.option("--title", default="", help="Title (default: the file name).")
@click.option("--defer", is_flag=True, help="Only register it; process later (lms media process).")
def import_file(path: Path, email: str, kind: str, title: str, defer: bool) -> None:
    """Add a file from this machine as a teacher's media (the file itself is copied)."""
    owner = accounts.find_user_by_email(email)
    if owner is None:
        raise click.ClickException(f"no user {email}")
    copy = get_storage().scratch_dir("uploads") / f"import-{uuid.uuid4().hex}"
    shutil.copyfile(path, copy)
    try:
        asset, duplicate = services.ingest_file(
            owner, copy, kind=kind, title=title, filename=path.name, start=not defer
        )
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(e["message"] for e in exc.errors) or exc.message
        raise click.ClickException(details) from None
    finally:
        copy.unlink(missing_ok=True)
    db.session.commit()
    click.echo(f"{asset.id} {asset.status}{' (duplicate)' if duplicate else ''}")


@media.command("retry")
@click.argument("asset_id")
def retry(asset_id: str) -> None:
    """Process an asset again (after a failure or a worker that died)."""
    try:
        asset = services.get_asset(asset_id)
        job = services.retry(asset.owner, asset)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    db.session.refresh(asset)
    click.echo(f"job {job.id}: asset {asset.id} is {asset.status}")


@media.command("process")
@click.argument("asset_id")
def process(asset_id: str) -> None:
    """Run an asset's latest job here and now, whatever the broker (for operators)."""
    try:
        asset = services.get_asset(asset_id)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    job: MediaJob | None = asset.latest_job
    if job is None:
        raise click.ClickException("no job")
    run = processing.run_transcode if job.kind == "transcode" else processing.run_document
    run(job.id)
    db.session.refresh(asset)
    click.echo(f"asset {asset.id} is {asset.status} {services.error_message(asset.error_code)}")
