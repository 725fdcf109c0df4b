"""Issuing transcripts from the credit ledger: verify, tamper, revoke, re-issue, look up by
code."""

import copy
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lms.core.extensions import db
from lms.core.models import AuditEvent
from lms.credits import agreements, ledger, recognition
from lms.transcripts import issuance
from tests.credits.conftest import (  # noqa: F401  (fixtures)
    complete_course,
    make_course,
    percent_source,
    seeded,
    world,
)
from tests.transcripts.conftest import status_of


@pytest.fixture
def scene(make, world, percent_source, public_host):  # noqa: F811
    """A Vietnamese student with a Guangxi course recognised in Manila."""
    gx, ph = world["gx"], world["ph"]
    student = make.user(
        "student",
        gx,
        country="VN",
        locale="vi",
        name_native="Nguyễn Thị Hoa",
        name_latin="Nguyen Thi Hoa",
    )
    course = make_course(gx, "GX-AUTO-101", credits="3", hours=48)
    complete_course(make, course, student, percent_source, percent=Decimal("88"))
    agreements.create_agreement(
        None,
        ph,
        source=gx,
        code="GX-PH",
        valid_from=date(2020, 1, 1),
        valid_to=date(2099, 1, 1),
        equivalences=[{"source_code": "GX-AUTO-101", "target_code": "AUTO 110"}],
    )
    req = recognition.submit(student, ph, ledger.standing(student, gx), now=utcnow())
    recognition.decide(None, req, {i.id: True for i in req.items}, now=utcnow())
    return {**world, "student": student}


def _results(doc):
    return doc["credentialSubject"]["verifiableCredential"]


def test_an_issued_transcript_verifies_and_states_the_ledger(scene):
    transcript = issuance.issue(scene["ph_registrar"], scene["student"], scene["ph"])
    assert (transcript.version, transcript.status) == (1, "valid")
    doc = issuance.credential(transcript)
    assert doc["type"] == ["VerifiableCredential", "ClrCredential"]
    assert status_of(doc) == "valid"
    [result] = _results(doc)
    subject = result["credentialSubject"]
    assert subject["creditsEarned"] == 2.5 and subject["result"][0]["value"] == "1.75"
    assert subject["achievement"]["humanCode"] == "AUTO 110"
    assert subject["source"]["name"] == scene["gx"].name_in("zh_Hans")[0]
    assert "GX-AUTO-101" in subject["achievement"]["description"]
    names = {i["identityType"]: i["identityHash"] for i in doc["credentialSubject"]["identifier"]}
    assert names == {"name": "Nguyễn Thị Hoa", "ext:latinName": "Nguyen Thi Hoa"}
    assert transcript.snapshot["results"][0]["source"]["grade"] == "B"
    assert db.session.scalar(sa.select(AuditEvent).filter_by(action="transcripts.issued"))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: _results(d)[0]["credentialSubject"]["result"][0].update(value="1.00"),
        lambda d: _results(d)[0]["credentialSubject"].update(creditsEarned=9),
        lambda d: d["credentialSubject"]["identifier"][1].update(identityHash="Nguyen Van B"),
    ],
    ids=["grade", "credits", "name"],
)
def test_any_change_makes_it_tampered(scene, change):
    doc = issuance.credential(issuance.issue(scene["ph_registrar"], scene["student"], scene["ph"]))
    changed = copy.deepcopy(doc)
    change(changed)
    assert status_of(changed) == "tampered"


def test_revoked_and_superseded(scene):
    first = issuance.issue(scene["ph_registrar"], scene["student"], scene["ph"])
    second = issuance.issue(scene["ph_registrar"], scene["student"], scene["ph"])
    assert (second.version, second.supersedes_id, first.status) == (2, first.id, "superseded")
    assert status_of(issuance.credential(first)) == "superseded"
    assert status_of(issuance.credential(second)) == "valid"
    with pytest.raises(PermissionDenied):
        issuance.revoke(scene["registrar"], second, reason="wrong")  # Guangxi's registrar
    with pytest.raises(ValidationError):
        issuance.revoke(scene["ph_registrar"], second, reason="")
    issuance.revoke(scene["ph_registrar"], second, reason="Issued in error")
    assert second.status == "revoked"
    assert status_of(issuance.credential(second)) == "revoked"
    with pytest.raises(Conflict):
        issuance.revoke(scene["ph_registrar"], second, reason="again")


def test_only_registrars_issue_and_only_with_credit(scene, make):
    with pytest.raises(PermissionDenied):
        issuance.issue(scene["teacher"], scene["student"], scene["ph"])
    with pytest.raises(PermissionDenied):
        issuance.issue(scene["student"], scene["student"], scene["ph"])
    with pytest.raises(ValidationError):
        issuance.issue(scene["ph_registrar"], make.user("student", scene["ph"]), scene["ph"])


def test_the_verification_code_leads_to_the_result(client, scene):
    transcript = issuance.issue(scene["ph_registrar"], scene["student"], scene["ph"])
    printed = issuance.format_code(transcript.verification_code)
    assert len(printed) == 14 and printed.count("-") == 2
    typed = printed.lower().replace("-", " ")
    assert issuance.by_code(typed).id == transcript.id
    with pytest.raises(NotFound):
        issuance.by_code("0000-0000-0000")
    page = client.get(f"/verify/{printed}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Valid: this credential is genuine" in html and "Nguyen Thi Hoa" in html
    assert "AUTO 110" in html
    form = client.get("/verify/code", query_string={"code": typed})
    assert form.status_code == 200 and "Nguyen Thi Hoa" in form.get_data(as_text=True)
    missing = client.get("/verify/code", query_string={"code": "ZZZZ-ZZZZ-ZZZZ"})
    assert missing.status_code == 404
    issuance.revoke(None, transcript, reason="withdrawn")
    revoked = client.get(f"/verify/{printed}").get_data(as_text=True)
    assert "Not valid: the issuer has revoked" in revoked
