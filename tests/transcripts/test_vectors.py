"""The cryptographic core reproduces the published test vectors exactly: W3C vc-di-eddsa
``eddsa-jcs-2022`` (canonical forms, hashes, signature, proofValue, signed document),
RFC 8032 Ed25519 and the RFC 8785 reference data (including ES6 number serialisation)."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.transcripts import dataintegrity as di
from lms.transcripts import multikey
from lms.transcripts.jcs import CanonicalizationError, canonicalize
from tests.transcripts.conftest import VECTORS

W3C = VECTORS / "w3c-vc-di-eddsa"
JCS_SUITE = W3C / "eddsa-jcs-2022"
JCS = VECTORS / "rfc8785-jcs"


def _text(path) -> str:
    return path.read_text(encoding="utf-8")


def _json(path):
    return json.loads(path.read_bytes())


@pytest.fixture(scope="module")
def key_pair():
    pair = _json(W3C / "keyPair.json")
    seed = multikey.decode_secret_key(pair["privateKeyMultibase"])
    return pair, Ed25519PrivateKey.from_private_bytes(seed)


def _did_key_vm(pair) -> str:
    pub = pair["publicKeyMultibase"]
    return f"did:key:{pub}#{pub}"


# ---------------------------------------------------------------------------- W3C eddsa-jcs-2022


def test_key_pair_multikeys_round_trip(key_pair):
    pair, secret = key_pair
    public = secret.public_key().public_bytes_raw()
    assert multikey.encode_public_key(public) == pair["publicKeyMultibase"]
    assert multikey.decode_public_key(pair["publicKeyMultibase"]) == public
    assert multikey.encode_secret_key(secret.private_bytes_raw()) == pair["privateKeyMultibase"]


def test_canonical_document_and_its_hash():
    unsigned = _json(W3C / "unsigned.json")
    canonical = canonicalize(unsigned)
    assert canonical == (JCS_SUITE / "canonDocJCS.txt").read_bytes()
    assert hashlib.sha256(canonical).hexdigest() == _text(JCS_SUITE / "docHashJCS.txt")


def test_proof_configuration_carries_the_document_context_and_hashes_exactly(key_pair):
    pair, _secret = key_pair
    unsigned = _json(W3C / "unsigned.json")
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": _did_key_vm(pair),
        "proofPurpose": "assertionMethod",
    }
    config = di.proof_config(unsigned, options)
    assert config == _json(JCS_SUITE / "proofConfigJCS.json")
    canonical = canonicalize(config)
    assert canonical == (JCS_SUITE / "proofCanonJCS.txt").read_bytes()
    assert hashlib.sha256(canonical).hexdigest() == _text(JCS_SUITE / "proofHashJCS.txt")
    combined = di.hash_data(unsigned, config)
    assert combined.hex() == _text(JCS_SUITE / "combinedHashJCS.txt")
    assert len(combined) == 64


def test_signature_proof_value_and_signed_document_are_reproduced(key_pair):
    pair, secret = key_pair
    unsigned = _json(W3C / "unsigned.json")
    signed = di.create_proof(
        unsigned,
        secret,
        verification_method=_did_key_vm(pair),
        created="2023-02-24T23:36:38Z",
    )
    proof_value = signed["proof"]["proofValue"]
    signature = multikey.decode_base58btc(proof_value, length=64)
    assert signature.hex() == _text(JCS_SUITE / "sigHexJCS.txt")
    assert proof_value == _text(JCS_SUITE / "sigBTC58JCS.txt")
    assert signed == _json(JCS_SUITE / "signedJCS.json")
    # and member order too: the document serialises as the vector does
    assert list(signed) == list(_json(JCS_SUITE / "signedJCS.json"))
    assert list(signed["proof"]) == list(_json(JCS_SUITE / "signedJCS.json")["proof"])


def test_the_signed_vector_verifies_and_any_change_breaks_it(key_pair):
    pair, _secret = key_pair
    signed = _json(JCS_SUITE / "signedJCS.json")
    vm = _did_key_vm(pair)
    public = multikey.decode_public_key(pair["publicKeyMultibase"])

    def resolve(url):  # a test resolver: the platform's never resolves did:key
        return public if url == vm else None

    assert di.verify_proof(signed, resolve).ok
    changed = copy.deepcopy(signed)
    changed["credentialSubject"]["alumniOf"] = "The School of Counterfeits"
    assert di.verify_proof(changed, resolve).reason == "signature"
    changed = copy.deepcopy(signed)
    changed["proof"]["created"] = "2023-02-24T23:36:39Z"
    assert di.verify_proof(changed, resolve).reason == "signature"
    assert di.verify_proof(signed, lambda url: None).reason == "unknown_key"


# ---------------------------------------------------------------------------- RFC 8032


@pytest.mark.parametrize(
    "vector", _json(VECTORS / "rfc8032-ed25519" / "ed25519_vectors.json")["vectors"], ids=str
)
def test_rfc8032_ed25519(vector):
    secret = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["secret"]))
    public = secret.public_key().public_bytes_raw()
    assert public.hex() == vector["public"]
    message = bytes.fromhex(vector["message"])
    signature = secret.sign(message)
    assert signature.hex() == vector["signature"]
    Ed25519PublicKey.from_public_bytes(public).verify(signature, message)


# ---------------------------------------------------------------------------- RFC 8785


@pytest.mark.parametrize("name", sorted(p.name for p in (JCS / "input").iterdir()))
def test_rfc8785_reference_data(name):
    value = json.loads((JCS / "input" / name).read_bytes())
    assert canonicalize(value) == (JCS / "output" / name).read_bytes()


def _es6_samples():
    for line in _text(JCS / "es6-number-samples.csv").split():
        hex_bits, expected = line.split(",")
        yield pytest.param(struct.unpack(">d", bytes.fromhex(hex_bits))[0], expected, id=hex_bits)


@pytest.mark.parametrize("number, expected", list(_es6_samples()))
def test_es6_number_serialisation(number, expected):
    if expected == "null":
        with pytest.raises(CanonicalizationError):
            canonicalize(number)
    else:
        assert canonicalize(number).decode() == expected


@pytest.mark.parametrize(
    "value",
    [{1: "key is not a string"}, 10**400, "\ud800", {"x": object()}, float("nan")],
    ids=["int-key", "beyond-double", "lone-surrogate", "object", "nan"],
)
def test_values_without_a_canonical_form_are_refused(value):
    with pytest.raises(CanonicalizationError):
        canonicalize(value)


def test_large_integers_are_the_doubles_they_denote():
    """ES6 semantics, as a JavaScript signer sees them: 2**53 + 1 is the double 2**53."""
    assert canonicalize(2**53) == canonicalize(float(2**53)) == b"9007199254740992"
    assert canonicalize(2**53 + 1) == b"9007199254740992"
    assert canonicalize([10**21]) == b"[1e+21]"


# ---------------------------------------------------------------------------- properties

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


@settings(max_examples=200, deadline=None)
@given(_json_values.filter(lambda v: not _has_surrogates(v)))
def test_canonical_form_is_a_fixed_point_and_sorts_by_utf16(value):
    canonical = canonicalize(value)
    reparsed = json.loads(canonical)
    assert canonicalize(reparsed) == canonical
    _assert_equal_json(reparsed, value)
    for node in _objects(reparsed):
        keys = list(node)
        assert keys == sorted(keys, key=_utf16)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _json_values, max_size=5), st.data())
def test_sign_then_verify_round_trip(document, data):
    document = {k: v for k, v in document.items() if k != "proof"}
    if _has_surrogates(document):
        return
    secret = Ed25519PrivateKey.generate()
    public = secret.public_key().public_bytes_raw()
    vm = "did:web:example.test:institutions:x#key-1"
    signed = di.create_proof(
        document, secret, verification_method=vm, created="2027-01-01T00:00:00Z"
    )
    assert di.verify_proof(json.loads(json.dumps(signed)), lambda url: public).ok
    tampered = copy.deepcopy(signed)
    tampered[data.draw(st.text(min_size=1, max_size=8).filter(lambda k: k != "proof"))] = "extra"
    assert not di.verify_proof(tampered, lambda url: public).ok


def _has_surrogates(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _objects(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _objects(v)
    elif isinstance(value, list):
        for v in value:
            yield from _objects(v)


def _assert_equal_json(a, b):
    if isinstance(b, float) or isinstance(a, float):
        assert math.isclose(a, b, rel_tol=0, abs_tol=0) or a == b
    elif isinstance(b, dict):
        assert a.keys() == b.keys()
        for k in b:
            _assert_equal_json(a[k], b[k])
    elif isinstance(b, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_equal_json(x, y)
    else:
        assert a == b
