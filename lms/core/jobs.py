"""The one job interface: a Celery app configured from the Flask app's configuration.

- Embedded default (``LMS_CELERY_BROKER_URL`` empty): jobs run in-process, at once, in the
  caller's thread (Celery's eager mode).
- Scale-out: ``LMS_CELERY_BROKER_URL=redis://…`` sends jobs to workers
  (``flask --app wsgi lms media worker``), on separate queues for transcoding and documents.
  A job is sent only once the transaction that asked for it has committed, so a worker never
  looks for a row that is not there yet.

Jobs must be safe to run twice: messages are acknowledged after the job ran, and a job whose
worker died is delivered again (``acks_late`` with ``reject_on_worker_lost``). Domains declare
jobs with ``@task(queue=…)`` and start them with ``enqueue``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask, current_app, has_app_context
from kombu import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.core.extensions import db

log = logging.getLogger(__name__)

QUEUES = ("transcoding", "documents", "default")

celery = Celery("lms", set_as_current=False)
#: task name -> queue (Celery's task_routes)
_ROUTES: dict[str, dict[str, str]] = {}
_flask_app: Flask | None = None


class FlaskTask(Task):
    """Runs inside an application context: the caller's when run eagerly, else a fresh one
    per job with its own database session (so no job sees another's stale snapshot)."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.request.is_eager and has_app_context():
            return self.run(*args, **kwargs)
        if _flask_app is None:
            raise RuntimeError("jobs.init_app was not called")
        with _flask_app.app_context():
            try:
                return self.run(*args, **kwargs)
            finally:
                db.session.remove()


def init_app(app: Flask) -> None:
    """Configure the Celery app from ``app.config``."""
    global _flask_app
    _flask_app = app
    broker = app.config.get("CELERY_BROKER_URL") or ""
    celery.conf.update(
        broker_url=broker or "memory://",
        task_always_eager=not broker,
        task_eager_propagates=False,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="default",
        task_queues=[Queue(name) for name in QUEUES],
        task_routes=_ROUTES,
        task_create_missing_queues=False,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # a long transcode must not be handed to a second worker while the first still runs
        broker_transport_options={"visibility_timeout": 6 * 3600},
    )
    app.extensions["celery"] = celery


def task(*, queue: str = "default", name: str | None = None) -> Callable:
    """Declare a job: ``@jobs.task(queue="transcoding")`` over ``def job(self, …)``."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def deco(fn: Callable) -> Task:
        task_name = name or f"{fn.__module__}.{fn.__name__}"
        _ROUTES[task_name] = {"queue": queue}
        return celery.task(
            bind=True,
            base=FlaskTask,
            name=task_name,
            acks_late=True,
            reject_on_worker_lost=True,
        )(fn)

    return deco


def eager() -> bool:
    """True when jobs run in-process (the embedded default)."""
    return not (current_app.config.get("CELERY_BROKER_URL") if has_app_context() else "")


def enqueue(job: Task, *args: Any) -> None:
    """Start a job: at once in-process (embedded default), or after the current transaction
    commits by sending it to the broker (scale-out). A rolled-back transaction sends
    nothing."""
    if eager():
        job.apply(args=args)
        return
    session = db.session()
    if not session.in_transaction():
        job.apply_async(args=args)
        return
    session.info.setdefault("lms_jobs", []).append((job, args))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop("lms_jobs", None)
    for job, args in pending or ():
        job.apply_async(args=args)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop("lms_jobs", None)


@worker_process_init.connect
def _fresh_connections(**_kwargs: Any) -> None:
    """A forked worker child must not share the parent's database connections."""
    if _flask_app is not None:
        with _flask_app.app_context():
            db.engine.dispose(close=False)


def run_worker(queues: list[str], concurrency: int, loglevel: str = "INFO") -> None:
    """Run a worker in this process (``flask --app wsgi lms media worker``)."""
    if eager():
        raise RuntimeError("set LMS_CELERY_BROKER_URL to run a worker")
    celery.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queues),
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--loglevel",
            loglevel,
            "--without-gossip",
            "--without-mingle",
        ]
    )
