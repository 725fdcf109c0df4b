"""Hostile inputs and the checks that a page, e-mail or file stayed safe, shared by the
security tests (imported explicitly; there is no conftest here)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, HTTPServer

from tests.live import POLL

#: a name or title that tries every way into a page
XSS = (
    '<script>alert("xss")</script><img src=x onerror=alert(1)>'
    '<a href="javascript:alert(2)">j</a><svg onload=alert(3)>'
)
#: what must survive as text (the visible part of the payload)
XSS_MARK = "alert("


class _Executable(HTMLParser):
    """Finds what a browser would run: <script> elements (other than the page's own, which
    have a src), on* attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs_d = dict(attrs)
        data_only = attrs_d.get("type") in ("application/json", "application/ld+json")
        if tag == "script" and not attrs_d.get("src") and not data_only:
            self.found.append("inline <script>")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            scheme = value and re.match(r"\s*(javascript|vbscript|data):", value, re.I)
            if scheme and not (tag == "img" and value.startswith("data:image/")):
                self.found.append(f"<{tag} {name}={value[:30]}>")

    handle_startendtag = handle_starttag


def executable(html: str) -> list[str]:
    """Everything in ``html`` that a browser would execute."""
    parser = _Executable()
    parser.feed(html)
    parser.close()
    return parser.found


def assert_inert(html: str) -> None:
    found = executable(html)
    assert not found, found


@contextmanager
def http_sentinel() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on loopback that records every request made to it (for XXE and
    media references that must never be fetched)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"SENTINEL-BODY")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def problem_of(resp, status: int) -> dict:
    """The RFC 9457 body of an API refusal with ``status``."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["detail"]
    return body
