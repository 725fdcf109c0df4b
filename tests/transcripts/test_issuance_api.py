"""The transcripts API for registrars: issue, read, download, re-issue, revoke."""

import json
from decimal import Decimal

from tests.conftest import bearer
from tests.credits.conftest import (  # noqa: F401  (fixtures)
    complete_course,
    make_course,
    percent_source,
    seeded,
    world,
)


def test_issue_download_reissue_revoke(client, make, world, percent_source, public_host):  # noqa: F811
    student = make.user("student", world["gx"], name_native="สมชาย ใจดี", name_latin="Somchai")
    complete_course(make, make_course(world["gx"], "GX-1"), student, percent_source, Decimal(95))
    reg = bearer(client, world["registrar"])
    me = bearer(client, student)
    assert (
        client.post("/api/v1/transcripts", json={"student": student.email}, headers=me).status_code
        == 403
    )
    first = client.post("/api/v1/transcripts", json={"student": student.email}, headers=reg)
    assert first.status_code == 201, first.json
    tid = first.json["id"]
    assert first.json["verification_url"].endswith(first.json["verification_code"])
    credential = client.get(f"/api/v1/transcripts/{tid}/credential", headers=me)
    assert credential.status_code == 200 and credential.mimetype == "application/vc"
    document = json.loads(credential.data)
    verified = client.post("/api/v1/credentials/verify", json=document)
    assert verified.json["status"] == "valid"
    printable = client.get(f"/api/v1/transcripts/{tid}/pdf", headers=me)
    assert printable.mimetype == "application/pdf" and printable.data.startswith(b"%PDF-")
    stranger = bearer(client, make.user("student", world["gx"]))
    assert client.get(f"/api/v1/transcripts/{tid}", headers=stranger).status_code == 403
    second = client.post("/api/v1/transcripts", json={"student": student.email}, headers=reg)
    assert second.json["version"] == 2 and second.json["supersedes"] == tid
    assert client.get(f"/api/v1/transcripts/{tid}", headers=me).json["status"] == "superseded"
    assert client.post("/api/v1/credentials/verify", json=document).json["status"] == ("superseded")
    revoked = client.post(
        f"/api/v1/transcripts/{second.json['id']}/revoke", json={"reason": "error"}, headers=reg
    )
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    mine = client.get("/api/v1/transcripts", headers=me).json["items"]
    assert [t["status"] for t in mine] == ["revoked", "superseded"]
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/transcripts/{transcript_id}/revoke" in paths
