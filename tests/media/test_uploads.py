"""Resumable uploads: chunks to the app (resuming after a chunk cut off mid-way) and
presigned multipart straight to S3 over real HTTP (moto's server on loopback)."""

from __future__ import annotations

import hashlib
import io
import urllib.request

import pytest
from sqlalchemy import func, select

from lms.core.storage import get_storage
from lms.media import transcode, uploads
from lms.media.models import MediaAsset, MediaUpload
from tests.conftest import bearer, login
from tests.media.conftest import decodes, make_clip

CHUNK = 64 * 1024


@pytest.fixture
def small_chunks(app):
    app.config["MEDIA_CHUNK_BYTES"] = CHUNK
    yield CHUNK
    app.config["MEDIA_CHUNK_BYTES"] = 8 * 1024 * 1024


class Dropping(io.RawIOBase):
    """A request body whose connection drops after ``cut`` bytes."""

    def __init__(self, data: bytes, cut: int):
        self.data, self.cut, self.pos = data, cut, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: len(self.data) + offset}[whence]
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos >= self.cut:
            raise ConnectionResetError("client went away")
        n = min(len(buffer), self.cut - self.pos)
        buffer[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def _put(client, url, data, headers, **kw):
    return client.put(
        url, data=data, headers={**headers, "Content-Type": "application/octet-stream"}, **kw
    )


@pytest.mark.backend("sqlite")
def test_chunked_upload_resumes_after_an_interrupted_chunk(
    client, teacher, tmp_path, small_chunks, db_session
):
    clip = make_clip(tmp_path / "lecture.mp4", seconds=3)
    data = clip.read_bytes()
    assert len(data) > 3 * CHUNK
    headers = bearer(client, teacher)
    resp = client.post(
        "/api/v1/media/uploads",
        json={"kind": "video", "filename": "Bài giảng 1.mp4", "size": len(data)},
        headers=headers,
    )
    assert resp.status_code == 201, resp.json
    state = resp.json
    assert state["backend"] == "local" and state["offset"] == 0 and state["chunk_size"] == CHUNK
    base = f"/api/v1/media/uploads/{state['id']}"

    # first chunk arrives whole
    resp = _put(client, f"{base}/chunk?offset=0", data[:CHUNK], headers)
    assert resp.status_code == 200 and resp.json == {"offset": CHUNK}

    # the second is cut off mid-way: nothing of it is kept
    body = Dropping(data[CHUNK : 2 * CHUNK], cut=CHUNK // 3)
    resp = client.put(
        f"{base}/chunk?offset={CHUNK}",
        input_stream=body,
        headers={
            **headers,
            "Content-Type": "application/octet-stream",
            "Content-Length": str(CHUNK),
        },
    )
    assert resp.status_code == 422
    assert client.get(base, headers=headers).json["offset"] == CHUNK

    # a chunk sent for the wrong place is refused with the right offset
    resp = _put(client, f"{base}/chunk?offset={2 * CHUNK}", data[2 * CHUNK : 3 * CHUNK], headers)
    assert resp.status_code == 409 and resp.json["type"].endswith("/upload-offset")

    # completing too early is refused
    assert client.post(f"{base}/complete", headers=headers).status_code == 409

    # resume from where the server says
    offset = client.get(base, headers=headers).json["offset"]
    while offset < len(data):
        resp = _put(client, f"{base}/chunk?offset={offset}", data[offset : offset + CHUNK], headers)
        assert resp.status_code == 200, resp.json
        offset = resp.json["offset"]

    resp = client.post(f"{base}/complete", headers=headers)
    assert resp.status_code == 202 and resp.json["duplicate"] is False
    asset = db_session.get(MediaAsset, resp.json["id"])
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert asset.size == len(data) and asset.original_filename == "Bài giảng 1.mp4"
    assert asset.title == "Bài giảng 1" and asset.status == "ready"
    assert asset.original_key == f"media/{asset.id}/original.mp4"  # chosen by the server
    assert get_storage().read_bytes(asset.original_key) == data

    # completing again is idempotent: the same asset, nothing new
    again = client.post(f"{base}/complete", headers=headers)
    assert again.status_code == 202 and again.json["id"] == asset.id
    assert db_session.scalar(select(func.count()).select_from(MediaAsset)) == 1


def test_same_bytes_again_are_detected_as_duplicate(client, teacher, tmp_path, db_session):
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(_pdf(b"Torque settings"))
    headers = bearer(client, teacher)
    first = client.post(
        "/api/v1/media",
        data={"file": (pdf.open("rb"), "handout.pdf"), "kind": "document"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert first.status_code == 202 and first.json["duplicate"] is False
    second = client.post(
        "/api/v1/media",
        data={"file": (pdf.open("rb"), "copy.pdf"), "kind": "document"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert second.status_code == 200
    assert second.json == {"id": first.json["id"], "status": "ready", "duplicate": True}
    assert db_session.scalar(select(func.count()).select_from(MediaAsset)) == 1
    assert len(get_storage().list("media")) == 1


def test_plain_form_upload_works_without_javascript(client, teacher, tmp_path, db_session):
    login(client, teacher)
    page = client.get("/media/upload")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(_pdf(b"Guide"))
    resp = client.post(
        "/media/upload",
        data={"file": (pdf.open("rb"), "guide.pdf"), "kind": "document", "title": "Guide"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    asset = db_session.scalar(select(MediaAsset))
    assert resp.headers["Location"] == f"/media/{asset.id}"
    assert asset.status == "ready" and asset.page_count == 1
    listing = client.get("/media/")
    assert "Guide" in listing.text


def test_browser_uploader_endpoints_use_the_session_and_answer_problems(
    client, teacher, tmp_path, db_session
):
    login(client, teacher)
    resp = client.post("/media/uploads", json={"kind": "video", "filename": "a.mp4", "size": 0})
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    resp = client.post("/media/uploads", json={"kind": "video", "filename": "a.mp4", "size": 10})
    assert resp.status_code == 201 and resp.json["backend"] == "local"
    upload_id = resp.json["id"]
    assert client.get(f"/media/uploads/{upload_id}").json["offset"] == 0
    assert client.delete(f"/media/uploads/{upload_id}").status_code == 204
    assert db_session.get(MediaUpload, upload_id).status == "aborted"
    client.post("/logout")
    resp = client.post("/media/uploads", json={"kind": "video", "filename": "a.mp4", "size": 10})
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"


@pytest.mark.backend("sqlite")
def test_presigned_multipart_upload_to_s3_then_the_whole_flow_over_http(
    client, teacher, tmp_path, s3, app, db_session
):
    app.config["MEDIA_CHUNK_BYTES"] = 5 * 1024 * 1024  # S3's smallest part
    try:
        # lossless, so that the file needs more than one 5 MiB part
        clip = make_clip(
            tmp_path / "lecture.mp4",
            width=480,
            height=360,
            seconds=6,
            extra=("-qp", "0", "-g", "1", "-pix_fmt", "yuv444p"),
        )
        data = clip.read_bytes()
        headers = bearer(client, teacher)
        resp = client.post(
            "/api/v1/media/uploads",
            json={"kind": "video", "filename": "lecture.mp4", "size": len(data)},
            headers=headers,
        )
        assert resp.status_code == 201
        state = resp.json
        assert state["backend"] == "s3"
        base = f"/api/v1/media/uploads/{state['id']}"
        size = state["chunk_size"]
        count = -(-len(data) // size)
        assert count >= 2
        urls = client.post(
            f"{base}/parts", json={"part_numbers": list(range(1, count + 1))}, headers=headers
        ).json["parts"]
        # the browser PUTs each part straight to storage; send the last one first and
        # "lose" the connection before part 1, then resume from what storage holds
        for part in reversed(urls[1:]):
            start = (part["part_number"] - 1) * size
            _http_put(part["url"], data[start : start + size])
        listed = client.get(base, headers=headers).json
        assert [p["part_number"] for p in listed["parts"]] == list(range(2, count + 1))
        assert client.post(f"{base}/complete", headers=headers).status_code == 409
        _http_put(urls[0]["url"], data[:size])

        resp = client.post(f"{base}/complete", headers=headers)
        assert resp.status_code == 202, resp.json
        asset = db_session.get(MediaAsset, resp.json["id"])
        assert asset.status == "ready", asset.error_code
        assert asset.sha256 == hashlib.sha256(data).hexdigest()
        assert s3.read_bytes(asset.original_key) == data
        assert not s3.exists(f"staging/{state['id']}")  # staging object removed
        assert [r["height"] for r in asset.renditions] == [360, 240, 0]

        body = client.get(f"/api/v1/media/{asset.id}", headers=headers).json
        master = client.get(body["hls_url"])
        assert master.status_code == 200  # playlists come through the app
        variants = transcode.parse_master(master.text)
        hls_base = body["hls_url"].rsplit("/", 1)[0]
        playlist = client.get(f"{hls_base}/{variants[0]['uri']}").text
        segments, _total, complete = transcode.media_playlist(playlist)
        assert complete
        seg = client.get(f"{hls_base}/{variants[0]['uri'].split('/')[0]}/{segments[0]}")
        assert seg.status_code == 302  # segments straight from storage (presigned)
        target = seg.headers["Location"]
        assert target.startswith(s3.endpoint_url)
        with urllib.request.urlopen(target, timeout=10) as fh:
            (tmp_path / "seg.ts").write_bytes(fh.read())
        assert decodes(tmp_path / "seg.ts")["video"] > 0
        assert s3.list(f"media/{asset.id}/v")  # published under the asset's prefix
    finally:
        app.config["MEDIA_CHUNK_BYTES"] = 8 * 1024 * 1024


def _http_put(url: str, data: bytes) -> None:
    req = urllib.request.Request(
        url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
        assert resp.headers["ETag"]


def _pdf(text: bytes) -> bytes:
    """A minimal valid one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = b"BT /F1 12 Tf 20 100 Td (" + text + b") Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_services_refuse_foreign_uploads(db_session, make, teacher):
    upload = uploads.start_upload(teacher, kind="video", filename="a.mp4", size=100)
    other = make.user("teacher", make.institution())
    with pytest.raises(Exception) as err:
        uploads.get_upload(other, upload.id)
    assert getattr(err.value, "status", None) == 404
