"""Forged and altered transcript credentials (issue #12): none verifies as valid, through
``lms.transcripts.verify`` and through the public verification API and page alike.

The credentials are real ones, issued by the world's institution to two students."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.transcripts import dataintegrity, issuance, keys
from lms.transcripts.multikey import encode_public_key
from lms.transcripts.verify import platform_resolver, verify_credential
from tests.security.roles import REGISTRAR, World, world  # noqa: F401  (fixture)

#: how the verification page shows a valid verdict (and only that one)
VALID_MARK = 'class="flash flash-success" role="status"'


@contextlib.contextmanager
def scratch(world: World):  # noqa: F811
    """Changes made inside are rolled back afterwards."""
    db.session.rollback()  # the test's own session savepoint must not sit below ours
    savepoint = world.conn.begin_nested()
    try:
        yield
    finally:
        db.session.rollback()
        if savepoint.is_active:
            savepoint.rollback()
        db.session.expire_all()


def statuses(world: World, document) -> set[str]:  # noqa: F811
    """The verdict of the library, the public API and the public page (as the status the
    page shows); all three must agree."""
    library = verify_credential(copy.deepcopy(document), resolver=platform_resolver)["status"]
    client = world.app.test_client()
    api = client.post("/api/v1/credentials/verify", json=document)
    assert api.status_code in (200, 422), api.get_data(as_text=True)[:300]
    api_status = api.json.get("status") if api.status_code == 200 else "rejected"
    page = client.post("/verify", data={"credential": json.dumps(document)})
    assert page.status_code < 500
    html = page.get_data(as_text=True)
    page_valid = page.status_code == 200 and VALID_MARK in html
    return {library, api_status, "valid" if page_valid else "not-valid"}


def _unsigned(document):
    doc = copy.deepcopy(document)
    doc.pop("proof", None)
    return doc


def _attacker_key():
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return key, encode_public_key(raw)


def test_the_issued_credential_is_valid_everywhere(world):  # noqa: F811
    """The baseline the other tests alter: an untouched credential is valid."""
    assert statuses(world, world.ids["credential"]) == {"valid"}


def test_the_page_marks_its_verdict(world):  # noqa: F811
    page = world.app.test_client().post(
        "/verify", data={"credential": json.dumps(world.ids["credential"])}
    )
    assert VALID_MARK in page.get_data(as_text=True)


def _self_signed(world, mutate, *, embed: str):  # noqa: F811
    """The credential altered by ``mutate`` and re-signed with the attacker's key, whose
    public part is carried inside the document as ``embed`` says."""
    key, public = _attacker_key()
    doc = _unsigned(world.ids["credential"])
    mutate(doc)
    if embed == "verificationMethod":
        method = {
            "id": f"{doc['issuer']['id']}#attacker",
            "type": "Multikey",
            "controller": doc["issuer"]["id"],
            "publicKeyMultibase": public,
        }
        doc["issuer"]["verificationMethod"] = [method]
        vm = method["id"]
    elif embed == "did:key":
        vm = f"did:key:{public}#{public}"
    else:
        vm = f"{doc['issuer']['id']}#key-1"  # the issuer's key id, the attacker's signature
    return dataintegrity.create_proof(doc, key, verification_method=vm, created=utcnow())


@pytest.mark.parametrize("embed", ["verificationMethod", "did:key", "issuer-key-id"])
def test_a_key_carried_by_the_credential_is_never_trusted(world, embed):  # noqa: F811
    def raise_grade(doc):
        doc["name"] = "Transcript of records (forged)"

    forged = _self_signed(world, raise_grade, embed=embed)
    assert "valid" not in statuses(world, forged)


def test_a_public_key_inside_the_proof_is_refused(world):  # noqa: F811
    _key, public = _attacker_key()
    doc = copy.deepcopy(world.ids["credential"])
    doc["proof"]["publicKeyMultibase"] = public
    assert "valid" not in statuses(world, doc)


@pytest.mark.parametrize(
    "suite", ["eddsa-2099", "ecdsa-jcs-2019", "", "EDDSA-JCS-2022", "bbs-2023"]
)
def test_an_unknown_cryptosuite_is_refused(world, suite):  # noqa: F811
    doc = copy.deepcopy(world.ids["credential"])
    doc["proof"]["cryptosuite"] = suite
    assert "valid" not in statuses(world, doc)


def test_an_unknown_proof_type_is_refused(world):  # noqa: F811
    doc = copy.deepcopy(world.ids["credential"])
    doc["proof"]["type"] = "Ed25519Signature2020"
    assert "valid" not in statuses(world, doc)


def test_a_changed_status_list_index_is_refused(world):  # noqa: F811
    doc = copy.deepcopy(world.ids["credential"])
    status = doc["credentialStatus"]
    entry = status[0] if isinstance(status, list) else status
    entry["statusListIndex"] = str(int(entry["statusListIndex"]) + 1)
    assert "valid" not in statuses(world, doc)
    entry.pop("statusListIndex")
    assert "valid" not in statuses(world, doc)
    doc.pop("credentialStatus")
    assert "valid" not in statuses(world, doc)


def test_a_proof_copied_from_another_transcript_is_refused(world):  # noqa: F811
    doc = copy.deepcopy(world.ids["credential"])
    doc["proof"] = copy.deepcopy(world.ids["victim_credential"]["proof"])
    assert "valid" not in statuses(world, doc)


def test_a_modified_credential_subject_is_refused(world):  # noqa: F811
    doc = copy.deepcopy(world.ids["credential"])
    victim = world.ids["victim_credential"]
    doc["credentialSubject"] = copy.deepcopy(victim["credentialSubject"])
    assert "valid" not in statuses(world, doc)
    doc = copy.deepcopy(world.ids["credential"])
    subject = doc["credentialSubject"]
    subject["extra"] = {"note": "credits doubled"}
    assert "valid" not in statuses(world, doc)


def test_a_second_proof_does_not_make_a_forgery_valid(world):  # noqa: F811
    forged = _self_signed(world, lambda d: d.update(name="forged"), embed="did:key")
    doc = copy.deepcopy(forged)
    doc["proof"] = [forged["proof"], copy.deepcopy(world.ids["credential"]["proof"])]
    assert "valid" not in statuses(world, doc)


def test_an_expired_credential_is_not_valid(world):  # noqa: F811
    """Signed by the real issuer, but its validity ended: reported, never valid."""
    from lms.accounts.services import get_institution

    with scratch(world):
        doc = _unsigned(world.ids["credential"])
        now = utcnow()
        doc["validFrom"] = dataintegrity.xml_datetime(now - timedelta(days=30))
        doc["validUntil"] = dataintegrity.xml_datetime(now - timedelta(days=1))
        signed = keys.sign(doc, get_institution(world.ids["gx"]), created=now - timedelta(days=30))
        db.session.flush()
        assert statuses(world, signed) == {"revoked", "not-valid"}
        future = _unsigned(world.ids["credential"])
        future["validFrom"] = dataintegrity.xml_datetime(now + timedelta(days=30))
        signed = keys.sign(future, get_institution(world.ids["gx"]), created=now)
        assert "valid" not in statuses(world, signed)


def test_a_revoked_credential_is_not_valid(world):  # noqa: F811
    with scratch(world):
        transcript = issuance.get(world.ids["transcript"])
        registrar = db.session.merge(world.users[REGISTRAR])
        issuance.revoke(registrar, transcript, reason="issued in error")
        db.session.flush()
        assert statuses(world, world.ids["credential"]) == {"revoked", "not-valid"}
        code = world.app.test_client().get(f"/verify/{world.ids['code']}")
        assert code.status_code == 200
        assert VALID_MARK not in code.get_data(as_text=True)
    assert statuses(world, world.ids["credential"]) == {"valid"}  # rolled back
