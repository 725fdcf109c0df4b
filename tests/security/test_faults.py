"""Faults (issue #12 item 3): the database dropping mid-request, the object store and the
mail server being down. Each test shows that nothing is half-written and that the next try,
once the component is back, succeeds."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, func, select
from sqlalchemy import exc as sa_exc

from lms import create_app
from lms.accounts.models import Institution, Membership, User
from lms.core.extensions import db, limiter
from tests.conftest import PASSWORD, PG_URL, app_config, bearer, need
from tests.live import free_port, fresh_pg_database
from tests.media.conftest import moto_server, s3_store  # noqa: F401  (fixture)

# ---------------------------------------------------------------------------- database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres])])
def own_app(request, tmp_path) -> Iterator[Flask]:
    """An app on its own database (not the shared test transaction): the fault must really
    end a connection, and what is committed must be read back from the database itself."""
    with _database(request.param, tmp_path) as url:
        app = create_app(app_config(tmp_path, url))
        with app.app_context():
            upgrade()
            from lms.accounts import services

            inst = services.create_institution(
                None,
                slug="gx-fault",
                names={"en": "Fault College"},
                country="CN",
                kind="vocational_college",
                timezone="Asia/Shanghai",
            )
            services.create_user(
                None,
                email="root@fault.test",
                password=PASSWORD,
                display_name="Root",
                role="admin",
            )
            db.session.commit()
            assert inst.id
            limiter.reset()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@contextmanager
def _database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fault.sqlite3'}"
        return
    need(bool(PG_URL), "PostgreSQL (set LMS_TEST_DATABASE_URL)")
    with fresh_pg_database(PG_URL) as url:
        yield url


@contextmanager
def connection_dies_at(app: Flask, table: str) -> Iterator[list[str]]:
    """The database connection dies just before the first INSERT into ``table``.

    PostgreSQL: the server backend of the request's connection is terminated with
    ``pg_terminate_backend`` (a real dropped connection). SQLite has no server to lose, so
    the driver's I/O error is raised at that point instead."""
    fired: list[str] = []
    with app.app_context():
        engine = db.engine
    admin = None
    if engine.dialect.name == "postgresql":
        admin = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)

    def before(conn, cursor, statement, parameters, context, executemany):
        if fired or not statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            return
        fired.append(statement)
        if admin is not None:
            pid = cursor.connection.info.backend_pid
            with admin.connect() as other:
                ok = other.execute(
                    sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
                ).scalar()
            assert ok
            return  # the statement now runs on a dead connection
        orig = sqlite3.OperationalError("disk I/O error")
        orig.sqlite_errorname = "SQLITE_IOERR"
        raise sa_exc.OperationalError(statement, parameters, orig)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)
        if admin is not None:
            admin.dispose()


def _count(app: Flask, stmt) -> int:
    with app.app_context():
        try:
            return db.session.scalar(stmt) or 0
        finally:
            db.session.remove()


REGISTRATION = {
    "email": "lan@fault.test",
    "password": "a-long-enough-password",
    "display_name": "Nguyễn Thị Lan",
    "country": "VN",
    "locale": "vi",
    "timezone": "Asia/Ho_Chi_Minh",
    "institution": "gx-fault",
}


def test_database_lost_mid_registration_answers_retry_and_writes_nothing(own_app):
    client = own_app.test_client()
    users = select(func.count()).select_from(User).where(User.email == "lan@fault.test")
    with connection_dies_at(own_app, "memberships") as fired:
        # the user row is flushed first, then the membership: the connection dies between
        resp = client.post("/register", data=REGISTRATION, headers={"Accept-Language": "vi"})
    assert fired, "the fault was never reached"
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    page = resp.get_data(as_text=True)
    assert "Dịch vụ tạm thời không khả dụng" in page  # the translated title
    assert "Traceback" not in page
    assert _count(own_app, users) == 0
    assert _count(own_app, select(func.count()).select_from(Membership)) == 0
    # the next request gets a working connection and succeeds
    resp = client.post("/register", data=REGISTRATION)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    assert _count(own_app, users) == 1
    pending = select(func.count()).select_from(Membership).where(Membership.status == "pending")
    assert _count(own_app, pending) == 1


def test_database_lost_mid_api_write_answers_problem_json(own_app):
    client = own_app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"email": "root@fault.test", "password": PASSWORD}
    ).json["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
    body = {
        "slug": "mm-yangon",
        "names": {"en": "Yangon Technical", "my": "ရန်ကုန်နည်းပညာ"},
        "country": "MM",
        "kind": "vocational_college",
        "timezone": "Asia/Yangon",
        "default_locale": "my",
    }
    institutions = (
        select(func.count()).select_from(Institution).where(Institution.slug == "mm-yangon")
    )
    with connection_dies_at(own_app, "audit_events") as fired:
        # the institution row is written, then its audit event: the connection dies between
        resp = client.post("/api/v1/institutions", json=body, headers=headers)
    assert fired
    assert resp.status_code == 503
    assert resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"] == "5"
    assert resp.json["type"].endswith("/problems/database-unavailable")
    assert resp.json["title"] == "服务暂时不可用，请稍后重试。"
    assert _count(own_app, institutions) == 0
    resp = client.post("/api/v1/institutions", json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    assert _count(own_app, institutions) == 1


def test_a_bad_query_is_not_mistaken_for_a_lost_database():
    from lms.core.errors import database_unavailable

    no_table = sqlite3.OperationalError("no such table: nope")
    no_table.sqlite_errorname = "SQLITE_ERROR"
    assert not database_unavailable(sa_exc.OperationalError("SELECT 1", {}, no_table))
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"
    assert database_unavailable(sa_exc.OperationalError("SELECT 1", {}, busy))
    assert database_unavailable(sa_exc.DisconnectionError("gone"))


# ---------------------------------------------------------------------------- e-mail


class _SlowInbox:
    """An SMTP sink that takes a moment per message, so concurrent senders overlap."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.3)
        self.messages.append(envelope.content)
        return "250 OK"


def test_mail_server_down_then_back_delivers_exactly_once(own_app):
    from aiosmtpd.controller import Controller

    from lms.core import mail
    from lms.core.models import OutboxMessage

    with own_app.app_context():
        message = mail.queue(
            "lan@fault.test",
            "vi",
            "test",
            "enrolment/waitlist_promotion",
            student=SimpleNamespace(display_name="Lan", email="lan@fault.test"),
            enrolment=SimpleNamespace(course=SimpleNamespace(code="GX-101")),
            course_title="Tiếng Trung",
        )
        db.session.commit()
        message_id = message.id
        own_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
        assert mail.deliver_pending() == (0, 1)  # nothing listens: kept, with the error
        row = db.session.get(OutboxMessage, message_id)
        assert row.sent_at is None and row.attempts == 1 and row.last_error
        assert row.claimed_until is None  # released for the next try
        db.session.remove()

    inbox, port = _SlowInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    own_app.config["SMTP_PORT"] = port
    results: list[tuple[int, int]] = []

    def sender() -> None:
        with own_app.app_context():
            try:
                results.append(mail.deliver_pending())
            finally:
                db.session.remove()

    try:
        threads = [threading.Thread(target=sender) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        controller.stop()
    assert len(results) == 4
    assert sum(sent for sent, _ in results) == 1
    assert len(inbox.messages) == 1  # four senders at once, one delivery
    with own_app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""
        assert mail.deliver_pending() == (0, 0)  # nothing is sent twice later either
        db.session.remove()


# ---------------------------------------------------------------------------- object store


@pytest.fixture
def stores(app, moto_server, tmp_path):  # noqa: F811
    """The same bucket twice: through the running S3 server, and through a closed port (the
    store being down). ``use(store)`` switches the app between them."""
    from lms.core.storage import S3Storage

    up = s3_store(moto_server, tmp_path / "scratch")
    down = S3Storage(
        bucket=up.bucket,
        scratch=tmp_path / "scratch",
        endpoint_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        access_key_id="testing",
        secret_access_key="testing",
    )
    # the same client the app builds, retrying once instead of five times (a quicker test)
    import boto3
    from botocore.config import Config

    from lms.core.storage import _GuardedClient

    down.client = _GuardedClient(
        boto3.session.Session(
            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        ).client(
            "s3",
            endpoint_url=down.endpoint_url,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )
    )
    previous = app.extensions.get("lms.storage")

    def use(store):
        app.extensions["lms.storage"] = store

    try:
        yield up, down, use
    finally:
        if previous is None:
            app.extensions.pop("lms.storage", None)
        else:
            app.extensions["lms.storage"] = previous


def test_object_store_down_refuses_clearly_and_the_upload_completes_later(
    app, client, make, db_session, stores
):
    from lms.core.storage import StoreUnavailable
    from lms.media.models import MediaAsset, MediaUpload
    from tests.media.test_uploads import _http_put, _pdf

    up, down, use = stores
    inst = make.institution(slug="gx-store")
    teacher = make.user("teacher", inst, locale="vi")
    headers = bearer(client, teacher)
    headers["Accept-Language"] = "vi"
    data = _pdf(b"Bai giang")
    start = {"kind": "document", "filename": "bai-giang.pdf", "size": len(data)}

    use(down)
    resp = client.post("/api/v1/media/uploads", json=start, headers=headers)
    assert resp.status_code == 503, resp.json
    assert resp.mimetype == "application/problem+json"
    assert resp.json["type"].endswith("/problems/storage-unavailable")
    assert resp.json["title"] == "Dịch vụ tạm thời không khả dụng. Vui lòng thử lại sau ít phút."
    assert "Traceback" not in resp.get_data(as_text=True)
    assert resp.headers["Retry-After"]
    assert db_session.scalar(select(func.count()).select_from(MediaUpload)) == 0
    # every way of reaching the store says the same (uploads through boto3's transfer too)
    for call in (
        lambda: down.put_bytes("media/x/original", b"x"),
        lambda: down.list("media"),
        lambda: down.read_bytes("media/x/original"),
        lambda: list(down.all_keys()),
    ):
        with pytest.raises(StoreUnavailable):
            call()

    use(up)
    resp = client.post("/api/v1/media/uploads", json=start, headers=headers)
    assert resp.status_code == 201, resp.json
    upload_id = resp.json["id"]
    base = f"/api/v1/media/uploads/{upload_id}"
    [part] = client.post(f"{base}/parts", json={"part_numbers": [1]}, headers=headers).json["parts"]
    _http_put(part["url"], data)

    use(down)  # the store goes away before the upload is completed
    resp = client.post(f"{base}/complete", headers=headers)
    assert resp.status_code == 503
    assert resp.json["type"].endswith("/problems/storage-unavailable")
    assert db_session.scalar(select(func.count()).select_from(MediaAsset)) == 0
    upload = db_session.get(MediaUpload, upload_id)
    assert upload.status == "open" and upload.asset_id is None

    use(up)  # back: the same upload completes, from the part the store kept
    resp = client.post(f"{base}/complete", headers=headers)
    assert resp.status_code == 202, resp.json
    asset = db_session.get(MediaAsset, resp.json["id"])
    assert asset.status == "ready" and up.read_bytes(asset.original_key) == data
    assert db_session.scalar(select(func.count()).select_from(MediaAsset)) == 1
    assert client.post(f"{base}/complete", headers=headers).json["id"] == asset.id
