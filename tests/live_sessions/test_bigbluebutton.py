"""BigBlueButton against a local HTTP stand-in that checks checksums the documented way
(SHA-1 of call name + query string + shared secret) and answers BBB's XML."""

import hashlib
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from lms.core.errors import Conflict
from lms.live import attendance, joining, providers, recordings, services
from tests.conftest import bearer, login
from tests.live import POLL
from tests.live_sessions.conftest import schedule

SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"


def test_checksum_matches_the_documented_example():
    # the example of the BigBlueButton API documentation
    query = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"
    assert providers.bbb_checksum("create", query, SECRET) == (
        "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"
    )


class StandIn(BaseHTTPRequestHandler):
    calls: list = []
    meetings: dict = {}

    def log_message(self, *args):
        pass

    def _xml(self, body: str, status: int = 200):
        data = f"<response>{body}</response>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        parts = urlsplit(self.path)
        call = parts.path.rsplit("/", 1)[-1]
        query, _, checksum = parts.query.rpartition("&checksum=")
        if not parts.path.startswith("/bigbluebutton/api/"):
            return self._xml("<returncode>FAILED</returncode>", 404)
        expected = hashlib.sha1((call + query + SECRET).encode()).hexdigest()
        params = dict(parse_qsl(query))
        type(self).calls.append((call, params, checksum == expected))
        if checksum != expected:
            return self._xml(
                "<returncode>FAILED</returncode><messageKey>checksumError</messageKey>"
            )
        mid = params.get("meetingID", "")
        if call == "create":
            type(self).meetings[mid] = params
            return self._xml(f"<returncode>SUCCESS</returncode><meetingID>{mid}</meetingID>")
        if call == "join":
            if mid not in self.meetings:
                return self._xml("<returncode>FAILED</returncode><messageKey>notFound</messageKey>")
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1/html5client?role={params['role']}")
            self.end_headers()
            return None
        if call == "end":
            self.meetings.pop(mid, None)
            return self._xml("<returncode>SUCCESS</returncode>")
        if call == "getRecordings":
            return self._xml(
                "<returncode>SUCCESS</returncode><recordings><recording>"
                f"<recordID>rec-1</recordID><meetingID>{mid}</meetingID>"
                "<startTime>1780000000000</startTime><playback><format><type>presentation</type>"
                "<url>https://bbb.example/playback/presentation/2.3/rec-1</url></format>"
                "</playback></recording></recordings>"
            )
        return self._xml("<returncode>FAILED</returncode>")


@pytest.fixture
def bbb_server(app, monkeypatch):
    # the stand-in listens on loopback over plain HTTP: allowed explicitly, for this test only
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_HTTP", True)
    monkeypatch.setitem(app.config, "OUTBOUND_PRIVATE_NETWORKS", "127.0.0.1/32")
    StandIn.calls, StandIn.meetings = [], {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True)
    thread.start()
    with app.app_context():
        yield f"http://127.0.0.1:{server.server_address[1]}/bigbluebutton/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def bbb_session(bbb_server, teacher, course, gx, make):
    admin = make.user("admin", gx)
    services.set_provider_settings(
        admin,
        gx,
        bbb_url=bbb_server,
        bbb_secret=SECRET,
        jitsi_domain="",
        jitsi_app_id="",
        jitsi_secret=None,
    )
    return schedule(teacher, course, provider="bigbluebutton", external_url="")


def test_create_and_join_urls_carry_correct_checksums(bbb_session, teacher, student):
    start = services.occurrences(bbb_session)[0]
    teacher_join = joining.join(teacher, bbb_session, now=start - timedelta(minutes=5))
    student_join = joining.join(student, bbb_session, now=start)
    create = [c for c in StandIn.calls if c[0] == "create"]
    assert create and all(ok for _, _, ok in create)
    assert create[0][1]["meetingID"] == bbb_session.meeting_ref
    for url, role in ((teacher_join.url, "MODERATOR"), (student_join.url, "VIEWER")):
        parts = urlsplit(url)
        query, _, checksum = parts.query.rpartition("&checksum=")
        assert checksum == hashlib.sha1(("join" + query + SECRET).encode()).hexdigest()
        assert dict(parse_qsl(query))["role"] == role
        assert SECRET not in url
        resp = requests.get(url, allow_redirects=False, timeout=5)
        assert resp.status_code == 302 and f"role={role}" in resp.headers["Location"]


def test_a_wrong_secret_is_refused_by_the_server(bbb_server):
    bbb = providers.BigBlueButton(bbb_server, "not-the-secret")
    with pytest.raises(Conflict, match="checksumError"):
        bbb.create("m1", "Test", duration=60)


def test_end_and_recordings(bbb_session, teacher, student, db_session):
    start = services.occurrences(bbb_session)[0]
    joining.join(teacher, bbb_session, now=start)
    joining.end_meeting(teacher, bbb_session)
    assert bbb_session.meeting_ref not in StandIn.meetings
    added = recordings.import_provider_recordings(teacher, bbb_session)
    assert [r.url for r in added] == ["https://bbb.example/playback/presentation/2.3/rec-1"]
    assert recordings.import_provider_recordings(teacher, bbb_session) == []  # no duplicates


def test_students_never_see_the_secret_or_a_moderator_url(
    client, bbb_session, student, make, gx, course
):
    from unittest import mock

    start = services.occurrences(bbb_session)[0]
    headers = bearer(client, student)
    with mock.patch("lms.live.api.utcnow", return_value=start):
        resp = client.get(f"/api/v1/sessions/{bbb_session.id}/join", headers=headers)
        listing = client.get(f"/api/v1/courses/{course.code}/sessions", headers=headers)
    assert resp.status_code == 200
    assert resp.json["moderator"] is False and "role=VIEWER" in resp.json["url"]
    assert "MODERATOR" not in resp.json["url"]
    for body in (resp.get_data(as_text=True), listing.get_data(as_text=True)):
        assert SECRET not in body
    login(client, student)
    page = client.get(f"/live/{bbb_session.id}").get_data(as_text=True)
    assert SECRET not in page and "checksum" not in page
    # the settings page is for administrators only, and never shows the secret back
    assert client.get(f"/institutions/{gx.slug}/live").status_code == 403
    client.post("/logout")
    login(client, make.user("admin", gx))
    settings = client.get(f"/institutions/{gx.slug}/live")
    assert settings.status_code == 200 and SECRET not in settings.get_data(as_text=True)


def test_jitsi_with_jwt():
    from joserfc import jwt
    from joserfc.jwk import OctKey

    url = providers.jitsi_url(
        "meet.example.org",
        "GX-1-room",
        app_id="lms",
        secret="s" * 32,
        name="Ana",
        moderator=True,
    )
    assert url.startswith("https://meet.example.org/GX-1-room?jwt=")
    token = jwt.decode(url.split("jwt=")[1], OctKey.import_key("s" * 32))
    assert token.claims["room"] == "GX-1-room" and token.claims["iss"] == "lms"
    assert token.claims["context"]["user"]["moderator"] is True
    assert providers.jitsi_url("meet.jit.si", "r") == "https://meet.jit.si/r"


def _hook_body(meeting: str, user_id: int, event: str, at) -> bytes:
    import json
    from urllib.parse import urlencode

    data = [
        {
            "data": {
                "type": "event",
                "id": event,
                "attributes": {
                    "meeting": {"internal-meeting-id": "x", "external-meeting-id": meeting},
                    "user": {"internal-user-id": "w_1", "external-user-id": str(user_id)},
                },
                "event": {"ts": int(at.timestamp() * 1000)},
            }
        }
    ]
    return urlencode({"event": json.dumps(data), "timestamp": "1"}).encode()


def test_bbb_webhooks_feed_attendance(client, bbb_session, teacher, student, gx, make):
    start = services.occurrences(bbb_session)[0]
    url = f"http://localhost/live/bbb-events/{gx.slug}"
    for event, at in (("user-joined", start), ("user-left", start + timedelta(minutes=45))):
        body = _hook_body(bbb_session.meeting_ref, student.id, event, at)
        checksum = hashlib.sha1((url + body.decode() + SECRET).encode()).hexdigest()
        resp = client.post(
            f"{url}?checksum={checksum}",
            data=body,
            content_type="application/x-www-form-urlencoded",
        )
        assert resp.status_code == 200 and resp.json == {"recorded": 1}
    _, rows = attendance.attendance_report(teacher, bbb_session, now=start + timedelta(hours=2))
    assert [(r.student.id, r.minutes, r.percent) for r in rows] == [(student.id, 45, 75)]
    # a forged call, or one for a user outside the course, records nothing
    body = _hook_body(bbb_session.meeting_ref, student.id, "user-joined", start)
    forged = client.post(
        f"{url}?checksum=00", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert forged.status_code == 403
    outsider = make.user("student", gx)
    body = _hook_body(bbb_session.meeting_ref, outsider.id, "user-joined", start)
    checksum = hashlib.sha1((url + body.decode() + SECRET).encode()).hexdigest()
    resp = client.post(
        f"{url}?checksum={checksum}", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert resp.json == {"recorded": 0}
