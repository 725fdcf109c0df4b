"""The outbox: messages are written with the change, sent after it commits, and kept (with
the error) while the mail server is down."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from lms.catalog import services as catalog
from lms.core import mail
from lms.core.db import utcnow
from lms.core.models import OutboxMessage
from lms.enrolment import services
from tests.conftest import login
from tests.live import free_port


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback; yields (inbox, port)."""
    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config[k] for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)
    try:
        yield inbox, port
    finally:
        controller.stop()
        app.config.update(saved)


def _queue(make) -> OutboxMessage:
    user = make.user(locale="vi")
    enrolment = SimpleNamespace(course=SimpleNamespace(code="GX-101"))
    return mail.queue(
        user.email,
        "vi",
        "test",
        "enrolment/waitlist_promotion",
        student=user,
        enrolment=enrolment,
        course_title="Tiếng Trung",
    )


def test_message_is_delivered_over_smtp(app, db_session, make, smtp):
    inbox, _port = smtp
    message = _queue(make)
    assert mail.deliver_pending() == (1, 0)
    assert message.sent_at is not None
    [(to, content)] = inbox.messages
    assert to == [message.to_address]
    parsed = message_from_bytes(content, policy=default)
    assert parsed["Content-Language"] == "vi"
    assert "Đám mây Giáo dục nghề nghiệp" in parsed.get_content()  # rendered in Vietnamese


def test_a_down_mail_server_keeps_the_message_for_later(app, db_session, make, smtp):
    inbox, port = smtp
    message = _queue(make)
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    assert mail.deliver_pending() == (0, 1)
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    app.config["SMTP_PORT"] = port
    assert mail.deliver_pending() == (1, 0)
    assert db_session.scalar(select(OutboxMessage.sent_at)) is not None
    assert len(inbox.messages) == 1


def test_messages_go_out_after_the_request_commits(app, client, make, db_session):
    """Embedded profile: the request that queued a message delivers it once committed."""
    inst = make.institution("gx")
    teacher = make.user("teacher", inst)
    data = catalog.CourseData(
        code="MAIL-1",
        track="zh_plus",
        industry="automotive",
        instruction_languages=["zh_Hans"],
        source_locale="zh_Hans",
        teachers=[teacher.email],
    )
    course = catalog.create_course(None, inst, data, {"zh_Hans": {"title": "课程"}})
    module = catalog.add_module(None, course, "m", {"zh_Hans": {"title": "m"}}, check=False)
    catalog.add_lesson(None, module, "l", "text", {"zh_Hans": {"title": "l"}}, check=False)
    catalog.approve(None, course, check=False)
    services.set_policy(teacher, course, mode="approval", audience="institution")
    student = make.user("student", inst, locale="km")
    enrolment = services.enrol(student, course, now=utcnow())
    login(client, teacher)
    client.post(f"/teach/enrolments/{enrolment.enrolment.id}/decide", data={"decision": "approve"})
    sent = db_session.scalar(select(OutboxMessage).filter_by(to_address=student.email))
    assert sent.locale == "km" and sent.sent_at is not None  # console sender, after commit
