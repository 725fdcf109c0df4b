"""Upload validation: type from the bytes, truncation, playlists, codecs, sizes — each
refused with a clear error, ffmpeg reading no other file, and nothing stored."""

from __future__ import annotations

import html
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from lms.core.storage import get_storage
from lms.media import ffmpeg, services, sniff
from lms.media.ffmpeg import FFmpegError
from lms.media.models import MediaAsset
from tests.conftest import login
from tests.live import POLL
from tests.media.conftest import make_clip


def _nothing_stored(db_session) -> None:
    assert db_session.scalar(select(func.count()).select_from(MediaAsset)) == 0
    store = get_storage()
    assert store.list("media") == []
    uploads = store.scratch_dir("uploads")
    assert list(uploads.iterdir()) == []


def _upload(client, path: Path, name: str, kind: str = "video"):
    with path.open("rb") as fh:
        return client.post(
            "/media/upload",
            data={"file": (fh, name), "kind": kind, "title": ""},
            content_type="multipart/form-data",
        )


@pytest.fixture
def sentinels(tmp_path):
    """A FIFO and an HTTP server that notice when anything opens them."""
    fifo = tmp_path / "secret.ts"
    os.mkfifo(fifo)
    opened = threading.Event()
    stop = threading.Event()

    def watch():  # a writer can open a FIFO without blocking only once a reader has it
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.002)
                continue
            opened.set()
            os.close(fd)
            return

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/segment.ts"
    yield fifo, url, opened, hits
    stop.set()
    server.shutdown()


def _playlist(fifo: Path, url: str) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\n"
        f"{fifo}\n#EXTINF:6.0,\nfile://{fifo}\n#EXTINF:6.0,\n{url}\n#EXT-X-ENDLIST\n"
    ).encode()


def test_text_file_renamed_mp4_is_not_a_video(client, teacher, tmp_path, db_session):
    login(client, teacher)
    fake = tmp_path / "lecture.mp4"
    fake.write_text("These are my lecture notes, not a video.\n" * 50)
    resp = _upload(client, fake, "lecture.mp4")
    assert resp.status_code == 422
    assert "This file is not a video." in resp.text
    _nothing_stored(db_session)


def test_truncated_mp4_is_corrupt(client, teacher, tmp_path, db_session):
    login(client, teacher)
    clip = make_clip(tmp_path / "whole.mp4", seconds=3)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    resp = _upload(client, cut, "lecture.mp4")
    assert resp.status_code == 422
    assert "The file is damaged or incomplete." in resp.text
    _nothing_stored(db_session)


def test_playlist_disguised_as_video_is_refused_and_reads_nothing(
    client, teacher, tmp_path, db_session, sentinels
):
    fifo, url, opened, hits = sentinels
    login(client, teacher)
    disguised = tmp_path / "lecture.mp4"
    disguised.write_bytes(_playlist(fifo, url))
    resp = _upload(client, disguised, "lecture.mp4")
    assert resp.status_code == 422
    assert "Playlists cannot be uploaded." in resp.text
    _nothing_stored(db_session)
    assert not opened.is_set() and hits == []


@pytest.mark.parametrize("container", ["mp4", "matroska", "mpegts"])
def test_ffmpeg_itself_never_follows_a_playlist(app, tmp_path, sentinels, container):
    """Even if sniffing were fooled, ffmpeg reads an upload only with the demuxer chosen
    from the sniffed type and the ``file`` protocol: the playlist's references are never
    opened."""
    fifo, url, opened, hits = sentinels
    disguised = tmp_path / "lecture.bin"
    disguised.write_bytes(_playlist(fifo, url))
    started = time.monotonic()
    with app.app_context(), pytest.raises(FFmpegError) as err:
        ffmpeg.probe(disguised, container)
    assert err.value.code in {"corrupt", "not_video"}
    assert time.monotonic() - started < ffmpeg.PROBE_TIMEOUT
    time.sleep(0.05)
    assert not opened.is_set(), "ffmpeg opened a file named in the playlist"
    assert hits == []


def test_the_sentinel_notices_a_playlist_being_followed(tmp_path, sentinels):
    """Control: had the playlist demuxer been allowed, ffmpeg would open the FIFO — so the
    test above can fail."""
    import subprocess

    from tests.media.conftest import ffmpeg_exe

    fifo, url, opened, _hits = sentinels
    playlist = tmp_path / "p.m3u8"
    playlist.write_bytes(_playlist(fifo, url))
    proc = subprocess.Popen(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "hls",
            "-allowed_extensions",
            "ALL",
            "-i",
            str(playlist),
            "-f",
            "null",
            "-",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert opened.wait(20)
    finally:
        proc.kill()
        proc.wait()


def test_probe_arguments_force_demuxer_and_file_protocol(tmp_path):
    args = ffmpeg.input_args(tmp_path / "x", "mp4")
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    assert args[args.index("-f") + 1] == "mov"
    assert args[args.index("-enable_drefs") + 1] == "0"
    assert args[-1].startswith("file:/")
    with pytest.raises(FFmpegError):
        ffmpeg.input_args(tmp_path / "x", "hls")


def test_unsupported_codec_is_refused(client, teacher, tmp_path, db_session):
    login(client, teacher)
    clip = make_clip(tmp_path / "lossless.mkv", seconds=1, vcodec="ffv1", audio=False)
    resp = _upload(client, clip, "lossless.mkv")
    assert resp.status_code == 422
    assert "The video uses a format we cannot convert." in resp.text
    _nothing_stored(db_session)


def test_audio_only_file_is_not_a_video(client, teacher, tmp_path, db_session):
    from tests.media.conftest import ffmpeg_exe

    login(client, teacher)
    audio = tmp_path / "talk.mp4"
    import subprocess

    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            "-c:a",
            "aac",
            str(audio),
        ],
        check=True,
    )
    resp = _upload(client, audio, "talk.mp4")
    assert resp.status_code == 422
    assert "This file is not a video." in resp.text
    _nothing_stored(db_session)


def test_too_large_and_empty(client, teacher, tmp_path, db_session, app):
    login(client, teacher)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    resp = _upload(client, empty, "empty.pdf", kind="document")
    assert resp.status_code == 422 and "The file is empty." in resp.text
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10) + b"\n%%EOF\n")
    app.config["MEDIA_MAX_DOCUMENT_MB"] = 1
    try:
        resp = _upload(client, big, "big.pdf", kind="document")
    finally:
        app.config["MEDIA_MAX_DOCUMENT_MB"] = 200
    assert resp.status_code == 422
    assert "The file is too large: the limit is 1 MiB." in resp.text
    _nothing_stored(db_session)


def test_documents_must_be_whole_pdfs(client, teacher, tmp_path, db_session):
    login(client, teacher)
    notes = tmp_path / "notes.pdf"
    notes.write_text("not a pdf")
    resp = _upload(client, notes, "notes.pdf", kind="document")
    assert resp.status_code == 422 and "Only PDF documents can be uploaded." in resp.text
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    resp = _upload(client, cut, "cut.pdf", kind="document")
    assert resp.status_code == 422 and "The file is damaged or incomplete." in resp.text
    _nothing_stored(db_session)


def test_errors_are_translated(client, teacher, tmp_path, db_session):
    login(client, teacher)
    fake = tmp_path / "x.mp4"
    fake.write_text("hello")
    client.post("/language", data={"lang": "vi", "next": "/"})
    vi = _upload(client, fake, "x.mp4").text
    assert 'lang="vi"' in vi
    with force_locale("vi"):
        assert html.escape(services.error_message("not_video")) in vi
    _nothing_stored(db_session)


@pytest.mark.parametrize(
    "head, container",
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "mov"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "image"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "matroska"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"%PDF-1.7\n", "pdf"),
        (b"\xef\xbb\xbf#EXTM3U\n#EXT-X-VERSION:3\n", "playlist"),
        (b"ffconcat version 1.0\nfile a.mp4\n", "playlist"),
        (b"hello world", "text"),
        (b"\x00\x01\x02\x03\xff\xfe", "unknown"),
    ],
)
def test_sniffing_reads_the_bytes(head, container):
    assert sniff.sniff(head).container == container


def test_iso_bmff_truncation_check(tmp_path):
    whole = make_clip(tmp_path / "w.mp4", seconds=1)
    assert not sniff.iso_bmff_truncated(whole)
    cut = tmp_path / "c.mp4"
    cut.write_bytes(whole.read_bytes()[:-100])
    assert sniff.iso_bmff_truncated(cut)
