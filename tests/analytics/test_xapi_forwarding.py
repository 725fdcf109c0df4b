"""Forwarding statements to a learning record store: a real HTTP server on loopback plays
the LRS (allowed for these tests only, through the explicit private-network allow-list)."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lms.analytics import lrs
from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from tests.analytics.conftest import statements
from tests.live import POLL


class LRS(BaseHTTPRequestHandler):
    received: list = []
    answers: list = []  # statuses to give, in order; 200 once they run out

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        type(self).received.append((self.command, self.path, dict(self.headers), body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        data = b"" if status == 204 else json.dumps(["ok"]).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_PUT = _answer


@pytest.fixture
def lrs_server(app, monkeypatch):
    LRS.received, LRS.answers = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), LRS)
    thread = threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True)
    thread.start()
    port = server.server_address[1]
    for key, value in {
        "XAPI_LRS_ENDPOINT": f"http://127.0.0.1:{port}/xapi/",
        "XAPI_LRS_USERNAME": "lms-key",
        "XAPI_LRS_PASSWORD": "lms-secret",
        "XAPI_LRS_BATCH_SIZE": 2,
        "XAPI_LRS_RETRIES": 3,
        "XAPI_LRS_BACKOFF_SECONDS": 1,
        # the explicit test allow-list: plain HTTP to this loopback address only
        "OUTBOUND_ALLOW_HTTP": True,
        "OUTBOUND_PRIVATE_NETWORKS": "127.0.0.1/32",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield port
    server.shutdown()
    server.server_close()


@pytest.fixture
def three_statements(make, gx, course):
    for _ in range(3):
        enrolment.enrol(make.user("student", gx), course, now=utcnow())
    assert len(statements()) == 3
    return statements()


def test_batches_arrive_with_the_xapi_headers(lrs_server, three_statements):
    waits = []
    report = lrs.forward_pending(sleep=waits.append)
    assert (report.forwarded, report.failed, report.errors) == (3, 0, [])
    assert waits == []
    assert [len(body) for _m, _p, _h, body in LRS.received] == [2, 1]  # batch size 2
    method, path, headers, _batch = LRS.received[0]
    assert (method, path) == ("POST", "/xapi/statements")
    assert headers["X-Experience-API-Version"] == "1.0.3"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"lms-key:lms-secret").decode()
    sent = [s for _m, _p, _h, batch in LRS.received for s in batch]
    assert [s["id"] for s in sent] == [s.id for s in three_statements]
    assert all("stored" not in s and s["version"] == "1.0.3" for s in sent)
    assert all(s.forwarded_at is not None for s in statements())
    # a second run has nothing left to send
    assert lrs.forward_pending(sleep=waits.append).forwarded == 0
    assert len(LRS.received) == 2


def test_a_503_is_tried_again_after_a_wait(lrs_server, three_statements):
    LRS.answers = [503]
    waits = []
    report = lrs.forward_pending(sleep=waits.append)
    assert report.forwarded == 3 and report.errors == []
    assert waits == [1.0]
    assert [len(b) for _m, _p, _h, b in LRS.received] == [2, 2, 1]
    assert LRS.received[0][3] == LRS.received[1][3]  # the same batch, the same ids


def test_an_lrs_that_stays_down_makes_the_batch_wait(lrs_server, three_statements):
    LRS.answers = [503, 503, 503]
    waits = []
    report = lrs.forward_pending(sleep=waits.append)
    assert report.forwarded == 0 and report.failed == 2
    assert "503" in report.errors[0]
    assert waits == [1.0, 2.0]  # doubling within the run
    waiting = [s for s in statements() if s.forwarded_at is None]
    assert len(waiting) == 3
    first_two = [s for s in waiting if s.forward_attempts == 1]
    assert len(first_two) == 2 and all("503" in s.last_error for s in first_two)
    assert all(s.next_attempt_at > utcnow() for s in first_two)
    # the next run at once sends only the batch not yet tried; later, everything goes
    LRS.received.clear()
    lrs.forward_pending(sleep=waits.append)
    assert [len(b) for _m, _p, _h, b in LRS.received] == [1]
    report = lrs.forward_pending(now=utcnow() + timedelta(minutes=5), sleep=waits.append)
    assert report.forwarded == 2
    assert all(s.forwarded_at is not None for s in statements())


def test_a_conflict_falls_back_to_put_per_statement(lrs_server, three_statements):
    LRS.answers = [409, 204, 409]  # batch refused; then one new, one already stored
    report = lrs.forward_pending(sleep=lambda s: None)
    assert report.forwarded == 3
    puts = [(m, p) for m, p, _h, _b in LRS.received if m == "PUT"]
    assert puts[0] == ("PUT", f"/xapi/statements?statementId={three_statements[0].id}")
    assert len(puts) == 2


def test_an_endpoint_outside_the_allow_lists_is_refused(
    app, monkeypatch, lrs_server, three_statements
):
    monkeypatch.setitem(app.config, "XAPI_LRS_ALLOWED_HOSTS", "lrs.example.org")
    report = lrs.forward_pending(sleep=lambda s: None)
    assert report.forwarded == 0 and "not on the list of allowed hosts" in report.errors[0]
    monkeypatch.setitem(app.config, "XAPI_LRS_ALLOWED_HOSTS", "")
    monkeypatch.setitem(app.config, "OUTBOUND_PRIVATE_NETWORKS", "")
    report = lrs.forward_pending(now=utcnow() + timedelta(days=2), sleep=lambda s: None)
    assert report.forwarded == 0 and "private, local or reserved" in report.errors[0]
    assert LRS.received == []  # nothing ever left the platform


def test_cli_forward(lrs_server, runner, three_statements):
    result = runner.invoke(args=["lms", "xapi", "forward"])
    assert result.exit_code == 0, result.output
    assert "forwarded 3" in result.output
    assert sum(len(b) for _m, _p, _h, b in LRS.received) == 3


def test_with_workers_one_forwarding_job_is_queued_per_transaction(app, monkeypatch, db_session):
    from lms.analytics import tasks

    sent = []
    monkeypatch.setattr(tasks.forward_xapi, "apply_async", lambda **kw: sent.append(kw))
    monkeypatch.setitem(app.config, "XAPI_LRS_ENDPOINT", "https://lrs.example.org/xapi/")
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
    db_session.begin()
    for _ in range(3):  # three statements stored in one transaction
        tasks.schedule_forwarding()
    assert [job for job, _args in db_session.info["lms_jobs"]] == [tasks.forward_xapi]
    assert sent == []  # nothing before the commit
    db_session.commit()
    assert len(sent) == 1
    db_session.begin()
    tasks.schedule_forwarding()  # the next transaction queues its own
    db_session.commit()
    assert len(sent) == 2


def test_in_process_mode_leaves_forwarding_to_the_cron_command(app, monkeypatch, make, gx, course):
    from lms.core.extensions import db

    monkeypatch.setitem(app.config, "XAPI_LRS_ENDPOINT", "https://lrs.example.org/xapi/")
    enrolment.enrol(make.user("student", gx), course, now=utcnow())
    assert db.session.info.get("lms_jobs") is None  # no page waits on the LRS
    assert statements()[0].forwarded_at is None
