"""The adaptive ladder: real ffmpeg on clips generated here; segments that decode."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from lms.core.storage import get_storage
from lms.media import services, transcode
from lms.media.models import MediaAsset
from tests.conftest import bearer
from tests.media.conftest import decodes, make_clip

pytestmark = pytest.mark.backend("sqlite")  # ffmpeg work does not depend on the database


def _fetch(client, url: str) -> bytes:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data()


def test_720p_clip_becomes_four_renditions_plus_audio_whose_segments_decode(
    client, teacher, tmp_path
):
    clip = make_clip(tmp_path / "lecture.mp4", width=1280, height=720, seconds=20)
    headers = bearer(client, teacher)
    with clip.open("rb") as fh:
        resp = client.post(
            "/api/v1/media",
            data={"file": (fh, "lecture.mp4"), "kind": "video", "title": "Engine repair 1"},
            headers=headers,
            content_type="multipart/form-data",
        )
    assert resp.status_code == 202, resp.json
    assert set(resp.json) >= {"id", "status"}
    body = client.get(f"/api/v1/media/{resp.json['id']}", headers=headers).json
    assert body["status"] == "ready" and body["progress"] == 100 and body["error"] is None
    assert body["duration"] == pytest.approx(20, abs=0.2)
    heights = [r["height"] for r in body["renditions"]]
    assert heights == [720, 480, 360, 240, 0]  # 0: audio only
    assert all(r["bandwidth"] > 0 for r in body["renditions"])

    master = _fetch(client, body["hls_url"]).decode()
    variants = transcode.parse_master(master)
    assert [v["height"] for v in variants] == [720, 480, 360, 240, 0]
    assert variants[-1]["codecs"] == "mp4a.40.2"
    base = body["hls_url"].rsplit("/", 1)[0]
    for v in variants:
        playlist = _fetch(client, f"{base}/{v['uri']}").decode()
        segments, total, complete = transcode.media_playlist(playlist)
        assert complete and total == pytest.approx(20, abs=0.5)
        assert len(segments) == 4  # 6-second segments: 6 + 6 + 6 + 2
        assert "#EXT-X-TARGETDURATION:6" in playlist
        seg = tmp_path / f"{v['height']}.ts"
        seg.write_bytes(_fetch(client, f"{base}/{v['uri'].rsplit('/', 1)[0]}/{segments[1]}"))
        decoded = decodes(seg)
        assert decoded["audio"] > 0
        assert decoded["video"] == (150 if v["height"] else 0)  # 6 s at 25 fps
    fallback = tmp_path / "fallback.mp4"
    fallback.write_bytes(_fetch(client, body["mp4_url"]))
    assert decodes(fallback, "mp4")["video"] == 500
    assert _fetch(client, body["poster_url"])[:3] == b"\xff\xd8\xff"

    asset = services.get_asset(body["id"])
    store = get_storage()
    assert store.exists(asset.original_key)  # the original is kept
    assert asset.thumbnails == 2
    assert asset.codecs == {"video": "h264", "audio": "aac"}


def test_small_clip_yields_only_renditions_up_to_its_height(db_session, teacher, tmp_path):
    clip = make_clip(tmp_path / "small.mp4", width=320, height=240, seconds=3)
    asset, duplicate = services.ingest_file(teacher, clip, kind="video", filename="small.mp4")
    assert not duplicate
    assert asset.status == "ready"
    assert [(r["name"], r["height"]) for r in asset.renditions] == [("240p", 240), ("audio", 0)]
    assert all(r["height"] <= 240 for r in asset.renditions)


def test_tiny_source_gets_one_rung_at_its_own_height_and_no_audio_rendition(
    db_session, teacher, tmp_path
):
    clip = make_clip(tmp_path / "tiny.mkv", width=176, height=144, seconds=2, audio=False)
    asset, _dup = services.ingest_file(teacher, clip, kind="video", filename="tiny.mkv")
    assert asset.status == "ready", asset.error_code
    assert [(r["name"], r["height"]) for r in asset.renditions] == [("144p", 144)]
    assert asset.container == "matroska"


def test_plan_never_goes_above_the_source():
    from lms.media.ffmpeg import Probe

    def names(w, h, rotation=0):
        return [r.name for r in transcode.plan(Probe(width=w, height=h, rotation=rotation))]

    assert names(1920, 1080) == ["720p", "480p", "360p", "240p"]
    assert names(854, 480) == ["480p", "360p", "240p"]
    assert names(640, 360) == ["360p", "240p"]
    assert names(1080, 1920, rotation=0) == ["720p", "480p", "360p", "240p"]
    assert names(640, 360, rotation=90) == ["480p", "360p", "240p"]  # shown 360×640


def test_ladder_is_one_ffmpeg_run_that_decodes_the_source_once(tmp_path):
    from lms.media.ffmpeg import Probe

    info = Probe(duration=20, width=1280, height=720, fps=25, video_codec="h264", audio_codec="aac")
    args, rungs = transcode.build_args(tmp_path / "in.mp4", "mp4", info, tmp_path / "out")
    assert args.count("-i") == 1
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith("[0:v]split=7")  # 4 rungs, MP4 fallback, thumbnails, poster
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    assert args[args.index("-f") + 1] == "mov"
    stream_map = args[args.index("-var_stream_map") + 1]
    assert stream_map.endswith("a:4,name:audio")
    assert args[args.index("-hls_time") + 1] == "6"
    assert len(rungs) == 4


def test_failed_job_says_why_in_the_teachers_language(client, make, tmp_path, db_session):
    """A Matroska file cut short keeps a whole header, so it passes the upload checks; the
    job then finds the media stops early and fails: the asset says why, in the language
    of whoever asks, and nothing is published."""
    inst = make.institution()
    teacher = make.user("teacher", inst, locale="zh_Hans")
    clip = make_clip(tmp_path / "cut.mkv", seconds=12)
    data = clip.read_bytes()
    cut = tmp_path / "cut-short.mkv"
    cut.write_bytes(data[: len(data) // 3])
    headers = bearer(client, teacher)
    with cut.open("rb") as fh:
        resp = client.post(
            "/api/v1/media",
            data={"file": (fh, "cut.mkv")},
            headers=headers,
            content_type="multipart/form-data",
        )
    assert resp.status_code == 202, resp.json
    asset = db_session.get(MediaAsset, resp.json["id"])
    assert asset.status == "failed" and asset.error_code == "corrupt"
    assert asset.output_prefix is None
    assert get_storage().list(f"media/{asset.id}/v") == []
    assert get_storage().exists(asset.original_key)  # nothing the teacher sent is lost
    zh = client.get(f"/api/v1/media/{asset.id}?lang=zh_Hans", headers=headers).json
    en = client.get(f"/api/v1/media/{asset.id}?lang=en", headers=headers).json
    assert zh["status"] == "failed" and zh["hls_url"] is None
    assert en["error"] == (
        "The file is damaged or incomplete. Export it again and upload it once more."
    )
    with force_locale("zh_Hans"):
        assert zh["error"] == services.error_message("corrupt")
