"""Proof verification refuses every proof it cannot fully account for, whatever the key
resolver would answer (these tests need no database)."""

from __future__ import annotations

import copy
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lms.transcripts import dataintegrity as di
from lms.transcripts import multikey
from lms.transcripts.jcs import canonicalize

VM = "did:web:127.0.0.1%3A5000:institutions:nanning-vtc#key-1"
ISSUER = "did:web:127.0.0.1%3A5000:institutions:nanning-vtc"
SECRET = Ed25519PrivateKey.generate()
PUBLIC = SECRET.public_key().public_bytes_raw()
DOCUMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": ISSUER,
    "credentialSubject": {"id": "urn:uuid:1", "grade": "A"},
}


def resolve(url):
    return PUBLIC if url == VM else None


def signed(**proof_changes):
    doc = di.create_proof(DOCUMENT, SECRET, verification_method=VM, created="2027-01-01T00:00:00Z")
    doc["proof"].update(proof_changes)
    return doc


def resigned(**proof_changes):
    """A proof whose fields were changed *before* signing, so the signature itself is good:
    only the rules can refuse it."""
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2027-01-01T00:00:00Z",
        "verificationMethod": VM,
        "proofPurpose": "assertionMethod",
        "@context": DOCUMENT["@context"],
        **proof_changes,
    }
    config = {k: v for k, v in options.items() if k != "proofValue"}
    config_hash = hashlib.sha256(canonicalize(config)).digest()
    doc_hash = hashlib.sha256(canonicalize(DOCUMENT)).digest()
    signature = SECRET.sign(config_hash + doc_hash)
    return {
        **copy.deepcopy(DOCUMENT),
        "proof": {**config, "proofValue": multikey.encode_base58btc(signature)},
    }


def test_round_trip():
    assert di.verify_proof(signed(), resolve, issuer=ISSUER).ok


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"cryptosuite": "eddsa-rdfc-2022"}, "cryptosuite"),
        ({"cryptosuite": "eddsa-2099"}, "cryptosuite"),
        ({"type": "Ed25519Signature2020"}, "cryptosuite"),
        ({"proofPurpose": "authentication"}, "purpose"),
        ({"created": "yesterday"}, "created"),
        ({"publicKeyMultibase": multikey.encode_public_key(PUBLIC)}, "malformed"),
        ({"verificationMethod": "https://evil.example/key"}, "malformed"),
    ],
    ids=["rdfc", "unknown-suite", "legacy-type", "purpose", "created", "extra-key", "not-a-did"],
)
def test_unacceptable_proofs_are_refused_even_when_correctly_signed(changes, reason):
    result = di.verify_proof(resigned(**changes), resolve, issuer=ISSUER)
    assert not result.ok and result.reason == reason


def test_an_embedded_verification_method_is_never_used():
    embedded = {
        "id": VM,
        "type": "Multikey",
        "controller": ISSUER,
        "publicKeyMultibase": multikey.encode_public_key(PUBLIC),
    }
    result = di.verify_proof(signed(verificationMethod=embedded), resolve, issuer=ISSUER)
    assert result.reason == "embedded_key"


def test_a_verification_method_of_another_did_is_refused():
    other = "did:web:127.0.0.1%3A5000:institutions:other#key-1"
    doc = di.create_proof(
        DOCUMENT, SECRET, verification_method=other, created="2027-01-01T00:00:00Z"
    )
    result = di.verify_proof(doc, lambda url: PUBLIC, issuer=ISSUER)
    assert result.reason == "issuer_mismatch"


@pytest.mark.parametrize(
    "value",
    [
        "u" + "A" * 86,  # base64url, not base58btc
        "z" + "0OIl" * 22,  # characters outside the base58 alphabet
        "z" + multikey.encode_base58btc(b"\x01" * 63)[1:],  # 63 bytes
        "z1" + multikey.encode_base58btc(b"\x01" * 64)[1:],  # leading zero byte: 65 bytes
        12345,
        None,
    ],
    ids=["base64", "alphabet", "short", "long", "number", "missing"],
)
def test_malformed_proof_values_are_refused(value):
    result = di.verify_proof(signed(proofValue=value), resolve, issuer=ISSUER)
    assert result.reason == "proof_value"


def test_proof_context_must_prefix_the_document_context():
    doc = signed(**{"@context": ["https://example.org/other"]})
    assert di.verify_proof(doc, resolve).reason == "context"


def test_proof_sets_and_missing_proofs_are_refused():
    one = signed()
    two = copy.deepcopy(one)
    two["proof"] = [one["proof"], one["proof"]]
    assert di.verify_proof(two, resolve).reason == "malformed"
    assert di.verify_proof(DOCUMENT, resolve).reason == "missing"
    listed = copy.deepcopy(one)
    listed["proof"] = [one["proof"]]
    assert di.verify_proof(listed, resolve).ok


def test_a_proof_moved_to_another_document_does_not_verify():
    other = {**DOCUMENT, "credentialSubject": {"id": "urn:uuid:2", "grade": "F"}}
    moved = {**other, "proof": signed()["proof"]}
    assert di.verify_proof(moved, resolve).reason == "signature"


def test_multikey_decoding_is_strict():
    good = multikey.encode_public_key(PUBLIC)
    assert multikey.decode_public_key(good) == PUBLIC
    for bad in (good[1:], "f" + good[1:], good + "1", good[:-1], "z", ""):
        with pytest.raises(multikey.MultibaseError):
            multikey.decode_public_key(bad)
    secret_key = multikey.encode_secret_key(b"\x07" * 32)
    with pytest.raises(multikey.MultibaseError):
        multikey.decode_public_key(secret_key)  # a secret key is not a public key
