"""Responses on the wire: text compressed as the browser asks (Vary: Accept-Encoding),
nothing compressed for a client that did not ask, fingerprinted assets cached for a year."""

from __future__ import annotations

import gzip
import re

import brotli

TOKEN = re.compile(rb'name="csrf_token" value="[^"]*"')


def same_page(a: bytes, b: bytes) -> bool:
    """Equal but for the CSRF tokens, which carry a time stamp."""
    return TOKEN.sub(b"", a) == TOKEN.sub(b"", b)


def test_pages_are_compressed_when_the_browser_accepts_it(client):
    plain = client.get("/courses")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert "Cookie" in plain.headers["Vary"]  # the security headers' Vary is kept

    zipped = client.get("/courses", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert same_page(gzip.decompress(zipped.data), plain.data)
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data) / 3

    best = client.get("/courses", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert best.headers["Content-Encoding"] == "br"
    assert same_page(brotli.decompress(best.data), plain.data)


def test_json_is_compressed_and_refused_encodings_are_respected(client):
    api = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert api.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(api.data).startswith(b"{")
    identity = client.get("/courses", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in identity.headers


def test_fingerprinted_assets_are_immutable_and_compressed(client):
    html = client.get("/courses").get_data(as_text=True)
    href = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', html).group(1)
    css = client.get(href, headers={"Accept-Encoding": "br"})
    assert css.status_code == 200
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert css.headers["Content-Encoding"] == "br"
    assert b"--accent" in brotli.decompress(css.get_data())
    unversioned = client.get("/static/css/app.css")
    assert "immutable" not in unversioned.headers.get("Cache-Control", "")
