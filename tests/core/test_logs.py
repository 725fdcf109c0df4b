"""Structured logs: a request id per request (echoed in ``X-Request-Id``), an access line
naming the user by id, JSON lines on request, and no e-mail addresses, passwords or tokens."""

from __future__ import annotations

import io
import json
import logging

import pytest

from lms.core import logs
from tests.conftest import PASSWORD, bearer


@pytest.fixture
def json_logs():
    stream = io.StringIO()
    logger = logging.getLogger("lms")
    handler = logs.build_handler("json", stream)
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_access_lines_carry_request_and_user_ids_but_no_secrets(client, make, json_logs):
    user = make.user("student", make.institution(), email="lan@logs.test")
    headers = bearer(client, user)
    resp = client.get("/api/v1/me?token=secret-in-query", headers=headers)
    assert resp.status_code == 200
    rid = resp.headers["X-Request-Id"]
    access = [x for x in _lines(json_logs) if x["logger"] == "lms.access"]
    me = next(x for x in access if x["path"] == "/api/v1/me")
    assert me["request_id"] == rid and me["user_id"] == user.id
    assert me["status"] == 200 and me["method"] == "GET" and me["duration_ms"] >= 0
    raw = json_logs.getvalue()
    token = headers["Authorization"].split()[1]
    for secret in ("lan@logs.test", PASSWORD, token, "secret-in-query"):
        assert secret not in raw


def test_a_clients_request_id_is_kept_only_when_well_formed(client, db_session):
    assert (
        client.get("/healthz", headers={"X-Request-Id": "lb-1234abcd"}).headers["X-Request-Id"]
        == "lb-1234abcd"
    )
    for forged in ("<script>alert(1)</script>", "a" * 200, "short"):
        resp = client.get("/healthz", headers={"X-Request-Id": forged})
        assert resp.headers["X-Request-Id"] != forged
        assert len(resp.headers["X-Request-Id"]) == 32


def test_errors_are_logged_as_json_with_the_request_id(client, app, json_logs, db_session):
    logging.getLogger("lms.test").error(
        "failed for hoa@example.org with password=hunter2 and Authorization: Bearer abc.def"
    )
    [line] = [x for x in _lines(json_logs) if x["logger"] == "lms.test"]
    assert line["level"] == "ERROR"
    assert "hoa@example.org" not in line["message"] and "[email]" in line["message"]
    assert "hunter2" not in line["message"] and "abc.def" not in line["message"]


def test_text_format_scrubs_secrets_but_keeps_addresses():
    assert logs.scrub("Bearer abc123 to a@b.test", emails=False) == "Bearer [redacted] to a@b.test"
    assert logs.scrub('{"password": "p4ss"}', emails=True) == '{"password": "[redacted]"}'


def test_the_access_line_names_the_user_without_querying_after_the_commit(app, make, db_session):
    """The access line is written after the request committed, which expired the user: it
    must name them from the session's identity map, not by loading the row again."""
    from flask import g
    from sqlalchemy import event

    from lms.core.extensions import db

    user = make.user("student", make.institution())
    uid = user.id
    statements: list[str] = []
    with app.test_request_context("/"):
        g.api_user = user
        db.session.expire(user)
        engine = db.session.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert logs._user_id() == uid
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert statements == []
