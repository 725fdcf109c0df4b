"""Transcript pages: a registrar issues, re-issues and revokes from the institution's
register; the student finds every version, downloads the PDF and the signed credential,
which verifies; nobody else sees them."""

import json
from decimal import Decimal

from lms.core.extensions import db
from lms.core.models import AuditEvent
from lms.transcripts.models import Transcript
from tests.conftest import login
from tests.credits.conftest import (  # noqa: F401  (fixtures)
    complete_course,
    make_course,
    percent_source,
    seeded,
    world,
)


def _student(make, world, percent_source):  # noqa: F811
    student = make.user(
        "student", world["gx"], name_native="ស្រី ពៅ", name_latin="Srey Pov", country="KH"
    )
    course = make_course(world["gx"], "GX-ELEC-1")
    complete_course(make, course, student, percent_source, Decimal("91"))
    return student


def test_registrar_issues_reissues_and_revokes(client, make, world, percent_source, public_host):  # noqa: F811
    student = _student(make, world, percent_source)
    login(client, world["registrar"])
    admin_home = client.get("/admin/").text
    assert "/institutions/gx/transcripts" in admin_home  # reachable from administration
    page = client.get("/institutions/gx/transcripts")
    assert page.status_code == 200 and "Issue a transcript" in page.text

    unknown = client.post("/institutions/gx/transcripts", data={"student": "nobody@x.test"})
    assert unknown.status_code == 200 and "No user with this e-mail address." in unknown.text
    assert db.session.query(Transcript).count() == 0

    issued = client.post("/institutions/gx/transcripts", data={"student": student.email})
    assert issued.status_code == 302
    first = db.session.query(Transcript).one()
    detail = client.get(issued.headers["Location"]).text
    assert "ស្រី ពៅ" in detail and "GX-ELEC-1" in detail and "Valid" in detail

    listed = client.get("/institutions/gx/transcripts?student=srey").text
    assert student.email in listed and "1 transcript" in listed
    assert "No transcripts match." in client.get("/institutions/gx/transcripts?status=revoked").text

    again = client.post(f"/transcripts/{first.public_id}/reissue")
    assert again.status_code == 302
    second = db.session.query(Transcript).filter_by(version=2).one()
    db.session.refresh(first)
    assert first.status == "superseded" and second.supersedes_id == first.id

    empty = client.post(f"/transcripts/{second.public_id}/revoke", data={"reason": ""})
    assert empty.status_code == 302
    db.session.refresh(second)
    assert second.status == "valid"  # no reason, nothing changed
    client.post(f"/transcripts/{second.public_id}/revoke", data={"reason": "Issued in error"})
    db.session.refresh(second)
    assert second.status == "revoked" and second.revoke_reason == "Issued in error"
    actions = {e.action for e in db.session.query(AuditEvent)}
    assert {"transcripts.issued"} <= actions
    assert "Revoked" in client.get(f"/transcripts/{second.public_id}").text


def test_student_downloads_and_verifies(client, make, world, percent_source, public_host):  # noqa: F811
    from lms.transcripts import issuance

    student = _student(make, world, percent_source)
    t = issuance.issue(world["registrar"], student, world["gx"])
    login(client, student)
    mine = client.get("/transcripts")
    assert mine.status_code == 200 and f"/transcripts/{t.public_id}" in mine.text
    printable = client.get(f"/transcripts/{t.public_id}/transcript.pdf")
    assert printable.mimetype == "application/pdf" and printable.data.startswith(b"%PDF-")
    assert "attachment" in printable.headers["Content-Disposition"]
    signed = client.get(f"/transcripts/{t.public_id}/credential.json")
    assert signed.mimetype == "application/vc"
    verdict = client.post("/api/v1/credentials/verify", json=json.loads(signed.data))
    assert verdict.json["status"] == "valid"
    page = client.get(f"/transcripts/{t.public_id}").text
    assert issuance.format_code(t.verification_code) in page
    assert "Issue a new version" not in page  # registrar controls are not shown
    assert client.post(f"/transcripts/{t.public_id}/reissue").status_code == 403
    assert (
        client.post(f"/transcripts/{t.public_id}/revoke", data={"reason": "x"}).status_code == 403
    )
    assert client.get("/institutions/gx/transcripts").status_code == 403


def test_others_cannot_open_a_transcript(client, make, world, percent_source, public_host):  # noqa: F811
    from lms.transcripts import issuance

    student = _student(make, world, percent_source)
    t = issuance.issue(world["registrar"], student, world["gx"])
    for other in (make.user("student", world["gx"]), world["teacher"], world["ph_registrar"]):
        client.post("/logout")
        login(client, other)
        for url in (
            f"/transcripts/{t.public_id}",
            f"/transcripts/{t.public_id}/transcript.pdf",
            f"/transcripts/{t.public_id}/credential.json",
        ):
            assert client.get(url).status_code == 403, (other.email, url)
        assert client.get("/institutions/gx/transcripts").status_code == 403
    client.post("/logout")
    assert client.get(f"/transcripts/{t.public_id}").status_code in (302, 401)
