"""The outbound-request guard (``lms.core.outbound``): private, local, reserved and
disguised addresses, hosts off the allow-list, redirects into the private network, DNS
rebinding, oversized and slow answers — all refused with a clear error, nothing sent."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lms.core import outbound
from lms.core.errors import Conflict
from lms.live import providers
from tests.live import POLL


class Upstream(BaseHTTPRequestHandler):
    hits: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).hits.append(self.path)
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.split("=", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/big":
            data = b"x" * 5000
        elif self.path == "/slow":
            time.sleep(2)
            data = b"late"
        else:
            data = b"hello " + self.headers.get("Host", "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # the client may stop reading (size cap, timeout): what the test wants
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    do_POST = do_GET


@pytest.fixture
def config(app, monkeypatch):
    with app.app_context():
        yield app.config


@pytest.fixture
def upstream(config, monkeypatch):
    """A server on loopback, reachable only because this test allows it explicitly."""
    Upstream.hits = []
    monkeypatch.setitem(config, "OUTBOUND_ALLOW_HTTP", True)
    monkeypatch.setitem(config, "OUTBOUND_PRIVATE_NETWORKS", "127.0.0.1/32")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def refused(url: str, **kwargs) -> str:
    host = kwargs.pop("host", None)
    from urllib.parse import urlsplit

    allowed = [host or urlsplit(url).hostname]
    with pytest.raises(outbound.OutboundRefused) as info:
        outbound.get(url, allowed_hosts=allowed, **kwargs)
    return info.value.message


ADDRESSES = [
    "https://127.0.0.1/",
    "https://localhost/",
    "https://[::1]/",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://172.31.255.254/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://0.0.0.0/",
    "https://[::]/",
    "https://100.64.0.1/",  # carrier-grade NAT
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
]


@pytest.mark.parametrize("url", ADDRESSES)
def test_private_local_and_reserved_addresses_are_refused(config, url):
    message = refused(url)
    assert "private, local or reserved address" in message


@pytest.mark.parametrize(
    "url", ["https://2130706433/", "https://0177.0.0.1/", "https://0x7f.0.0.1/", "https://127.1/"]
)
def test_decimal_octal_hex_and_short_ip_forms_are_refused(config, url):
    assert "not a canonical IP address" in refused(url)


def test_a_name_resolving_to_a_private_address_is_refused(config, monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "intranet.example.org":  # the DNS answer an attacker controls
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    message = refused("https://intranet.example.org/")
    assert "intranet.example.org resolves to 10.0.0.7" in message


def test_scheme_host_list_and_credentials(config):
    assert "Only https://" in refused("http://93.184.215.14/")
    assert "Only https://" in refused("file:///etc/passwd", host="")
    assert "Only https://" in refused("gopher://93.184.215.14/")
    message = refused("https://93.184.215.14/", host="lrs.example.org")
    assert "not on the list of allowed hosts" in message
    assert "user name or password" in refused("https://user:pw@93.184.215.14/")


def test_an_allowed_server_answers(upstream):
    resp = outbound.get(f"{upstream}/hello", allowed_hosts=["127.0.0.1"])
    assert resp.status == 200 and resp.text.startswith("hello 127.0.0.1:")


def test_redirects_into_the_private_network_are_refused(upstream):
    for target in (
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:192.168.0.1]/",
        "http://2130706433/",
    ):
        host = target.split("//", 1)[1].split("/", 1)[0].strip("[]")
        with pytest.raises(outbound.OutboundRefused) as info:
            outbound.get(
                f"{upstream}/redirect?to={target}",
                allowed_hosts=["127.0.0.1", host],
                max_redirects=3,
            )
        assert "address" in info.value.message
    # a redirect to a host off the allow-list is refused too
    with pytest.raises(outbound.OutboundRefused, match="not on the list of allowed hosts"):
        outbound.get(
            f"{upstream}/redirect?to=https://example.org/",
            allowed_hosts=["127.0.0.1"],
            max_redirects=3,
        )
    # redirects are not followed unless the caller allows them, nor for a POST
    with pytest.raises(outbound.OutboundRefused, match="redirect"):
        outbound.get(f"{upstream}/redirect?to=/hello", allowed_hosts=["127.0.0.1"])
    with pytest.raises(outbound.OutboundRefused, match="redirect"):
        outbound.post(
            f"{upstream}/redirect?to=/hello", allowed_hosts=["127.0.0.1"], max_redirects=3
        )
    # the positive control: an allowed redirect on the same server is followed
    resp = outbound.get(
        f"{upstream}/redirect?to=/hello", allowed_hosts=["127.0.0.1"], max_redirects=1
    )
    assert resp.status == 200 and Upstream.hits[-1] == "/hello"


def test_the_checked_address_is_the_one_connected_to(upstream, monkeypatch):
    """DNS rebinding: the name is resolved once; a second, private answer is never used."""
    port = int(upstream.rsplit(":", 1)[1])
    answers = ["127.0.0.1", "10.9.9.9"]
    calls = []
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example.org":
            calls.append(host)
            address = answers[min(len(calls), len(answers)) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    resp = outbound.get(
        f"http://rebind.example.org:{port}/hello", allowed_hosts=["rebind.example.org"]
    )
    assert resp.status == 200
    assert resp.text == f"hello rebind.example.org:{port}"  # the name went in Host
    assert calls == ["rebind.example.org"]  # resolved once: connected to what was checked


def test_size_cap_and_timeout(upstream):
    with pytest.raises(outbound.OutboundRefused, match="larger"):
        outbound.get(f"{upstream}/big", allowed_hosts=["127.0.0.1"], max_bytes=1000)
    assert outbound.get(f"{upstream}/big", allowed_hosts=["127.0.0.1"]).content == b"x" * 5000
    started = time.monotonic()
    with pytest.raises(outbound.OutboundFailed, match="could not be reached"):
        outbound.get(f"{upstream}/slow", allowed_hosts=["127.0.0.1"], timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_bigbluebutton_calls_go_through_the_guard(config):
    bbb = providers.BigBlueButton("https://169.254.169.254/bigbluebutton/", "secret")
    with pytest.raises(Conflict, match=r"not allowed: The host 169\.254\.169\.254 resolves"):
        bbb.create("m1", "Test", duration=60)
    bbb = providers.BigBlueButton("http://bbb.example.org/bigbluebutton/", "secret")
    with pytest.raises(Conflict, match=r"Only https://"):
        bbb.create("m1", "Test", duration=60)


def test_no_module_fetches_urls_another_way():
    """Only ``lms.core.outbound`` may open connections to URLs (the npm download of the
    player's script at install time is a fixed, integrity-checked URL, not a platform
    request)."""
    from pathlib import Path

    root = Path(outbound.__file__).resolve().parents[1]
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "outbound.py" or path.relative_to(root).as_posix() == "core/vendor.py":
            continue
        text = path.read_text()
        for needle in ("import requests", "import httpx", "urlopen(", "urllib3", "http.client"):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []
