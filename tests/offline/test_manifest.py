"""What saving a course offline takes: pages, the 240p (or audio-only) rendition, poster and
subtitles, with sizes read from the stored objects; only for those who may read the lessons.
The pack holds the same as static pages and a playable MP4 made by ffmpeg."""

from __future__ import annotations

import io
import subprocess
import zipfile

from lms.media import services as media
from tests.conftest import bearer, login
from tests.media.conftest import ffmpeg_exe, make_clip
from tests.offline.conftest import MASTER, publish_video, video_lesson

VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nXin ch\xc3\xa0o\n"


def _files() -> dict[str, bytes]:
    files = {"hls/master.m3u8": MASTER.encode(), "poster.jpg": b"\xff\xd8" + b"p" * 500}
    for name, seg in (("720p", 40_000), ("240p", 7_000), ("audio", 1_500)):
        files[f"hls/{name}/index.m3u8"] = (
            f"#EXTM3U\n#EXTINF:2,\nseg_00000.ts\n#EXT-X-ENDLIST\n{name}".encode()
        )
        files[f"hls/{name}/seg_00000.ts"] = b"G" * seg
        files[f"hls/{name}/seg_00001.ts"] = b"G" * (seg + 11)
    return files


def test_manifest_keeps_the_smallest_rendition_with_stored_sizes(client, teacher, course, student):
    files = _files()
    asset = publish_video(teacher, files, {"vi": VTT})
    lesson = video_lesson(teacher, course, asset)
    resp = client.get(f"/api/v1/courses/{course.code}/offline", headers=bearer(client, student))
    assert resp.status_code == 200, resp.json
    body = resp.json
    media_entries = [e for e in body["entries"] if e["kind"] not in ("page", "static")]
    by_kind: dict[str, list] = {}
    for e in media_entries:
        by_kind.setdefault(e["kind"], []).append(e)
    assert sorted(
        e["url"].rsplit("/", 2)[-2] + "/" + e["url"].rsplit("/", 1)[-1] for e in by_kind["video"]
    ) == ["240p/index.m3u8", "240p/seg_00000.ts", "240p/seg_00001.ts"]
    assert sorted(e["bytes"] for e in by_kind["video"]) == sorted(
        len(files[f"hls/240p/{n}"]) for n in ("index.m3u8", "seg_00000.ts", "seg_00001.ts")
    )
    assert by_kind["poster"][0]["bytes"] == len(files["poster.jpg"])
    assert by_kind["subtitle"][0]["bytes"] == len(VTT)
    assert all(e["lesson"] == lesson.key for e in media_entries)
    assert "720p" not in str(body) and "audio/" not in str(body["entries"])
    # the master playlist kept offline names only what was saved
    (master,) = body["playlists"]
    assert master["url"].endswith("/hls/master.m3u8")
    assert "240p/index.m3u8" in master["body"] and "720p" not in master["body"]
    assert "audio/index.m3u8" not in master["body"]
    pages = [e for e in body["entries"] if e["kind"] == "page"]
    assert any(p["url"] == f"/courses/{course.code}/lessons/{lesson.key}" for p in pages)
    assert body["total_bytes"] == sum(e["bytes"] or 0 for e in body["entries"]) + len(
        master["body"].encode()
    )
    assert body["total_bytes"] > 14_000


def test_audio_only_data_saver_keeps_the_audio_rendition(client, teacher, course, student):
    video_lesson(teacher, course, publish_video(teacher, _files()))
    media.set_data_saver(student, "audio")
    body = client.get(
        f"/api/v1/courses/{course.code}/offline", headers=bearer(client, student)
    ).json
    audio = [e for e in body["entries"] if e["kind"] == "audio"]
    assert len(audio) == 3 and not [e for e in body["entries"] if e["kind"] in ("video", "poster")]
    assert "audio/index.m3u8" in body["playlists"][0]["body"]


def test_only_readers_of_the_lessons_may_save(client, make, gx, course):
    outsider = make.user("student", gx)
    resp = client.get(f"/api/v1/courses/{course.code}/offline", headers=bearer(client, outsider))
    assert resp.status_code == 403
    login(client, outsider)
    assert client.get(f"/offline/courses/{course.code}/manifest.json").status_code == 403
    assert client.get(f"/offline/courses/{course.code}/pack.zip").status_code == 403


def test_offline_page_shows_the_estimate(client, teacher, course, student):
    video_lesson(teacher, course, publish_video(teacher, _files()))
    login(client, student)
    page = client.get("/offline?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-offline-course="{course.code}"' in html
    assert "kB" in html  # ≈ 16 kB from the stored objects
    assert "Download the pack (zip)" in html


def test_service_worker_is_served_for_the_whole_site(client):
    resp = client.get("/sw.js")
    assert resp.status_code == 200
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert resp.mimetype == "text/javascript"
    assert "no-cache" in resp.headers["Cache-Control"]


def _hls(tmp_path) -> dict[str, bytes]:
    """A real 2-second 240p HLS rendition made by ffmpeg from a generated clip."""
    clip = make_clip(tmp_path / "clip.mp4", width=426, height=240, seconds=2)
    out = tmp_path / "240p"
    out.mkdir()
    subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(clip),
            "-c",
            "copy",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_list_size",
            "0",
            "-hls_segment_filename",
            str(out / "seg_%05d.ts"),
            str(out / "index.m3u8"),
        ],
        check=True,
    )
    files = {"hls/master.m3u8": MASTER.encode(), "poster.jpg": b"\xff\xd8poster"}
    for path in out.iterdir():
        files[f"hls/240p/{path.name}"] = path.read_bytes()
    return files


def test_pack_is_static_pages_and_a_playable_mp4(client, teacher, course, student, tmp_path):
    video_lesson(teacher, course, publish_video(teacher, _hls(tmp_path), {"vi": VTT}))
    login(client, student)
    resp = client.get(f"/offline/courses/{course.code}/pack.zip?lang=en")
    assert resp.status_code == 200
    assert resp.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(resp.data))
    names = set(zf.namelist())
    assert {"index.html", "lessons/001-l1.html", "media/001.mp4", "media/001.vi.vtt"} <= names
    lesson_html = zf.read("lessons/001-l1.html").decode()
    assert 'src="../media/001.mp4"' in lesson_html and "../media/001.vi.vtt" in lesson_html
    assert "发动机" in lesson_html  # the lesson's text, as on the page
    assert "lessons/001-l1.html" in zf.read("index.html").decode()
    mp4 = tmp_path / "pack.mp4"
    mp4.write_bytes(zf.read("media/001.mp4"))
    assert mp4.read_bytes()[4:8] == b"ftyp"
    probe = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "error", "-i", str(mp4), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0 and not probe.stderr.strip()
