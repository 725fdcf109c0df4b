"""Verifying a credential: is it what its issuer signed, and does the issuer still stand by it?

``verify_credential(doc, resolver=...)`` answers ``{"status", "checks"}`` where ``status`` is

- ``valid``           — signed by a key the issuer's DID document publishes, unchanged since,
                        not revoked, not superseded;
- ``unknown_issuer``  — the signing key is not one the issuer (an institution on this
                        platform) publishes: another platform, a ``did:key``, a stranger's key;
- ``tampered``        — not signed, an unacceptable proof, or content changed after signing;
- ``revoked``         — the issuer set its bit in the status list (or its validity ended);
- ``superseded``      — the issuer has issued a newer version (decided by registered hooks).

and ``checks`` lists each check made, ``{"check", "ok", "detail"}``, the detail translated.
Input from outside is parsed by ``lms.transcripts.untrusted.parse_untrusted`` first."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from flask_babel import gettext as _
from flask_babel import ngettext

from lms.core.db import utcnow
from lms.core.i18n import current_locale
from lms.transcripts import did as did_module
from lms.transcripts import statuslist
from lms.transcripts.dataintegrity import ProofResult, is_xml_datetime, verify_proof

VC_V2 = "https://www.w3.org/ns/credentials/v2"
STATUSES = ("valid", "revoked", "superseded", "tampered", "unknown_issuer")
#: members that carry key material; keys come from DID documents, never from a credential
KEY_MEMBERS = frozenset(
    {
        "publicKeyMultibase",
        "publicKeyJwk",
        "publicKeyBase58",
        "publicKeyHex",
        "publicKeyPem",
        "secretKeyMultibase",
        "privateKeyMultibase",
        "privateKeyJwk",
    }
)
_INDEX = re.compile(r"0|[1-9][0-9]{0,11}", flags=re.ASCII)


# ---------------------------------------------------------------------------- resolvers


class Resolver(Protocol):
    """Where verification gets what it trusts: keys and status lists, by URL."""

    def key(self, verification_method: str) -> bytes | None: ...

    def status_list(self, url: str) -> dict[str, Any] | None: ...


class PlatformResolver:
    """Keys from the DID documents of this platform's institutions, status lists from its
    own database: nothing is fetched, and nothing outside the platform is trusted."""

    def key(self, verification_method: str) -> bytes | None:
        return did_module.resolve_key(verification_method)

    def status_list(self, url: str) -> dict[str, Any] | None:
        return statuslist.resolve_list_credential(url)


platform_resolver = PlatformResolver()

#: hooks deciding whether a credential id has been superseded (registered by issuance)
_superseded_hooks: list[Callable[[str], bool]] = []


def register_superseded_check(hook: Callable[[str], bool]) -> Callable[[str], bool]:
    """Register ``hook(credential_id) -> bool``: True when a newer version replaced it."""
    if hook not in _superseded_hooks:
        _superseded_hooks.append(hook)
    return hook


def unregister_superseded_check(hook: Callable[[str], bool]) -> None:
    if hook in _superseded_hooks:
        _superseded_hooks.remove(hook)


# ---------------------------------------------------------------------------- checks


class _Report:
    def __init__(self) -> None:
        self.checks: list[dict[str, Any]] = []

    def add(self, check: str, ok: bool, detail: str) -> bool:
        self.checks.append({"check": check, "ok": ok, "detail": detail})
        return ok

    def result(self, status: str) -> dict[str, Any]:
        return {"status": status, "checks": self.checks}


def _short(value: object, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:limit]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _types(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return []


def issuer_id(doc: dict[str, Any]) -> str | None:
    """The issuer's id: ``issuer`` as a string, or the ``id`` of an issuer object."""
    issuer = doc.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _format_problem(doc: dict[str, Any]) -> str | None:
    context = doc.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2:
        return _("The document does not use the Verifiable Credentials 2.0 context.")
    if "VerifiableCredential" not in _types(doc.get("type")):
        return _("The document is not of type VerifiableCredential.")
    if issuer_id(doc) is None:
        return _("The credential does not name its issuer.")
    if not isinstance(doc.get("credentialSubject"), dict | list):
        return _("The credential has no subject.")
    for name in ("validFrom", "validUntil"):
        if name in doc and not is_xml_datetime(doc[name]):
            return _("The credential's validity dates are not valid dates.")
    return None


def _carries_key(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if KEY_MEMBERS & node.keys():
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _proof_message(result: ProofResult) -> str:
    messages = {
        "missing": _("The credential has no proof: it is not signed."),
        "malformed": _("The proof is malformed."),
        "embedded_key": _(
            "The proof embeds its own key; keys are only taken from the issuer's DID document."
        ),
        "cryptosuite": _("The proof does not use the eddsa-jcs-2022 Data Integrity cryptosuite."),
        "purpose": _("The proof is not an assertion (its proofPurpose must be assertionMethod)."),
        "created": _("The proof's dates are not valid dates."),
        "context": _("The proof's @context does not match the credential's."),
        "proof_value": _("The proof value is not a valid Ed25519 signature in base58btc."),
        "canonical": _("The credential holds values that have no canonical JSON form."),
        "unknown_key": _(
            "The signing key %(key)s is not published in a DID document of an institution "
            "on this platform.",
            key=_short(result.verification_method),
        ),
        "signature": _("The signature does not match the content: it was changed after signing."),
        "issuer_mismatch": _(
            "The credential was signed with a key that does not belong to its issuer."
        ),
    }
    return messages.get(result.reason, messages["malformed"])


def _status_for(reason: str) -> str:
    return "unknown_issuer" if reason in {"unknown_key", "issuer_mismatch"} else "tampered"


def _check_proof(report: _Report, doc: dict[str, Any], resolver: Resolver) -> str | None:
    """The signature checks; returns the failing status, or None when all passed."""
    issuer = issuer_id(doc)
    result = verify_proof(doc, resolver.key, issuer=issuer)
    if not result.ok:
        check = {"unknown_key": "key", "issuer_mismatch": "key", "signature": "signature"}
        report.add(check.get(result.reason, "proof"), False, _proof_message(result))
        return _status_for(result.reason)
    report.add("proof", True, _("The proof is an eddsa-jcs-2022 Data Integrity proof."))
    institution = did_module.institution_for_did(issuer)
    name = institution.name_in(current_locale())[0] if institution is not None else issuer
    report.add(
        "key",
        True,
        _(
            "Signed with the key %(key)s, published in the DID document of %(issuer)s.",
            key=_short(result.verification_method),
            issuer=name,
        ),
    )
    report.add("signature", True, _("The signature matches the content."))
    return None


def _check_embedded(report: _Report, doc: dict[str, Any], resolver: Resolver) -> str | None:
    """Credentials a ClrSubject embeds must verify on their own too."""
    subject = doc.get("credentialSubject")
    nested = subject.get("verifiableCredential") if isinstance(subject, dict) else None
    if nested is None:
        return None
    if not isinstance(nested, list) or not all(isinstance(n, dict) for n in nested):
        report.add("embedded_credentials", False, _("The embedded credentials are malformed."))
        return "tampered"
    for number, credential in enumerate(nested, start=1):
        result = verify_proof(credential, resolver.key, issuer=issuer_id(credential))
        if not result.ok:
            report.add(
                "embedded_credentials",
                False,
                _(
                    "Embedded credential %(number)d: %(problem)s",
                    number=number,
                    problem=_proof_message(result),
                ),
            )
            return _status_for(result.reason)
    report.add(
        "embedded_credentials",
        True,
        ngettext(
            "The embedded credential verifies.",
            "All %(num)d embedded credentials verify.",
            len(nested),
        ),
    )
    return None


def _status_entries(doc: dict[str, Any]) -> list[Any]:
    status = doc.get("credentialStatus")
    if status is None:
        return []
    return status if isinstance(status, list) else [status]


def _check_status(report: _Report, doc: dict[str, Any], resolver: Resolver) -> str | None:
    """Bitstring Status List v1.0 §3.2: each entry's list credential must verify, belong to
    the credential's issuer and have the entry's purpose; a set revocation bit revokes."""
    entries = _status_entries(doc)
    if not entries:
        report.add("status", True, _("The credential has no revocation status entry."))
        return None
    issuer = issuer_id(doc)
    revoked = False
    for entry in entries:
        problem = None
        if (
            not isinstance(entry, dict)
            or entry.get("type") != "BitstringStatusListEntry"
            or not isinstance(entry.get("statusListIndex"), str)
            or not _INDEX.fullmatch(entry["statusListIndex"])
            or not isinstance(entry.get("statusListCredential"), str)
        ):
            problem = _("The credential's status entry is malformed.")
        elif entry.get("statusPurpose") != "revocation":
            problem = _("The credential's status entry has a purpose this platform cannot check.")
        if problem:
            report.add("status", False, problem)
            return "tampered"
        list_doc = resolver.status_list(entry["statusListCredential"])
        if list_doc is None:
            report.add(
                "status_list",
                False,
                _("The status list named by the credential is not published by its issuer."),
            )
            return "tampered"
        problem = _status_list_problem(list_doc, entry, issuer, resolver)
        if problem:
            report.add("status_list", False, problem)
            return "tampered"
        bits = statuslist.Bitstring.decode(list_doc["credentialSubject"]["encodedList"])
        index = int(entry["statusListIndex"])
        if index >= bits.size:
            report.add("status", False, _("The credential's status index lies outside its list."))
            return "tampered"
        revoked = revoked or bits.get(index)
    report.add("status_list", True, _("The issuer's signed status list was checked."))
    if revoked:
        report.add("revocation", False, _("The issuer has revoked this credential."))
        return "revoked"
    report.add("revocation", True, _("The credential is not revoked."))
    return None


def _status_list_problem(
    list_doc: dict[str, Any], entry: dict[str, Any], issuer: str | None, resolver: Resolver
) -> str | None:
    proof = verify_proof(list_doc, resolver.key, issuer=issuer_id(list_doc))
    if not proof.ok:
        return _("The status list's signature does not verify.")
    subject = list_doc.get("credentialSubject")
    if (
        issuer_id(list_doc) != issuer
        or list_doc.get("id") != entry["statusListCredential"]
        or "BitstringStatusListCredential" not in _types(list_doc.get("type"))
        or not isinstance(subject, dict)
        or subject.get("type") != "BitstringStatusList"
        or subject.get("statusPurpose") != entry["statusPurpose"]
    ):
        return _("The status list does not belong to this credential's issuer and purpose.")
    try:
        statuslist.Bitstring.decode(subject.get("encodedList"))
    except statuslist.StatusListError:
        return _("The status list is malformed.")
    return None


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def verify_credential(
    doc: Any, *, resolver: Resolver, now: datetime | None = None
) -> dict[str, Any]:
    """Verify a credential; see the module docstring for the statuses and their order.

    The checks run in order and stop at the first failure that decides the status; a
    credential is ``valid`` only when every check passed."""
    report = _Report()
    if not isinstance(doc, dict):
        report.add("format", False, _("A credential is a JSON object, not a list or a value."))
        return report.result("tampered")
    problem = _format_problem(doc)
    if problem:
        report.add("format", False, problem)
        return report.result("tampered")
    report.add("format", True, _("The document is a W3C Verifiable Credential 2.0."))
    if _carries_key(doc):
        report.add(
            "embedded_keys",
            False,
            _("The credential carries key material; keys are only taken from DID documents."),
        )
        return report.result("tampered")
    for step in (_check_proof, _check_embedded, _check_status):
        failed = step(report, doc, resolver)
        if failed:
            return report.result(failed)
    credential_id = doc.get("id")
    if isinstance(credential_id, str) and any(h(credential_id) for h in _superseded_hooks):
        report.add(
            "superseded",
            False,
            _("The issuer has issued a newer version of this credential, which replaces it."),
        )
        return report.result("superseded")
    now = now or utcnow()
    if "validFrom" in doc and _parse_time(doc["validFrom"]) > now:
        report.add(
            "validity_period",
            False,
            _("The credential is not valid before %(date)s.", date=doc["validFrom"]),
        )
        return report.result("revoked")
    if "validUntil" in doc and _parse_time(doc["validUntil"]) < now:
        report.add(
            "validity_period",
            False,
            _("The credential expired on %(date)s.", date=doc["validUntil"]),
        )
        return report.result("revoked")
    report.add("validity_period", True, _("The credential is within its validity period."))
    return report.result("valid")
