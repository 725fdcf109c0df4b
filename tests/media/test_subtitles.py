"""Subtitles: SRT converted to WebVTT, VTT cleaned, one track per language."""

from __future__ import annotations

import pytest

from lms.core.storage import get_storage
from lms.media import services, subtitles
from tests.conftest import login
from tests.media.conftest import make_clip

SRT = """1
00:00:00,000 --> 00:00:02,500
Xin chào <b>các bạn</b>!
<script>alert(1)</script>

2
00:00:02,500 --> 00:00:04,000
Bài học hôm nay: <font color="red">động cơ</font>
"""


def test_srt_becomes_webvtt():
    vtt, fmt, count = subtitles.convert(SRT.encode("utf-8-sig"))
    assert fmt == "srt" and count == 2
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n")
    assert "Xin chào <b>các bạn</b>!" in vtt
    assert "<script>" not in vtt and "<font" not in vtt and "alert(1)" in vtt
    assert "00:00:02.500 --> 00:00:04.000\nBài học hôm nay: động cơ" in vtt


def test_vtt_is_kept_and_cleaned():
    source = (
        "WEBVTT\n\nNOTE made by hand\n\n"
        "intro\n00:01.000 --> 00:02.000 align:start\n<i>Hi</i> <c.x>there</c>\n"
    )
    vtt, fmt, count = subtitles.convert(source.encode())
    assert fmt == "vtt" and count == 1
    assert "00:00:01.000 --> 00:00:02.000\n<i>Hi</i> there" in vtt


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\xff\x00\xfe garbage \x81", "encoding"),
        (b"", "empty"),
        (b"1\n00:00:01,000 --> 00:00:00,500\nbackwards\n", "format"),
        (b"just some text\nwith lines\n", "format"),
    ],
)
def test_bad_subtitles_are_refused(data, reason):
    with pytest.raises(subtitles.SubtitleError) as err:
        subtitles.convert(data)
    assert err.value.reason == reason


@pytest.mark.backend("sqlite")
def test_teacher_adds_and_replaces_subtitles_per_language(
    app, client, teacher, tmp_path, db_session
):
    clip = make_clip(tmp_path / "c.mp4", seconds=2)
    asset, _dup = services.ingest_file(teacher, clip, kind="video", filename="c.mp4")
    login(client, teacher)
    resp = client.post(
        f"/media/{asset.id}/subtitles",
        data={"lang": "vi", "file": (tmp_path.joinpath("vi.srt").open("wb+"), "vi.srt")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    page = client.get(f"/media/{asset.id}").text
    assert "The subtitle file contains no subtitles." in page
    for lang, text in (("vi", SRT), ("zh_Hans", SRT.replace("Xin chào", "大家好"))):
        path = tmp_path / f"{lang}.srt"
        path.write_text(text)
        resp = client.post(
            f"/media/{asset.id}/subtitles",
            data={"lang": lang, "file": (path.open("rb"), f"{lang}.srt")},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 302
    db_session.refresh(asset)
    assert [s.lang for s in asset.subtitles] == ["vi", "zh_Hans"]
    with app.test_request_context():
        body = services.describe(asset, teacher)
    vtt = client.get(next(s["url"] for s in body["subtitles"] if s["lang"] == "zh_Hans"))
    assert vtt.status_code == 200 and vtt.mimetype == "text/vtt"
    assert "大家好" in vtt.text and vtt.text.startswith("WEBVTT")
    # replacing a language keeps one track
    path = tmp_path / "vi2.vtt"
    path.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nMới\n")
    client.post(
        f"/media/{asset.id}/subtitles",
        data={"lang": "vi", "file": (path.open("rb"), "vi.vtt")},
        content_type="multipart/form-data",
    )
    db_session.refresh(asset)
    assert len(asset.subtitles) == 2
    vi = services.subtitle(asset, "vi")
    assert vi.source_format == "vtt" and get_storage().read_bytes(vi.key).decode().endswith("Mới\n")
    player = client.get(f"/media/{asset.id}").text
    assert 'srclang="vi"' in player and 'srclang="zh-Hans"' in player
