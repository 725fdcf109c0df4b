"""Periodic jobs: one registry, run two ways.

- Embedded default: ``flask --app wsgi lms tick`` runs every periodic job once; cron runs
  it every minute (``* * * * * cd /srv/lms && .venv/bin/flask --app wsgi lms tick``).
- Scale-out: ``flask --app wsgi lms beat`` runs Celery beat, which sends each job to the
  ``default`` queue at its interval; any worker runs it.

A periodic job takes the current time and returns a one-line summary. It must be safe to
run twice and at any moment (each one acts only on what is due: overdue attempts,
reminders not yet sent, messages still in the outbox). Domains declare theirs with
``@periodic("name", every=seconds)`` in their ``tasks.py``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app

from lms.core import jobs
from lms.core.db import utcnow
from lms.core.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    every: int  # seconds between runs under Celery beat
    run: Callable[[datetime], str]

    @property
    def task_name(self) -> str:
        return f"lms.periodic.{self.name}"


PERIODIC: dict[str, Periodic] = {}


def periodic(name: str, *, every: int) -> Callable[[Callable[[datetime], str]], Callable]:
    """Declare a periodic job (and the Celery task beat sends for it)."""

    def deco(fn: Callable[[datetime], str]) -> Callable[[datetime], str]:
        item = Periodic(name, every, fn)
        PERIODIC[name] = item

        @jobs.task(queue="default", name=item.task_name)
        def job(self) -> str:
            summary = fn(utcnow())
            db.session.commit()
            return summary

        return fn

    return deco


def run_all(now: datetime) -> list[tuple[str, str, bool]]:
    """Run every periodic job once, each in its own transaction; one failing does not stop
    the others. Returns ``(name, summary or error, ok)`` per job."""
    results = []
    for item in sorted(PERIODIC.values(), key=lambda p: p.name):
        try:
            summary = item.run(now)
            db.session.commit()
        except Exception as exc:  # one job's failure must not starve the others
            db.session.rollback()
            log.exception("periodic job %s failed", item.name)
            results.append((item.name, f"{type(exc).__name__}: {exc}", False))
        else:
            results.append((item.name, summary, True))
    return results


def beat_schedule() -> dict[str, dict]:
    """Celery beat's schedule: each periodic job's task at its interval."""
    return {
        item.name: {"task": item.task_name, "schedule": float(item.every)}
        for item in PERIODIC.values()
    }


def run_beat(loglevel: str = "INFO") -> None:
    """Run Celery beat in this process (needs ``LMS_CELERY_BROKER_URL``); its state file
    lives in the instance folder."""
    if jobs.eager():
        raise RuntimeError("set LMS_CELERY_BROKER_URL to run the scheduler")
    jobs.celery.conf.beat_schedule = beat_schedule()
    state = Path(current_app.instance_path) / "celerybeat-schedule"
    jobs.celery.start(["beat", "--loglevel", loglevel, "--schedule", str(state)])
