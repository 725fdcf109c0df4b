"""W3C Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (vc-di-eddsa §3.3).

Creating: the proof configuration is the proof options plus the document's ``@context``;
``hashData = SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document without proof))``; the proof is
the configuration plus ``proofValue = 'z' + base58btc(Ed25519(hashData))``.

Verifying: the public key comes only from ``resolve_key(verificationMethod)`` — the caller's
resolver, which for this platform reads the issuer's DID document — never from anything the
document carries. Unknown proof types and cryptosuites, a purpose other than
``assertionMethod``, a ``verificationMethod`` that is not a URL of the issuer's own DID (an
embedded key, a ``did:key``), extra proof members and malformed multibase are refused."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lms.transcripts.jcs import CanonicalizationError, canonicalize
from lms.transcripts.multikey import MultibaseError, decode_base58btc, encode_base58btc

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
ASSERTION = "assertionMethod"
#: members a proof may have (vc-data-integrity §2.1); anything else, such as a public key
#: slipped in beside the signature, makes the proof unacceptable.
PROOF_MEMBERS = frozenset(
    {
        "@context",
        "id",
        "type",
        "cryptosuite",
        "created",
        "expires",
        "verificationMethod",
        "proofPurpose",
        "proofValue",
        "domain",
        "challenge",
        "nonce",
    }
)
_DATETIME = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", flags=re.ASCII
)

#: verificationMethod URL -> raw 32-byte Ed25519 public key, or None when unknown
KeyResolver = Callable[[str], bytes | None]


class ProofError(ValueError):
    """The proof cannot be accepted. ``reason`` is a stable slug (see ``verify_proof``)."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


def xml_datetime(moment: datetime) -> str:
    """``2027-03-01T09:00:00Z``: a UTC XML Schema dateTime, to the second."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_xml_datetime(value: object) -> bool:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def did_of(url: str) -> str:
    """The DID of a DID URL (``did:web:x#key-1`` → ``did:web:x``)."""
    return url.split("#", 1)[0].split("?", 1)[0]


# ---------------------------------------------------------------------------- hashing


def proof_config(document: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The proof configuration of vc-di-eddsa §3.3.5: the options without ``proofValue``,
    with the document's ``@context``. Refuses other types and cryptosuites, and a
    ``created`` that is not an XML Schema dateTime."""
    config = {k: v for k, v in options.items() if k != "proofValue"}
    if config.get("type") != PROOF_TYPE or config.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("cryptosuite", "only DataIntegrityProof / eddsa-jcs-2022")
    if "created" in config and not is_xml_datetime(config["created"]):
        raise ProofError("created", "created is not an XML Schema dateTime")
    if "@context" in document:
        config["@context"] = document["@context"]
    return config


def unsecured(document: dict[str, Any]) -> dict[str, Any]:
    """The document without its ``proof``."""
    return {k: v for k, v in document.items() if k != "proof"}


def hash_data(document: dict[str, Any], config: dict[str, Any]) -> bytes:
    """``SHA-256(JCS(config)) ‖ SHA-256(JCS(document))`` (64 bytes), the data signed."""
    try:
        config_hash = hashlib.sha256(canonicalize(config)).digest()
        document_hash = hashlib.sha256(canonicalize(unsecured(document))).digest()
    except CanonicalizationError as exc:
        raise ProofError("canonical", str(exc)) from exc
    return config_hash + document_hash


# ---------------------------------------------------------------------------- creating


def create_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: datetime | str,
    proof_purpose: str = ASSERTION,
) -> dict[str, Any]:
    """A copy of ``document`` secured with an ``eddsa-jcs-2022`` DataIntegrityProof.

    The proof carries the document's ``@context`` (as the W3C test vector does), so the
    proof configuration that was hashed can be rebuilt from the proof alone."""
    if "proof" in document:
        raise ValueError("the document already has a proof")
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created if isinstance(created, str) else xml_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    config = proof_config(document, options)
    signature = private_key.sign(hash_data(document, config))
    secured = copy.deepcopy(document)
    secured["proof"] = {**config, "proofValue": encode_base58btc(signature)}
    return secured


# ---------------------------------------------------------------------------- verifying


@dataclass
class ProofResult:
    """The outcome of ``verify_proof``: ``ok``, or the first ``reason`` it failed for.

    Reasons: ``missing``, ``malformed``, ``embedded_key``, ``cryptosuite``, ``purpose``,
    ``created``, ``context``, ``proof_value``, ``canonical`` (the proof or document is not
    acceptable); ``unknown_key`` (the resolver knows no such key); ``signature`` (the
    signature does not match the content); ``issuer_mismatch`` (a valid signature by a key
    that is not the issuer's)."""

    ok: bool
    reason: str = ""
    verification_method: str = ""
    detail: str = ""


def single_proof(document: dict[str, Any]) -> dict[str, Any]:
    """The document's one proof (an object, or a list holding exactly one object).

    Proof sets and chains are refused: a second proof appended to a credential must not
    change what it says."""
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if proof is None:
        raise ProofError("missing", "the document has no proof")
    if not isinstance(proof, dict):
        raise ProofError("malformed", "the proof must be one object")
    return proof


def check_proof_shape(proof: dict[str, Any]) -> str:
    """Every structural rule of an acceptable proof; returns its verificationMethod."""
    vm = proof.get("verificationMethod")
    if isinstance(vm, dict):
        raise ProofError("embedded_key", "the verification method is embedded, not referenced")
    extra = set(proof) - PROOF_MEMBERS
    if extra:
        raise ProofError("malformed", "unexpected proof members: " + ", ".join(sorted(extra)))
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("cryptosuite", "only DataIntegrityProof / eddsa-jcs-2022")
    if proof.get("proofPurpose") != ASSERTION:
        raise ProofError("purpose", "the proof purpose must be assertionMethod")
    if not isinstance(vm, str) or not vm.startswith("did:") or "#" not in vm:
        raise ProofError("malformed", "verificationMethod must be a DID URL")
    if "created" in proof and not is_xml_datetime(proof["created"]):
        raise ProofError("created", "created is not an XML Schema dateTime")
    if "expires" in proof and not is_xml_datetime(proof["expires"]):
        raise ProofError("created", "expires is not an XML Schema dateTime")
    return vm


def verify_proof(
    document: dict[str, Any],
    resolve_key: KeyResolver,
    *,
    issuer: str | None = None,
) -> ProofResult:
    """Verify the document's ``eddsa-jcs-2022`` proof (vc-di-eddsa §3.3.2).

    The key is whatever ``resolve_key`` returns for the verification method URL; a key the
    document carries is never used. ``issuer``, when given, is the DID the verification
    method must belong to; it is compared after the signature, so that a credential whose
    issuer was edited reads as changed (``signature``) rather than as foreign."""
    vm = ""
    try:
        if not isinstance(document, dict):
            raise ProofError("malformed", "a secured document is a JSON object")
        proof = single_proof(document)
        vm = check_proof_shape(proof)
        signature = _proof_value(proof.get("proofValue"))
        unsecured_doc = unsecured(document)
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        if "@context" in options:
            # §3.3.2: the document's @context must start with the proof's, which then
            # replaces it for hashing.
            proof_ctx, doc_ctx = options["@context"], document.get("@context")
            if not isinstance(proof_ctx, list) or not isinstance(doc_ctx, list):
                raise ProofError("context", "@context must be a list")
            if doc_ctx[: len(proof_ctx)] != proof_ctx:
                raise ProofError("context", "the proof's @context does not match the document's")
            unsecured_doc["@context"] = proof_ctx
        config = proof_config(unsecured_doc, options)
        data = hash_data(unsecured_doc, config)
        raw_key = resolve_key(vm)
        if raw_key is None:
            raise ProofError("unknown_key", "the verification method cannot be resolved")
        try:
            Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, data)
        except (InvalidSignature, ValueError):
            raise ProofError("signature", "the signature does not match") from None
        if issuer is not None and did_of(vm) != issuer:
            raise ProofError("issuer_mismatch", "the verification method is not the issuer's")
    except ProofError as exc:
        return ProofResult(ok=False, reason=exc.reason, verification_method=vm, detail=str(exc))
    return ProofResult(ok=True, verification_method=vm)


def _proof_value(value: object) -> bytes:
    try:
        return decode_base58btc(value, length=64)
    except MultibaseError as exc:
        raise ProofError("proof_value", f"proofValue: {exc}") from exc
