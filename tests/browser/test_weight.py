"""Page weight on a slow mobile link: the catalogue, a course page and a lesson page (no
video) cost at most 100 KB on the wire on a first view (empty cache) and 20 KB on a repeat
view, measured in headless Chromium from the DevTools protocol's ``encodedDataLength``
(compressed bodies plus headers, everything the page loads). The figures are printed and
kept in test-artifacts/page-weight.json."""

from __future__ import annotations

import json

import pytest

from tests.browser.reach import COURSE, LESSON, sign_in
from tests.live import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
FIRST_VIEW = 100 * 1024
REPEAT_VIEW = 20 * 1024
PAGES = {
    "catalogue": "/courses",
    "course": f"/courses/{COURSE}",
    "lesson": f"/courses/{COURSE}/lessons/{LESSON}",
}


class Meter:
    """Bytes received per page load, from the Network domain of the DevTools protocol."""

    def __init__(self, context, page):
        self.page = page
        self.bytes: dict[str, float] = {}
        self.urls: dict[str, str] = {}
        self.cached: set[str] = set()
        self.headers: dict[str, dict] = {}
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on(
            "Network.requestWillBeSent",
            lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]),
        )
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on(
            "Network.responseReceived",
            lambda e: self.headers.__setitem__(
                e["response"]["url"], {k.lower(): v for k, v in e["response"]["headers"].items()}
            ),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: self.bytes.__setitem__(e["requestId"], e["encodedDataLength"]),
        )

    def load(self, url: str) -> dict:
        self.bytes.clear()
        self.urls.clear()
        self.cached.clear()
        self.headers.clear()
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        total = int(sum(self.bytes.values()))
        fetched = sorted({self.urls.get(r, r) for r, n in self.bytes.items() if n > 0})
        encodings = {u: h.get("content-encoding", "") for u, h in self.headers.items()}
        caching = {u: h.get("cache-control", "") for u, h in self.headers.items()}
        return {
            "bytes": total,
            "requests": len(self.urls),
            "fetched": fetched,
            "encodings": encodings,
            "cache_control": caching,
        }


def test_page_weight_first_and_repeat_view(scene, chromium):
    ARTIFACTS.mkdir(exist_ok=True)
    # sign in elsewhere, then start from an empty cache with the session cookie only
    login = chromium.new_context(locale="th-TH")
    sign_in(login.new_page(), scene.base, scene.students["th"])
    state = login.storage_state()
    login.close()
    figures = {}
    for name, path in PAGES.items():
        context = chromium.new_context(
            storage_state=state, locale="th-TH", viewport={"width": 360, "height": 740}
        )
        page = context.new_page()
        meter = Meter(context, page)
        first = meter.load(scene.base + path)
        repeat = meter.load(scene.base + path)
        assert page.locator("html").get_attribute("lang") == "th"
        assert page.locator("video").count() == 0
        figures[name] = {"first_view": first, "repeat_view": repeat}
        context.close()
    (ARTIFACTS / "page-weight.json").write_text(json.dumps(figures, indent=2))
    for name, f in figures.items():
        print(
            f"{name:10} first view {f['first_view']['bytes']:>7} B "
            f"({f['first_view']['requests']} requests), repeat view "
            f"{f['repeat_view']['bytes']:>6} B ({f['repeat_view']['fetched']})"
        )
    for name, f in figures.items():
        assert f["first_view"]["bytes"] <= FIRST_VIEW, (name, f["first_view"])
        assert f["repeat_view"]["bytes"] <= REPEAT_VIEW, (name, f["repeat_view"])
        # every text response came compressed; fingerprinted assets are cached for a year
        first = f["first_view"]
        assert all(e in ("zstd", "br", "gzip") for e in first["encodings"].values()), first
        assets = [u for u in first["cache_control"] if "/static/" in u]
        assert assets, first
        for url in assets:
            assert "?v=" in url
            assert first["cache_control"][url] == "public, max-age=31536000, immutable", url
        # and came from the cache the second time
        assert not any("/static/" in u for u in f["repeat_view"]["fetched"]), (name, f)
