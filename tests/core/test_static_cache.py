"""Fingerprinted static files (``asset_url``) are cached for a year by browsers, proxies and
CDNs; the same file without its fingerprint is revalidated."""

from __future__ import annotations

import re


def test_fingerprinted_assets_are_immutable(client):
    page = client.get("/courses").get_data(as_text=True)
    urls = re.findall(r'(/static/[^"?]+\?v=[0-9a-f]{12})"', page)
    assert urls, "the layout links its stylesheet and scripts through asset_url"
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        # the bare URL (no fingerprint) must not be cached for a year
        bare = client.get(url.split("?")[0])
        assert "immutable" not in bare.headers.get("Cache-Control", "")
