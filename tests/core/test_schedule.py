"""Periodic jobs: ``lms tick`` runs each once (a failing one does not stop the others, and
the exit status says so); Celery beat sends each registered job's task at its interval."""

from __future__ import annotations

from lms.core import jobs, schedule
from lms.core.models import OutboxMessage


def test_every_periodic_job_is_a_task_on_the_beat_schedule(app):
    beat = schedule.beat_schedule()
    assert {"mail.send", "live.remind", "assessment.close-overdue"} <= set(beat)
    for name, entry in beat.items():
        assert entry["task"] in jobs.celery.tasks, name
        assert entry["schedule"] >= 60


def test_tick_sends_the_outbox(app, runner, db_session):
    db_session.add(
        OutboxMessage(
            kind="test", to_address="a@example.test", locale="en", subject="Hello", body="Body"
        )
    )
    db_session.flush()
    result = runner.invoke(args=["lms", "tick"])
    assert result.exit_code == 0, result.output
    assert "mail.send: sent 1, failed 0" in result.output
    assert "live.remind: queued 0 reminder(s)" in result.output
    assert db_session.query(OutboxMessage).filter(OutboxMessage.sent_at.is_(None)).count() == 0


def test_one_failing_job_does_not_stop_the_others(app, runner, db_session, monkeypatch):
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setitem(
        schedule.PERIODIC, "aaa.broken", schedule.Periodic("aaa.broken", 60, broken)
    )
    result = runner.invoke(args=["lms", "tick"])
    assert result.exit_code == 1
    assert "aaa.broken: RuntimeError: boom" in result.output
    assert "mail.send: sent" in result.output


def test_xapi_forwarding_is_periodic_and_quiet_without_an_lrs(app, runner, db_session):
    assert "xapi.forward" in schedule.beat_schedule()
    result = runner.invoke(args=["lms", "tick"])
    assert "xapi.forward: no LRS configured" in result.output
