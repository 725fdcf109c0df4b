"""E-mail through an outbox (DESIGN §9: nothing is lost).

``queue`` renders a message in the recipient's language and stores it in the ``outbox``
table inside the current transaction. ``deliver_pending`` sends what is waiting: with the
console sender (default) the message is written to the log, with ``LMS_SMTP_HOST`` it goes
through SMTP. A failed send leaves the message in the outbox with the error and is tried
again next time; the web request never waits for a mail server."""

from __future__ import annotations

import logging
import smtplib
from contextlib import ExitStack
from datetime import datetime, timedelta
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

from flask import Flask, current_app, g, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import or_, select, update

from lms.core import jobs
from lms.core.db import serialise_writes, utcnow
from lms.core.extensions import db
from lms.core.models import OutboxMessage
from lms.core.schedule import periodic

log = logging.getLogger("lms.mail")
MAX_ATTEMPTS = 20


def queue(to_address: str, locale: str, kind: str, template: str, **context: Any) -> OutboxMessage:
    """Render ``mail/<template>.txt`` in ``locale`` (its first line is the subject) and put
    the message in the outbox."""
    with ExitStack() as stack:
        if not has_request_context():  # links in the message need the public address
            stack.enter_context(
                current_app.test_request_context(base_url=current_app.config["BASE_URL"])
            )
        stack.enter_context(force_locale(locale or current_app.config["DEFAULT_LOCALE"]))
        text = render_template(f"mail/{template}.txt", locale=locale, **context)
    subject, _, body = text.strip().partition("\n")
    message = OutboxMessage(
        to_address=to_address,
        locale=locale,
        kind=kind,
        subject=subject.strip()[:300],
        body=body.strip() + "\n",
    )
    db.session.add(message)
    db.session.flush()
    _announce()
    return message


def _send(message: Any) -> None:
    cfg = current_app.config
    if not cfg.get("SMTP_HOST"):
        log.info("mail to %s: %s\n%s", message.to_address, message.subject, message.body)
        return
    mail = EmailMessage()
    mail["From"] = cfg["MAIL_FROM"]
    mail["To"] = message.to_address
    mail["Subject"] = message.subject
    mail.set_content(message.body)
    mail["Content-Language"] = message.locale.replace("_", "-")  # after: set_content resets it
    with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=20) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USERNAME"):
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
        smtp.send_message(mail)


#: how long a sender holds a message it is sending before another may try it
CLAIM_SECONDS = 300


def _claim(message_id: int) -> bool:
    """Take one waiting message for this sender: a single conditional UPDATE, committed, so
    two senders (web request, worker, ``lms mail send``) never both send it."""
    serialise_writes()  # SQLite: take the write lock before reading what is claimed
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Send waiting messages; returns ``(sent, failed)``. Each message is claimed before it
    is sent and recorded right after, so a message is sent once even with several senders
    at work; one whose sender died mid-way is tried again when its claim runs out."""
    now = utcnow()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.attempts < MAX_ATTEMPTS,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()  # end the read, so claiming begins a fresh transaction
    sent = failed = 0
    for message_id in ids:
        if not _claim(message_id):
            continue
        row = db.session.get(OutboxMessage, message_id, populate_existing=True)
        message = SimpleNamespace(
            to_address=row.to_address, locale=row.locale, subject=row.subject, body=row.body
        )
        db.session.commit()  # hold no transaction while the mail server answers
        outcome: dict[str, Any] = {"claimed_until": None}
        try:
            _send(message)
        except (OSError, smtplib.SMTPException) as exc:
            outcome["last_error"] = str(exc)[:500]
            failed += 1
        else:
            outcome.update(sent_at=utcnow(), last_error="")
            sent += 1
        serialise_writes()
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(**outcome)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return sent, failed


@jobs.task(queue="default", name="lms.mail.deliver")
def deliver_job(self) -> None:
    """Scale-out: a worker sends what is waiting (retried with the outbox's own counter)."""
    deliver_pending()


def _announce() -> None:
    """Something was queued in this request: deliver once the request has committed."""
    if has_request_context():
        g.lms_mail_queued = True
    if not jobs.eager():
        jobs.enqueue(deliver_job)


def _deliver_after_request(exc: BaseException | None) -> None:
    if exc is not None or not g.pop("lms_mail_queued", False) or not jobs.eager():
        return
    try:
        deliver_pending()
    except Exception:  # the messages stay in the outbox; the next delivery tries again
        db.session.rollback()
        log.exception("mail delivery failed; messages stay in the outbox")


@periodic("mail.send", every=60)
def send_outbox(now: datetime) -> str:
    """Send what waits in the outbox (failed messages are tried again, up to a limit)."""
    sent, failed = deliver_pending(limit=1000)
    return f"sent {sent}, failed {failed}"


def init_app(app: Flask) -> None:
    app.teardown_request(_deliver_after_request)
