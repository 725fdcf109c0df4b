"""W3C Bitstring Status List v1.0: one revocation bit per credential.

Each institution has lists of at least 131,072 bits. A credential gets a random unused index
in the institution's current list (random, so neighbouring indexes say nothing about who
was issued when); its ``credentialStatus`` is a ``BitstringStatusListEntry`` naming the list
credential, which the platform serves signed at ``/institutions/<slug>/status/<id>``.
The bits are the entries' states; the list credential is signed when the list opens and
re-signed, under a row lock on the list, whenever a bit is set, so serving and verifying it
need no private key. Revocation is final (spec §2.1: not reversible)."""

from __future__ import annotations

import base64
import gzip
import json
import re
import secrets
import uuid
import zlib
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Institution, User
from lms.core.audit import record
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound
from lms.core.extensions import db
from lms.core.security import require
from lms.transcripts import keys
from lms.transcripts.dataintegrity import xml_datetime
from lms.transcripts.did import did_for, public_host
from lms.transcripts.models import MIN_LIST_BITS, StatusList, StatusListEntry

VC_V2 = "https://www.w3.org/ns/credentials/v2"
#: a list takes new credentials until this share of its indexes is taken
FILL_LIMIT = 0.5
#: largest decompressed list a verifier accepts (a gzip bomb stops here): 16 MiB of bits
MAX_LIST_BYTES = 16 * 1024 * 1024
_PATH = re.compile(r"/institutions/([a-z0-9-]{1,64})/status/([0-9a-f]{32})", flags=re.ASCII)


class StatusListError(ValueError):
    """An encoded list or a status entry is malformed."""


class Bitstring:
    """A bitstring whose index 0 is the left-most (most significant) bit of the first byte."""

    def __init__(self, size: int = MIN_LIST_BITS, data: bytes | None = None):
        if size <= 0 or size % 8:
            raise StatusListError("the size must be a positive multiple of 8")
        self.bytes = bytearray(data if data is not None else size // 8)
        if len(self.bytes) * 8 != size:
            raise StatusListError("size and data disagree")

    @property
    def size(self) -> int:
        return len(self.bytes) * 8

    def _where(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.size:
            raise IndexError(index)
        return index // 8, 0x80 >> (index % 8)

    def get(self, index: int) -> bool:
        byte, mask = self._where(index)
        return bool(self.bytes[byte] & mask)

    def set(self, index: int) -> None:
        byte, mask = self._where(index)
        self.bytes[byte] |= mask

    def clear(self, index: int) -> None:
        byte, mask = self._where(index)
        self.bytes[byte] &= ~mask & 0xFF

    def encode(self) -> str:
        """``'u' + base64url(GZIP(bits))`` without padding (spec §2.1 ``encodedList``).
        The gzip header carries no time, so one state has one encoding."""
        packed = gzip.compress(bytes(self.bytes), mtime=0)
        return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, encoded: object, *, max_bytes: int = MAX_LIST_BYTES) -> Bitstring:
        """Decode an ``encodedList``, refusing anything but multibase base64url GZIP data and
        anything that inflates beyond ``max_bytes``."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList must be multibase base64url ('u')")
        body = encoded[1:]
        if not re.fullmatch(r"[A-Za-z0-9_-]*", body, flags=re.ASCII):
            raise StatusListError("encodedList is not base64url")
        try:
            packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            data = inflater.decompress(packed, max_bytes + 1)
        except (ValueError, zlib.error) as exc:
            raise StatusListError("encodedList is not GZIP data") from exc
        if len(data) > max_bytes or not inflater.eof or inflater.unused_data:
            raise StatusListError("encodedList is too large or truncated")
        if len(data) * 8 < MIN_LIST_BITS:
            raise StatusListError("the status list is shorter than 131,072 bits")
        return cls(len(data) * 8, data)


# ---------------------------------------------------------------------------- URLs


def list_url(status_list: StatusList) -> str:
    """``https://<host>/institutions/<slug>/status/<id>`` (the list credential's id)."""
    slug = status_list.institution.slug
    return f"https://{public_host()}/institutions/{slug}/status/{status_list.public_id}"


def parse_list_url(url: object) -> tuple[str, str] | None:
    """``(slug, public id)`` of a status-list URL of this platform, else None."""
    if not isinstance(url, str) or len(url) > 500:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.netloc.lower() != public_host():
        return None
    if parts.query or parts.fragment:
        return None
    match = _PATH.fullmatch(parts.path)
    return (match.group(1), match.group(2)) if match else None


# ---------------------------------------------------------------------------- allocation


def _open_list(institution: Institution, purpose: str) -> StatusList:
    """The institution's list that still takes credentials, opening a new one when the
    latest is full."""
    latest = db.session.scalar(
        select(StatusList)
        .filter_by(institution_id=institution.id, purpose=purpose)
        .order_by(StatusList.id.desc())
        .limit(1)
    )
    if latest is not None:
        taken = db.session.scalar(
            select(func.count()).select_from(StatusListEntry).filter_by(status_list_id=latest.id)
        )
        if (taken or 0) < latest.size * FILL_LIMIT:
            return latest
    new = StatusList(
        public_id=uuid.uuid4().hex,
        institution=institution,
        purpose=purpose,
        size=MIN_LIST_BITS,
    )
    db.session.add(new)
    db.session.flush()
    _sign_list(new)
    return new


def allocate(
    institution: Institution, credential_id: str, *, purpose: str = "revocation"
) -> StatusListEntry:
    """Give a credential a random unused index in the institution's current list.

    An index is never given twice (a unique constraint; a draw that collides, even with a
    concurrent request, is simply drawn again) and a credential id gets one entry only."""
    if not credential_id or len(credential_id) > 200:
        raise ValueError("a credential id of 1 to 200 characters is needed")
    if db.session.scalar(select(StatusListEntry.id).filter_by(credential_id=credential_id)):
        raise Conflict(_("This credential already has a status entry."))
    status_list = _open_list(institution, purpose)
    for _attempt in range(64):
        index = secrets.randbelow(status_list.size)
        taken = db.session.scalar(
            select(StatusListEntry.id).filter_by(status_list_id=status_list.id, bit_index=index)
        )
        if taken is not None:
            continue
        entry = StatusListEntry(
            status_list=status_list, bit_index=index, credential_id=credential_id
        )
        try:
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
        except IntegrityError:
            continue
        return entry
    raise Conflict(_("No free status index was found. Please try again."))


def entry_for(credential_id: str) -> StatusListEntry | None:
    return db.session.scalar(select(StatusListEntry).filter_by(credential_id=credential_id))


def credential_status(entry: StatusListEntry) -> dict[str, str]:
    """The ``credentialStatus`` member of the credential holding ``entry``."""
    url = list_url(entry.status_list)
    return {
        "id": f"{url}#{entry.bit_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": entry.status_list.purpose,
        "statusListIndex": str(entry.bit_index),
        "statusListCredential": url,
    }


def revoke(
    actor: User | None,
    credential_id: str,
    *,
    reason: str = "",
    now: datetime | None = None,
) -> StatusListEntry:
    """Set a credential's revocation bit.

    Its institution's registrars and administrators may (``actor=None`` is the system);
    revoking twice is refused, and no operation clears the bit again. Audited."""
    entry = entry_for(credential_id)
    if entry is None:
        raise NotFound(_("No credential with this identifier has a status entry."))
    if actor is not None:
        require(actor, "transcripts.revoke", entry.status_list.institution)
    # The list row is locked before its bits are read, so two revocations in the same list
    # at once each re-sign a list that holds the other's bit.
    status_list = db.session.scalar(
        select(StatusList)
        .where(StatusList.id == entry.status_list_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    db.session.refresh(entry)
    if entry.set_at is not None:
        raise Conflict(_("This credential is already revoked."))
    now = now or utcnow()
    entry.set_at = now
    status_list.updated_at = now
    db.session.flush()
    _sign_list(status_list)
    record(
        actor,
        "transcripts.credential_revoked",
        "credential",
        credential_id[:80],
        after={"status_list": status_list.public_id, "index": entry.bit_index},
        reason=reason,
    )
    return entry


# ---------------------------------------------------------------------------- serving


def bitstring(status_list: StatusList) -> Bitstring:
    """The list's bits: set for every entry whose bit is set."""
    bits = Bitstring(status_list.size)
    for index in db.session.scalars(
        select(StatusListEntry.bit_index).where(
            StatusListEntry.status_list_id == status_list.id, StatusListEntry.set_at.is_not(None)
        )
    ):
        bits.set(index)
    return bits


def get_list(slug: str, public_id: str) -> StatusList:
    status_list = db.session.scalar(
        select(StatusList)
        .join(StatusList.institution)
        .where(StatusList.public_id == public_id, Institution.slug == slug)
    )
    if status_list is None:
        raise NotFound(_("No status list with this identifier."))
    return status_list


def list_credential(status_list: StatusList) -> dict[str, Any]:
    """The signed ``BitstringStatusListCredential`` of a list, as signed at its last change."""
    return json.loads(status_list.signed_credential)


def _sign_list(status_list: StatusList) -> None:
    """Sign the list's current state with the institution's active key and keep it. Its
    dates are the list's last change."""
    url = list_url(status_list)
    institution = status_list.institution
    document = {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did_for(institution),
        "validFrom": xml_datetime(status_list.updated_at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": bitstring(status_list).encode(),
        },
    }
    signed = keys.sign(document, institution, created=status_list.updated_at)
    status_list.signed_credential = json.dumps(signed, ensure_ascii=False)
    db.session.flush()


def resolve_list_credential(url: object) -> dict[str, Any] | None:
    """The list credential a ``statusListCredential`` URL names, if this platform serves it
    (read from the database; nothing is fetched)."""
    parsed = parse_list_url(url)
    if parsed is None:
        return None
    try:
        return list_credential(get_list(*parsed))
    except NotFound:
        return None
