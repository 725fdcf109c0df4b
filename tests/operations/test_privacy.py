"""A student's personal data: exported from their profile (and by their institution's
administrators), erased by an administrator with confirmation while the issued transcript
and the credit ledger stay."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.accounts.models import ApiToken, UserSession
from lms.analytics.models import XapiActor
from lms.core.models import AuditEvent
from lms.credits.models import CreditRecord
from lms.transcripts import issuance
from lms.transcripts.models import Transcript
from tests.conftest import PASSWORD, bearer, login
from tests.credits.conftest import (  # noqa: F401  (fixtures)
    complete_course,
    make_course,
    percent_source,
    seeded,
    world,
)
from tests.transcripts.conftest import public_host, status_of  # noqa: F401  (fixture)


@pytest.fixture
def hoa(make, world, percent_source, public_host):  # noqa: F811
    """A Vietnamese student at the Guangxi college with a completed course, credit in the
    ledger and an issued transcript."""
    gx = world["gx"]
    student = make.user(
        "student",
        gx,
        email="hoa@student.test",
        country="VN",
        locale="vi",
        name_native="Nguyễn Thị Hoa",
        name_latin="Nguyen Thi Hoa",
    )
    course = make_course(gx, "GX-AUTO-101", credits="3", hours=48)
    complete_course(make, course, student, percent_source, percent=Decimal("88"))
    transcript = issuance.issue(world["registrar"], student, gx)
    return {**world, "student": student, "course": course, "transcript": transcript}


def test_student_downloads_their_data_from_the_profile(client, hoa, db_session):
    student = hoa["student"]
    login(client, student)
    profile = client.get("/profile").get_data(as_text=True)
    assert "/profile/data" in profile
    page = client.get("/profile/data").get_data(as_text=True)
    assert f"/users/{student.id}/data.json" in page
    resp = client.get(f"/users/{student.id}/data.json")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    data = json.loads(resp.get_data(as_text=True))
    assert data["profile"]["email"] == "hoa@student.test"
    assert data["profile"]["name_native"] == "Nguyễn Thị Hoa"
    assert [e["status"] for e in data["enrolments"]] == ["completed"]
    assert len(data["progress"]) == 1 and data["progress"][0]["completed_at"]
    assert [r["kind"] for r in data["credit_records"]] == ["earned"]
    [transcript] = data["transcripts"]
    assert transcript["verification_code"] == hoa["transcript"].verification_code
    assert "snapshot" not in transcript and "signed_credential" not in transcript
    assert any(m["role"] == "student" for m in data["memberships"])
    raw = resp.get_data(as_text=True)
    assert "password_hash" not in raw and student.password_hash not in raw
    # exporting is itself recorded
    assert db_session.scalar(
        select(AuditEvent).filter_by(action="privacy.exported", object_id=str(student.id))
    )


def test_export_is_for_the_person_and_their_institutions_admins(client, hoa, make, db_session):
    student, other = hoa["student"], make.user("student", hoa["gx"])
    login(client, other)
    assert client.get(f"/users/{student.id}/data.json").status_code == 403
    headers = bearer(client, other)
    assert (
        client.get(f"/api/v1/users/{student.id}/personal-data", headers=headers).status_code == 403
    )
    mine = client.get("/api/v1/me/personal-data", headers=headers)
    assert mine.status_code == 200 and mine.json["profile"]["id"] == other.id
    admin_headers = bearer(client, hoa["admin"])
    theirs = client.get(f"/api/v1/users/{student.id}/personal-data", headers=admin_headers)
    assert theirs.status_code == 200 and theirs.json["profile"]["email"] == "hoa@student.test"
    # a partner institution's registrar has no claim on it
    ph_headers = bearer(client, hoa["ph_registrar"])
    assert (
        client.get(f"/api/v1/users/{student.id}/personal-data", headers=ph_headers).status_code
        == 403
    )


def test_admin_erases_with_confirmation_and_the_transcript_stays(client, hoa, db_session):
    student, admin, transcript = hoa["student"], hoa["admin"], hoa["transcript"]
    snapshot_before = json.dumps(transcript.snapshot, sort_keys=True)
    document = issuance.credential(transcript)
    ledger_before = db_session.scalar(
        select(func.count()).select_from(CreditRecord).filter_by(student_id=student.id)
    )
    student_client = client.application.test_client()
    login(student_client, student)
    token = bearer(student_client, student)
    for model in (XapiActor, UserSession):  # there is something to erase
        rows = select(func.count()).select_from(model).filter_by(user_id=student.id)
        assert db_session.scalar(rows) > 0, model

    login(client, admin)
    page = client.get(f"/users/{student.id}").get_data(as_text=True)
    assert f"/admin/users/{student.id}/erase" in page
    assert client.get(f"/admin/users/{student.id}/erase").status_code == 200
    wrong = client.post(f"/admin/users/{student.id}/erase", data={"confirm_email": "x@y.test"})
    assert wrong.status_code == 422
    db_session.refresh(student)
    assert student.email == "hoa@student.test" and student.erased_at is None

    done = client.post(
        f"/admin/users/{student.id}/erase", data={"confirm_email": "HOA@student.test"}
    )
    assert done.status_code == 302
    db_session.refresh(student)
    assert student.erased_at is not None and not student.active
    assert student.email == f"erased-{student.id}@erased.invalid"
    assert (student.name_native, student.name_latin, student.country) == ("", "", "")
    assert "Hoa" not in student.display_name
    # sessions and tokens end at once
    assert student_client.get("/profile").status_code == 302
    assert student_client.get("/api/v1/me", headers=token).status_code == 401
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .filter_by(user_id=student.id, revoked_at=None)
        )
        == 0
    )
    assert (
        client.post("/login", data={"email": "hoa@student.test", "password": PASSWORD}).status_code
        != 302
    )
    # what the law requires stays: the signed snapshot and the ledger
    db_session.refresh(transcript)
    assert json.dumps(transcript.snapshot, sort_keys=True) == snapshot_before
    assert transcript.status == "valid" and status_of(document) == "valid"
    assert (
        db_session.scalar(
            select(func.count()).select_from(CreditRecord).filter_by(student_id=student.id)
        )
        == ledger_before
    )
    assert db_session.scalar(select(func.count()).select_from(Transcript)) == 1
    # the xAPI pseudonym no longer leads to the account; sign-in sessions are gone
    for model in (XapiActor, UserSession):
        rows = select(func.count()).select_from(model).filter_by(user_id=student.id)
        assert db_session.scalar(rows) == 0, model
    event = db_session.scalar(select(AuditEvent).filter_by(action="privacy.erased"))
    assert event.actor_id == admin.id and event.object_id == str(student.id)
    assert "hoa@student.test" not in json.dumps(event.after)
    # once is enough
    again = client.post(f"/admin/users/{student.id}/erase", data={"confirm_email": student.email})
    assert again.status_code == 409


def test_only_an_administrator_of_all_their_institutions_erases(client, hoa, db_session):
    student = hoa["student"]
    for who in ("registrar", "teacher", "ph_registrar"):
        headers = bearer(client, hoa[who])
        resp = client.post(
            f"/api/v1/users/{student.id}/erasure",
            json={"confirm_email": "hoa@student.test"},
            headers=headers,
        )
        assert resp.status_code == 403, who
    admin = hoa["admin"]
    resp = client.post(
        f"/api/v1/users/{admin.id}/erasure",
        json={"confirm_email": admin.email},
        headers=bearer(client, admin),
    )
    assert resp.status_code == 403  # not oneself
    resp = client.post(
        f"/api/v1/users/{student.id}/erasure",
        json={"confirm_email": "hoa@student.test"},
        headers=bearer(client, admin),
    )
    assert resp.status_code == 204
