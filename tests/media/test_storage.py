"""The one storage interface, on both backends: a local folder and S3 over real HTTP."""

from __future__ import annotations

import urllib.request

import pytest

from lms.core.storage import LocalStorage, check_key
from tests.media.conftest import s3_store


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "root")
    return s3_store(request.getfixturevalue("moto_server"), tmp_path / "scratch")


def test_objects_round_trip(backend, tmp_path):
    src = tmp_path / "a.bin"
    src.write_bytes(b"0123456789" * 1000)
    backend.put_file("media/x/original.mp4", src, "video/mp4")
    assert backend.exists("media/x/original.mp4")
    assert backend.size("media/x/original.mp4") == 10_000
    assert backend.read_range("media/x/original.mp4", 5, 7) == b"5678901"
    backend.put_bytes("media/x/notes.vtt", b"WEBVTT\n")
    assert backend.list("media/x") == ["media/x/notes.vtt", "media/x/original.mp4"]
    backend.copy("media/x/notes.vtt", "media/y/notes.vtt")
    assert backend.read_bytes("media/y/notes.vtt") == b"WEBVTT\n"
    out = tmp_path / "out.bin"
    backend.download("media/x/original.mp4", out)
    assert out.read_bytes() == src.read_bytes()
    backend.delete("media/x/notes.vtt")
    backend.delete("media/x/notes.vtt")  # missing is fine
    assert not backend.exists("media/x/notes.vtt")
    with pytest.raises(FileNotFoundError):
        backend.size("media/none")
    with pytest.raises(FileNotFoundError):
        backend.download("media/none", out)


def test_publish_dir_is_all_or_nothing_and_never_overwrites(backend, tmp_path):
    folder = tmp_path / "out"
    (folder / "hls" / "240p").mkdir(parents=True)
    (folder / "hls" / "master.m3u8").write_text("#EXTM3U\n")
    (folder / "hls" / "240p" / "seg_00000.ts").write_bytes(b"\x47" * 188)
    backend.publish_dir(folder, "media/a/v/1")
    assert backend.list("media/a/v/1") == [
        "media/a/v/1/hls/240p/seg_00000.ts",
        "media/a/v/1/hls/master.m3u8",
    ]
    with pytest.raises(FileExistsError):
        backend.publish_dir(folder, "media/a/v/1")
    backend.delete_prefix("media/a")
    assert backend.list("media/a") == []


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", ".hidden", "a//b", "a/../b", "", "a b"])
def test_keys_are_checked(key):
    with pytest.raises(ValueError):
        check_key(key)


def test_s3_presigned_get_supports_range_and_headers(moto_server, tmp_path):
    store = s3_store(moto_server, tmp_path / "scratch")
    store.put_bytes("media/d/original.pdf", b"%PDF-1.4 hello %%EOF")
    url = store.presigned_get(
        "media/d/original.pdf",
        expires=60,
        content_type="application/pdf",
        disposition='inline; filename="a.pdf"',
    )
    req = urllib.request.Request(url, headers={"Range": "bytes=0-7"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 206
        assert resp.read() == b"%PDF-1.4"
        assert resp.headers["Content-Type"] == "application/pdf"
        assert resp.headers["Content-Disposition"] == 'inline; filename="a.pdf"'
    assert store.browser_origin() == moto_server


def test_s3_presigned_multipart(moto_server, tmp_path):
    store = s3_store(moto_server, tmp_path / "scratch")
    upload_id = store.create_multipart("staging/u1", "application/octet-stream")
    parts = [b"a" * (5 * 1024 * 1024), b"b" * 1000]
    for number, body in ((2, parts[1]), (1, parts[0])):
        url = store.presign_part("staging/u1", upload_id, number, 60)
        req = urllib.request.Request(
            url, data=body, method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200
    listed = store.list_parts("staging/u1", upload_id)
    assert [(p.part_number, p.size) for p in listed] == [(1, 5 * 1024 * 1024), (2, 1000)]
    store.complete_multipart("staging/u1", upload_id, listed)
    assert store.read_range("staging/u1", 5 * 1024 * 1024 - 1, 3) == b"abb"
    other = store.create_multipart("staging/u2", "application/octet-stream")
    store.abort_multipart("staging/u2", other)
    with pytest.raises(FileNotFoundError):
        store.list_parts("staging/u2", other)
