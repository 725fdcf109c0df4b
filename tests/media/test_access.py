"""Who may upload and see media; signed file URLs; documents with Range; the API's shapes;
playback state (data saver, resume position)."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from lms.media import services
from tests.conftest import bearer, login
from tests.media.test_uploads import _pdf


@pytest.fixture
def document(db_session, teacher, tmp_path):
    pdf = tmp_path / "Hướng dẫn.pdf"
    pdf.write_bytes(_pdf(b"Safety first"))
    asset, _dup = services.ingest_file(
        teacher, pdf, kind="document", filename="Hướng dẫn.pdf", title="Safety"
    )
    assert asset.status == "ready"
    return asset


def test_student_cannot_upload(client, make, tmp_path):
    inst = make.institution()
    student = make.user("student", inst)
    login(client, student)
    assert client.get("/media/upload").status_code == 403
    headers = bearer(client, student)
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(_pdf(b"x"))
    resp = client.post(
        "/api/v1/media",
        data={"file": (pdf.open("rb"), "a.pdf"), "kind": "document"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 403 and resp.content_type == "application/problem+json"
    resp = client.post(
        "/api/v1/media/uploads",
        json={"kind": "video", "filename": "a.mp4", "size": 10},
        headers=headers,
    )
    assert resp.status_code == 403


def test_visibility_owner_colleagues_others_and_vouchers(client, make, teacher, document):
    same_inst = teacher.active_memberships()[0].institution
    colleague = make.user("teacher", same_inst)
    registrar = make.user("registrar", same_inst)
    outsider = make.user("teacher", make.institution())
    student = make.user("student", make.institution())
    for user, status in ((teacher, 200), (colleague, 200), (registrar, 200), (outsider, 403)):
        headers = bearer(client, user)
        assert client.get(f"/api/v1/media/{document.id}", headers=headers).status_code == status
    login(client, outsider)
    assert client.get(f"/media/{document.id}").status_code == 403
    client.post("/logout")
    assert client.get(f"/media/{document.id}").status_code == 401
    assert (
        client.get("/api/v1/media/nonexistent", headers=bearer(client, teacher)).status_code == 404
    )

    # a higher domain (the catalogue) vouches for a student of a lesson using the asset
    def lesson_check(user, asset):
        return user is not None and user.id == student.id and asset.id == document.id

    services.register_view_check(lesson_check)
    try:
        assert services.may_view(student, document)
        assert not services.may_view(outsider, document)
        assert (
            client.get(f"/api/v1/media/{document.id}", headers=bearer(client, student)).status_code
            == 200
        )
    finally:
        services._VIEW_CHECKS.remove(lesson_check)
    # only the owner and institution admins manage
    assert not services.can(colleague, "media.manage", document)
    admin = make.user("admin", same_inst)
    assert services.can(admin, "media.manage", document)
    resp = client.post(f"/api/v1/media/{document.id}/retry", headers=bearer(client, colleague))
    assert resp.status_code == 403


def test_documents_are_served_inline_or_as_download_with_range(app, client, teacher, document):
    headers = bearer(client, teacher)
    body = client.get(f"/api/v1/media/{document.id}", headers=headers).json
    url = body["document_url"]
    whole = client.get(url)
    assert whole.status_code == 200 and whole.mimetype == "application/pdf"
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    assert whole.headers["Accept-Ranges"] == "bytes"
    disposition = whole.headers["Content-Disposition"]
    assert (
        disposition.startswith("inline;") and "filename*=UTF-8''H%C6%B0%E1%BB%9Bng" in disposition
    )
    part = client.get(url, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == b"%PDF-1.4"
    assert part.headers["Content-Range"] == f"bytes 0-7/{len(whole.data)}"
    tail = client.get(url, headers={"Range": "bytes=-6"})
    assert tail.status_code == 206 and tail.data == whole.data[-6:]
    assert client.get(url, headers={"Range": "bytes=99999-"}).status_code == 416
    download = client.get(url + "?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_signed_urls_cannot_be_forged_or_walked(client, teacher, document):
    headers = bearer(client, teacher)
    url = client.get(f"/api/v1/media/{document.id}", headers=headers).json["document_url"]
    prefix, token, name = url.rsplit("/", 2)
    assert client.get(f"{prefix}/{token[:-2]}xx/{name}").status_code == 404
    assert client.get(f"{prefix}/{token}/../original.pdf").status_code == 404
    assert client.get(f"{prefix}/{token}/original.pdf").status_code == 404
    assert client.get(f"{prefix}/{token}/hls/master.m3u8").status_code == 404


def test_api_shapes_and_openapi(client, teacher, document):
    headers = bearer(client, teacher)
    body = client.get(f"/api/v1/media/{document.id}", headers=headers).json
    assert set(body) >= {
        "id",
        "status",
        "progress",
        "duration",
        "hls_url",
        "renditions",
        "subtitles",
        "error",
    }
    assert body["status"] == "ready" and body["renditions"] == [] and body["error"] is None
    listing = client.get("/api/v1/media", headers=headers).json
    assert listing["total"] == 1 and listing["items"][0]["id"] == document.id
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    for path in (
        "/api/v1/media",
        "/api/v1/media/{asset_id}",
        "/api/v1/media/uploads",
        "/api/v1/media/uploads/{upload_id}/chunk",
        "/api/v1/media/uploads/{upload_id}/parts",
        "/api/v1/media/uploads/{upload_id}/complete",
    ):
        assert path in spec["paths"], path
    post = spec["paths"]["/api/v1/media"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert "202" in post["responses"]


def test_retry_is_refused_for_ready_assets(client, teacher, document):
    resp = client.post(f"/api/v1/media/{document.id}/retry", headers=bearer(client, teacher))
    assert resp.status_code == 409 and resp.content_type == "application/problem+json"


def test_data_saver_and_positions_are_per_user(app, client, make, teacher, document, db_session):
    colleague = make.user("teacher", teacher.active_memberships()[0].institution)
    assert services.data_saver(colleague) == "off"
    login(client, colleague)
    resp = client.post("/media/preferences", data={"data_saver": "audio", "next": "/media/x"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/media/x"
    assert services.data_saver(colleague) == "audio"
    assert services.data_saver(teacher) == "off"
    assert client.post("/media/preferences", data={"data_saver": "8k"}).status_code == 422
    headers = bearer(client, colleague)
    resp = client.put("/api/v1/media/preferences", json={"data_saver": "240p"}, headers=headers)
    assert resp.json == {"data_saver": "240p"}
    resp = client.put(
        f"/api/v1/media/{document.id}/position", json={"seconds": 42.5}, headers=headers
    )
    assert resp.status_code == 200 and resp.json == {"seconds": 42.5}
    assert services.position(colleague, document) == 42.5
    assert services.position(teacher, document) == 0.0
    resp = client.post(f"/media/{document.id}/position", data={"seconds": "12"})
    assert resp.status_code == 200 and services.position(colleague, document) == 12.0
    outsider = make.user("teacher", make.institution())
    resp = client.put(
        f"/api/v1/media/{document.id}/position",
        json={"seconds": 1},
        headers=bearer(client, outsider),
    )
    assert resp.status_code == 403
