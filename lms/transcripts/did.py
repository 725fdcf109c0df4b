"""``did:web`` identifiers and DID documents of the institutions hosted on this platform.

An institution's DID is ``did:web:<host>:institutions:<slug>`` (a port's colon written
``%3A``), which the did:web method resolves to ``https://<host>/institutions/<slug>/did.json``;
the platform serves that document with one ``Multikey`` verification method per signing key,
active or retired, each listed under ``assertionMethod``.

Verification resolves these DIDs from the database, never over the network, and only for
the platform's own host: a credential cannot point the verifier at a key of its choosing."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import Institution
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.transcripts.dataintegrity import did_of
from lms.transcripts.models import IssuerKey
from lms.transcripts.multikey import MultibaseError, decode_public_key

DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::[0-9]{1,5})?", flags=re.ASCII)
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", flags=re.ASCII)


class PublicHostUnknown(DomainError):
    status = 503
    slug = "public-host-unknown"
    title = _l("The platform's public address is not configured")


def public_host() -> str:
    """The platform's public ``host[:port]``: ``LMS_PUBLIC_HOST``, else this request's host,
    else (CLI, jobs) the host of ``LMS_BASE_URL``. Set it in production: the identifiers of
    every credential the platform signs are built from it."""
    host = (
        current_app.config.get("PUBLIC_HOST")
        or (request.host if has_request_context() else "")
        or urlsplit(current_app.config.get("BASE_URL") or "").netloc
    )
    host = (host or "").strip().lower()
    if not host:
        raise PublicHostUnknown(
            _("The platform's public address is not configured (set LMS_PUBLIC_HOST).")
        )
    if not _HOST.fullmatch(host):
        raise PublicHostUnknown(_("The platform's public address is not a valid host name."))
    return host


def did_for(institution: Institution) -> str:
    """``did:web:127.0.0.1%3A5000:institutions:nanning-vtc``."""
    return f"did:web:{quote(public_host(), safe='.-')}:institutions:{institution.slug}"


def slug_from_did(did: object) -> str | None:
    """The slug of an institution whose DID this is on this platform's host, else None."""
    if not isinstance(did, str) or not did.startswith("did:web:"):
        return None
    parts = did.split(":")
    if len(parts) != 5 or parts[3] != "institutions" or not _SLUG.fullmatch(parts[4]):
        return None
    if unquote(parts[2]).lower() != public_host():
        return None
    return parts[4]


def institution_for_did(did: object) -> Institution | None:
    slug = slug_from_did(did)
    if slug is None:
        return None
    return db.session.scalar(select(Institution).filter_by(slug=slug))


def issuer_keys(institution: Institution) -> list[IssuerKey]:
    """Every signing key of the institution, oldest first (retired ones included)."""
    return list(
        db.session.scalars(
            select(IssuerKey)
            .filter_by(institution_id=institution.id)
            .order_by(IssuerKey.created_at, IssuerKey.id)
        )
    )


def did_document(institution: Institution) -> dict[str, Any]:
    """The DID document served at ``/institutions/<slug>/did.json``."""
    did = did_for(institution)
    methods = [
        {
            "id": f"{did}#{key.fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_multikey,
        }
        for key in issuer_keys(institution)
    ]
    return {
        "@context": list(DID_CONTEXT),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def resolve_did(did: object) -> dict[str, Any] | None:
    """The DID document of a DID hosted on this platform, else None (never fetched)."""
    institution = institution_for_did(did)
    return did_document(institution) if institution is not None else None


def resolve_key(verification_method: str) -> bytes | None:
    """The raw Ed25519 public key a verification method URL names, read from the issuer's
    DID document: only a ``Multikey`` that the document lists under ``assertionMethod``."""
    document = resolve_did(did_of(verification_method))
    if document is None or verification_method not in document["assertionMethod"]:
        return None
    for method in document["verificationMethod"]:
        if method["id"] == verification_method and method["type"] == "Multikey":
            if method["controller"] != document["id"]:
                return None
            try:
                return decode_public_key(method["publicKeyMultibase"])
            except MultibaseError:
                return None
    return None
