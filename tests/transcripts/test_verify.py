"""Verification end to end: a transcript issued by the builder verifies; every change, every
foreign or embedded key, a copied proof, a changed status index, a revocation, a newer
version each make it something other than ``valid``; key rotation keeps it valid."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lms.core.db import utcnow
from lms.transcripts import credential, dataintegrity, keys, multikey, statuslist, verify
from lms.transcripts.did import did_for
from tests.transcripts.conftest import check, status_of

VC = "credentialSubject"


def _first_course(doc):
    return doc[VC]["verifiableCredential"][0]


# ---------------------------------------------------------------------------- shape


def test_transcript_is_a_clr_credential_of_achievement_credentials(issue, issuer):
    doc = issue()
    did = did_for(issuer)
    assert doc["@context"][:3] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert doc["type"] == ["VerifiableCredential", "ClrCredential"]
    assert doc["issuer"]["id"] == did == "did:web:127.0.0.1%3A5000:institutions:nanning-vtc"
    assert doc["issuer"]["name"] == "南宁职业技术学院"
    subject = doc[VC]
    assert subject["type"] == ["ClrSubject"]
    names = {i["identityType"]: i["identityHash"] for i in subject["identifier"]}
    assert names == {"name": "สมชาย ใจดี", "ext:latinName": "Somchai Jaidee"}
    first, second = subject["verifiableCredential"]
    assert first["type"] == ["VerifiableCredential", "AchievementCredential"]
    course = first[VC]["achievement"]
    assert course["humanCode"] == "ZH-AUTO-101" and course["creditsAvailable"] == 3
    assert course["creditSystem"] == "CN-VOC-16H"
    assert first[VC]["creditsEarned"] == 3
    assert first[VC]["result"][0]["value"] == "优秀"
    assert first[VC]["result"][0]["resultDescription"] == course["resultDescription"][0]["id"]
    assert second[VC]["creditsEarned"] == 2.5
    assert second[VC]["source"]["name"] == "Manila Polytechnic College"
    assert second[VC]["achievement"]["creator"]["name"] == "Manila Polytechnic College"
    assert subject["achievement"] == [first[VC]["achievement"], second[VC]["achievement"]]
    status = doc["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListCredential"].startswith(
        "https://127.0.0.1:5000/institutions/nanning-vtc/status/"
    )
    assert first["credentialStatus"] == status
    proof = doc["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["verificationMethod"] == f"{did}#key-1"
    assert proof["proofPurpose"] == "assertionMethod"
    assert first["proof"]["verificationMethod"] == f"{did}#key-1"


def test_summary_reads_what_the_transcript_says(issue):
    summary = credential.summarise(issue())
    assert summary["name_native"] == "สมชาย ใจดี" and summary["name_latin"] == "Somchai Jaidee"
    assert [c["code"] for c in summary["courses"]] == ["ZH-AUTO-101", "EN-LOG-201"]
    assert summary["courses"][1]["source"] == "Manila Polytechnic College"
    assert credential.summarise({"credentialSubject": [1, {"x": None}]})["courses"] == []


# ---------------------------------------------------------------------------- valid


def test_issued_transcript_is_valid(issue):
    result = check(issue())
    assert result["status"] == "valid", result
    names = [c["check"] for c in result["checks"]]
    assert names == [
        "format",
        "proof",
        "key",
        "signature",
        "embedded_credentials",
        "status_list",
        "revocation",
        "validity_period",
    ]
    assert all(c["ok"] and c["detail"] for c in result["checks"])


def test_a_course_credential_taken_out_of_the_transcript_verifies_alone(issue):
    assert status_of(_first_course(issue())) == "valid"


def test_rotation_keeps_old_transcripts_valid(issue, issuer, make):
    old = issue()
    keys.rotate_key(make.user("registrar", issuer), issuer)
    new = issue()
    assert old["proof"]["verificationMethod"].endswith("#key-1")
    assert new["proof"]["verificationMethod"].endswith("#key-2")
    assert status_of(old) == "valid" and status_of(new) == "valid"


# ---------------------------------------------------------------------------- tampering


def _set(path):
    def change(doc):
        node = doc
        for step in path[:-1]:
            node = node[step]
        key, value = path[-1]
        node[key] = value

    return change


TAMPERINGS = {
    "grade": _set([VC, "verifiableCredential", 0, VC, "result", 0, ("value", "A+")]),
    "credits earned": _set([VC, "verifiableCredential", 1, VC, ("creditsEarned", 25)]),
    "credits available": _set([VC, "achievement", 0, ("creditsAvailable", 30)]),
    "credit system": _set([VC, ("creditSystem", "ECTS")]),
    "native name": _set([VC, "identifier", 0, ("identityHash", "สมหญิง ใจดี")]),
    "latin name": _set([VC, "identifier", 1, ("identityHash", "Somying Jaidee")]),
    "issuer name": _set(["issuer", ("name", "Harvard")]),
    "issue date": _set([("validFrom", "2020-01-01T00:00:00Z")]),
    "status index": lambda d: d["credentialStatus"].update(
        statusListIndex=str((int(d["credentialStatus"]["statusListIndex"]) + 1) % 131072)
    ),
    "status removed": lambda d: d.pop("credentialStatus"),
    "member added": _set([("honours", "summa cum laude")]),
    "proof created": _set(["proof", ("created", "2020-01-01T00:00:00Z")]),
    "proof value": lambda d: d["proof"].update(
        proofValue=multikey.encode_base58btc(
            bytes([multikey.decode_base58btc(d["proof"]["proofValue"])[0] ^ 1])
            + multikey.decode_base58btc(d["proof"]["proofValue"])[1:]
        )
    ),
    "proof purpose": _set(["proof", ("proofPurpose", "authentication")]),
    "proof cryptosuite": _set(["proof", ("cryptosuite", "eddsa-rdfc-2022")]),
    "proof removed": lambda d: d.pop("proof"),
    "nested proof": _set(
        [VC, "verifiableCredential", 0, "proof", ("created", "2020-01-01T00:00:00Z")]
    ),
}


@pytest.mark.parametrize("change", list(TAMPERINGS), ids=list(TAMPERINGS))
def test_every_change_is_tampered(issue, change):
    doc = copy.deepcopy(issue())
    TAMPERINGS[change](doc)
    result = check(doc)
    assert result["status"] == "tampered", result
    assert not all(c["ok"] for c in result["checks"])


def test_changed_issuer_is_tampered(issue, make):
    other = make.institution(slug="liuzhou-auto")
    doc = issue()
    doc["issuer"]["id"] = did_for(other)
    assert status_of(doc) == "tampered"
    doc["issuer"]["id"] = "did:web:evil.example:institutions:nanning-vtc"
    assert status_of(doc) == "tampered"


def test_changed_verification_method_is_never_valid(issue, issuer, make):
    doc = issue()
    keys.rotate_key(make.user("admin", issuer), issuer)
    doc["proof"]["verificationMethod"] = doc["proof"]["verificationMethod"].replace(
        "key-1", "key-2"
    )
    assert status_of(doc) == "tampered"
    doc["proof"]["verificationMethod"] = doc["proof"]["verificationMethod"].replace(
        "key-2", "key-9"
    )
    assert status_of(doc) == "unknown_issuer"


def test_proof_copied_from_another_transcript_is_tampered(issue):
    first, second = issue(), issue()
    second["proof"] = copy.deepcopy(first["proof"])
    assert status_of(second) == "tampered"


# ---------------------------------------------------------------------------- foreign keys


def _forge(doc, secret, verification_method):
    """Re-sign a (changed) transcript with a key of the forger's choosing."""
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    return dataintegrity.create_proof(
        unsigned, secret, verification_method=verification_method, created=utcnow()
    )


def test_signed_by_a_key_not_in_the_issuers_did_document_is_unknown_issuer(issue, issuer):
    doc = issue()
    doc[VC]["verifiableCredential"][0][VC]["result"][0]["value"] = "A+"
    forged = _forge(doc, Ed25519PrivateKey.generate(), f"{did_for(issuer)}#key-1")
    assert status_of(forged) == "tampered"  # the published key-1 does not match
    forged = _forge(doc, Ed25519PrivateKey.generate(), f"{did_for(issuer)}#attacker")
    assert status_of(forged) == "unknown_issuer"


def test_a_did_key_verification_method_is_never_valid(issue):
    secret = Ed25519PrivateKey.generate()
    public = multikey.encode_public_key(secret.public_key().public_bytes_raw())
    forged = _forge(issue(), secret, f"did:key:{public}#{public}")
    result = check(forged)
    assert result["status"] == "unknown_issuer"


def test_a_key_embedded_in_the_transcript_is_never_used(issue, issuer):
    secret = Ed25519PrivateKey.generate()
    public = multikey.encode_public_key(secret.public_key().public_bytes_raw())
    doc = issue()
    doc["issuer"]["publicKeyMultibase"] = public  # "trust me, this is my key"
    forged = _forge(doc, secret, f"{did_for(issuer)}#key-1")
    assert status_of(forged) == "tampered"
    # even when the genuine issuer signed a document that carries a key
    genuine = keys.sign({k: v for k, v in doc.items() if k != "proof"}, issuer, created=utcnow())
    result = check(genuine)
    assert result["status"] == "tampered"
    assert [c["check"] for c in result["checks"]][-1] == "embedded_keys"
    # and a verification method embedded in the proof
    embedded = issue()
    embedded["proof"]["verificationMethod"] = {
        "id": f"{did_for(issuer)}#key-1",
        "type": "Multikey",
        "controller": did_for(issuer),
        "publicKeyMultibase": public,
    }
    assert status_of(embedded) != "valid"


def test_unknown_cryptosuite_is_not_valid_even_when_signed_by_the_issuer(issue, issuer):
    doc = issue()
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-2099",
        "created": "2027-01-01T00:00:00Z",
        "verificationMethod": f"{did_for(issuer)}#key-1",
        "proofPurpose": "assertionMethod",
        "@context": doc["@context"],
    }
    from hashlib import sha256

    from lms.transcripts.jcs import canonicalize

    data = sha256(canonicalize(options)).digest() + sha256(canonicalize(unsigned)).digest()
    signature = keys.private_key(keys.active_key(issuer)).sign(data)
    doc["proof"] = {**options, "proofValue": multikey.encode_base58btc(signature)}
    result = check(doc)
    assert result["status"] == "tampered"
    assert "eddsa-jcs-2022" in result["checks"][-1]["detail"]


def test_an_issuer_elsewhere_is_unknown(issue, issuer):
    secret = Ed25519PrivateKey.generate()
    doc = issue()
    doc["issuer"]["id"] = "did:web:other-platform.example:institutions:x"
    forged = _forge(doc, secret, "did:web:other-platform.example:institutions:x#key-1")
    assert status_of(forged) == "unknown_issuer"


# ---------------------------------------------------------------------------- status


def test_revoked_transcript_is_revoked_and_so_are_its_course_credentials(issue, issuer, make):
    doc = issue()
    registrar = make.user("registrar", issuer)
    statuslist.revoke(registrar, doc["id"], reason="issued in error")
    result = check(doc)
    assert result["status"] == "revoked"
    assert result["checks"][-1] == {
        "check": "revocation",
        "ok": False,
        "detail": "The issuer has revoked this credential.",
    }
    assert status_of(_first_course(doc)) == "revoked"
    assert status_of(issue()) == "valid"  # the neighbours are not


def test_index_changed_to_dodge_revocation_is_never_valid(issue, issuer):
    doc = issue()
    statuslist.revoke(None, doc["id"])
    other = issue()
    dodged = copy.deepcopy(doc)
    dodged["credentialStatus"] = copy.deepcopy(other["credentialStatus"])
    assert status_of(dodged) == "tampered"
    forged = _forge(dodged, Ed25519PrivateKey.generate(), f"{did_for(issuer)}#key-1")
    assert status_of(forged) != "valid"


class _FakeLists(verify.PlatformResolver):
    """The platform's keys, with a status list document replaced by the test."""

    def __init__(self, change):
        self.change = change

    def status_list(self, url):
        doc = super().status_list(url)
        return self.change(doc) if doc else doc


def test_status_list_signature_is_checked(issue, issuer):
    doc = issue()
    statuslist.revoke(None, doc["id"])

    def clear_all_bits(list_doc):
        list_doc["credentialSubject"]["encodedList"] = statuslist.Bitstring().encode()
        return list_doc  # changed without re-signing

    result = verify.verify_credential(doc, resolver=_FakeLists(clear_all_bits))
    assert result["status"] == "tampered"
    assert result["checks"][-1]["check"] == "status_list"


def test_status_list_of_another_issuer_is_refused(issue, issuer, make):
    doc = issue()
    other = make.institution(slug="guilin-tourism")
    elsewhere = issue(institution=other)

    def other_issuers_list(_list_doc):
        return statuslist.resolve_list_credential(
            elsewhere["credentialStatus"]["statusListCredential"]
        )

    result = verify.verify_credential(doc, resolver=_FakeLists(other_issuers_list))
    assert result["status"] == "tampered"


def test_superseded_hook(issue):
    doc = issue()

    def hook(credential_id):
        return credential_id == doc["id"]

    verify.register_superseded_check(hook)
    try:
        assert status_of(doc) == "superseded"
        assert status_of(issue()) == "valid"
    finally:
        verify.unregister_superseded_check(hook)
    assert status_of(doc) == "valid"


def test_validity_period(issuer):
    now = utcnow()
    base = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did_for(issuer),
        "credentialSubject": {"id": "urn:uuid:x"},
    }
    future = {**base, "validFrom": dataintegrity.xml_datetime(now + timedelta(days=1))}
    expired = {**base, "validUntil": dataintegrity.xml_datetime(now - timedelta(days=1))}
    current = {**base, "validFrom": dataintegrity.xml_datetime(now - timedelta(days=1))}
    for doc, status in ((future, "revoked"), (expired, "revoked"), (current, "valid")):
        signed = keys.sign(doc, issuer, created=now)
        result = check(signed)
        assert result["status"] == status, result
        assert result["checks"][-1]["check"] == "validity_period"


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"type": ["VerifiableCredential"]},
        {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"]},
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["X"], "issuer": "did:x"},
    ],
    ids=["list", "no-context", "vc-1.1", "not-a-vc"],
)
def test_what_is_not_a_credential_is_tampered(doc, public_host):
    result = check(doc)
    assert result["status"] == "tampered" and result["checks"][0]["check"] == "format"


def test_verification_needs_no_private_key(app, issue):
    """Verifying reads public keys and the stored, signed status list: a lost or wrong key
    encryption secret stops signing, not verification."""
    doc = issue()
    before = app.config["KEY_ENCRYPTION_KEY"]
    app.config["KEY_ENCRYPTION_KEY"] = "not-the-secret-the-keys-were-stored-with"
    try:
        assert status_of(doc) == "valid"
        with pytest.raises(keys.SigningUnavailable):
            statuslist.revoke(None, doc["id"])
    finally:
        app.config["KEY_ENCRYPTION_KEY"] = before
