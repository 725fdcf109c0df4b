"""In headless Chromium: a teacher uploads a lecture with the resumable uploader (chunks,
progress bar), adds subtitles in two languages, and the video lesson plays through hls.js
and switches subtitles."""

from __future__ import annotations

import re

import pytest

from lms.demo import DEMO_PASSWORD
from lms.media.vendor import HLS_JS
from tests.browser.test_smoke import ARTIFACTS, browser  # noqa: F401  (the fixture)
from tests.conftest import need
from tests.live import live_server
from tests.media.conftest import make_clip

pytestmark = pytest.mark.browser

VI = "1\n00:00:00,000 --> 00:00:30,000\nXin chào các bạn\n"
ZH = "1\n00:00:00,000 --> 00:00:30,000\n大家好\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("media-browser")
    env = {"LMS_MEDIA_ROOT": str(tmp / "media"), "LMS_MEDIA_CHUNK_BYTES": str(96 * 1024)}
    with live_server(tmp, extra_env=env) as base:
        yield base


def test_upload_play_and_switch_subtitles(server, browser, tmp_path):  # noqa: F811
    need(HLS_JS.installed(), "hls.js in static/vendor (make install fetches it)")
    clip = make_clip(tmp_path / "lecture.mp4", width=426, height=240, seconds=8)
    assert clip.stat().st_size > 2 * 96 * 1024
    (tmp_path / "vi.srt").write_text(VI)
    (tmp_path / "zh.srt").write_text(ZH)
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page(locale="en-US", viewport={"width": 1000, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    chunks: list[str] = []
    page.on("request", lambda req: chunks.append(req.url) if "/chunk?" in req.url else None)

    page.goto(server + "/login")
    page.fill("#email", "teacher@demo.lms.test")
    page.fill("#password", DEMO_PASSWORD)
    page.locator("form.form [type=submit]").click()
    page.wait_for_url(server + "/")

    page.goto(server + "/media/upload")
    page.fill("#title", "Động cơ — bài 1")
    page.set_input_files("#file", str(clip))
    page.locator("form[data-uploader] [type=submit]").click()
    page.wait_for_selector("progress[data-upload-progress]:not([hidden])")
    page.wait_for_url(re.compile(r".*/media/[0-9a-f]{32}$"), timeout=120_000)
    assert len(chunks) >= 3  # sent in chunks, not one request
    assert page.locator("h1").inner_text() == "Động cơ — bài 1"

    for lang, name in (("vi", "vi.srt"), ("zh_Hans", "zh.srt")):
        page.select_option("#lang", lang)
        page.set_input_files("#file", str(tmp_path / name))
        page.locator("form[enctype] [type=submit]").last.click()
        page.wait_for_load_state()

    video = page.locator("[data-media-player] video")
    video.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-media-player] video').dataset.engine === 'hls.js'"
    )
    page.evaluate(
        "() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }"
    )
    page.wait_for_function(
        "() => document.querySelector('video').currentTime > 1.5", timeout=30_000
    )

    def showing() -> list[tuple[str, str, str]]:
        return [
            tuple(t)
            for t in page.evaluate(
                """() => Array.from(document.querySelector('video').textTracks).map(t =>
                 [t.language, t.mode,
                  t.activeCues && t.activeCues.length ? t.activeCues[0].text : ''])"""
            )
        ]

    select = page.locator("[data-subtitle-select]")
    assert select.is_visible()
    select.select_option("vi")
    page.wait_for_function(
        """() => Array.from(document.querySelector('video').textTracks).some(t =>
             t.language === 'vi' && t.mode === 'showing' && t.activeCues && t.activeCues.length)"""
    )
    assert ("vi", "showing", "Xin chào các bạn") in showing()
    select.select_option("zh-Hans")
    page.wait_for_function(
        """() => Array.from(document.querySelector('video').textTracks).some(t =>
             t.language === 'zh-Hans' && t.mode === 'showing' && t.activeCues
             && t.activeCues.length)"""
    )
    tracks = showing()
    assert ("zh-Hans", "showing", "大家好") in tracks
    assert ("vi", "disabled", "") in tracks
    page.screenshot(path=str(ARTIFACTS / "media-player.png"), full_page=True)

    # the position is remembered: a new visit resumes there
    page.evaluate("() => document.querySelector('video').pause()")
    page.wait_for_timeout(500)
    page.reload()
    page.wait_for_function(
        "() => document.querySelector('[data-media-player]').dataset.start > 1", timeout=10_000
    )
    assert not [e for e in errors if "Content Security Policy" in e or "hls" in e], errors
