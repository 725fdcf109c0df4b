"""Institutions' Ed25519 signing keys: created on first use, rotated on request, the private
part encrypted at rest.

The encryption key is derived (HKDF-SHA-256) from ``LMS_KEY_ENCRYPTION_KEY``, a secret kept
apart from the database: a copy of the database alone reveals no private key. When the
setting is empty, a random secret is generated into ``instance/key_encryption_key`` (mode
0600) on first use, like the session secret; several web nodes must share one value.
Each ciphertext is AES-256-GCM with the institution id and key fragment as associated data,
so a ciphertext moved to another row does not decrypt."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Institution, User
from lms.core.audit import record
from lms.core.db import utcnow
from lms.core.errors import Conflict, DomainError
from lms.core.extensions import db
from lms.core.security import require
from lms.transcripts import dataintegrity
from lms.transcripts.did import did_for
from lms.transcripts.models import IssuerKey
from lms.transcripts.multikey import encode_public_key

KEK_FILE = "key_encryption_key"
_FORMAT_V1 = b"\x01"


class SigningUnavailable(DomainError):
    status = 503
    slug = "signing-unavailable"
    title = _l("Signing is not available")


# ---------------------------------------------------------------------------- encryption


def _instance_secret(name: str) -> str:
    """Read ``instance/<name>``, creating it (mode 0600, random) on first use."""
    path = Path(current_app.instance_path) / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def _encryption_key() -> bytes:
    secret = current_app.config.get("KEY_ENCRYPTION_KEY")
    if not secret:
        secret = current_app.config["KEY_ENCRYPTION_KEY"] = _instance_secret(KEK_FILE)
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"lms.transcripts.issuer-keys",
        info=b"AES-256-GCM issuer private keys v1",
    ).derive(secret.encode())


def _associated_data(institution_id: int, fragment: str) -> bytes:
    return f"issuer-key:{institution_id}:{fragment}".encode()


def encrypt_seed(seed: bytes, institution_id: int, fragment: str) -> bytes:
    """``0x01 ‖ nonce(12) ‖ AES-256-GCM(seed)``, bound to the key's institution and fragment."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_encryption_key()).encrypt(
        nonce, seed, _associated_data(institution_id, fragment)
    )
    return _FORMAT_V1 + nonce + sealed


def private_key(key: IssuerKey) -> Ed25519PrivateKey:
    """Decrypt a signing key. Fails with a clear error when the encryption secret is not the
    one the key was stored with (the key cannot sign, but still verifies)."""
    blob = key.private_key_encrypted
    try:
        if blob[:1] != _FORMAT_V1:
            raise InvalidTag
        seed = AESGCM(_encryption_key()).decrypt(
            blob[1:13], blob[13:], _associated_data(key.institution_id, key.fragment)
        )
    except (InvalidTag, ValueError):
        raise SigningUnavailable(
            _(
                "The institution's signing key cannot be unlocked: the key encryption secret "
                "is not the one it was stored with."
            )
        ) from None
    return Ed25519PrivateKey.from_private_bytes(seed)


# ---------------------------------------------------------------------------- keys


def _active(institution: Institution, *, lock: bool = False) -> IssuerKey | None:
    stmt = select(IssuerKey).filter_by(institution_id=institution.id, retired_at=None)
    if lock:
        stmt = stmt.with_for_update()
    return db.session.scalar(stmt)


def _new_key(institution: Institution, now: datetime) -> IssuerKey:
    count = db.session.scalar(
        select(func.count()).select_from(IssuerKey).filter_by(institution_id=institution.id)
    )
    fragment = f"key-{(count or 0) + 1}"
    secret = Ed25519PrivateKey.generate()
    key = IssuerKey(
        institution=institution,
        fragment=fragment,
        public_multikey=encode_public_key(secret.public_key().public_bytes_raw()),
        private_key_encrypted=encrypt_seed(secret.private_bytes_raw(), institution.id, fragment),
        created_at=now,
    )
    db.session.add(key)
    return key


def active_key(institution: Institution, *, now: datetime | None = None) -> IssuerKey:
    """The institution's active signing key, created (and audited) on first use.

    Two requests creating the first key at once cannot both succeed: a partial unique index
    allows one active key per institution, and the loser uses the winner's."""
    key = _active(institution)
    if key is not None:
        return key
    try:
        with db.session.begin_nested():
            key = _new_key(institution, now or utcnow())
            db.session.flush()
    except IntegrityError:
        key = _active(institution)
        if key is None:
            raise
        return key
    record(
        None,
        "transcripts.key_created",
        "institution",
        institution.id,
        after={"fragment": key.fragment, "public_key": key.public_multikey},
    )
    return key


def rotate_key(
    actor: User | None, institution: Institution, *, now: datetime | None = None
) -> IssuerKey:
    """Retire the institution's active key and create its successor.

    Only its administrators and registrars may (``actor=None`` is the CLI). The retired key
    stays in the DID document, so every credential it signed still verifies; new
    credentials are signed with the new key. Audited."""
    if actor is not None:
        require(actor, "transcripts.manage_keys", institution)
    now = now or utcnow()
    old = _active(institution, lock=True)
    try:
        with db.session.begin_nested():
            if old is not None:
                old.retired_at = now
                db.session.flush()
            new = _new_key(institution, now)
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _("The signing key was changed by someone else at the same time. Please try again.")
        ) from None
    record(
        actor,
        "transcripts.key_rotated",
        "institution",
        institution.id,
        before={"fragment": old.fragment if old else None},
        after={"fragment": new.fragment, "public_key": new.public_multikey},
    )
    return new


def verification_method(key: IssuerKey) -> str:
    """The DID URL of a key: ``<institution DID>#<fragment>``."""
    return f"{did_for(key.institution)}#{key.fragment}"


def sign(document: dict[str, Any], institution: Institution, *, created: datetime) -> dict:
    """``document`` secured with an ``eddsa-jcs-2022`` proof by the institution's active key."""
    key = active_key(institution)
    return dataintegrity.create_proof(
        document,
        private_key(key),
        verification_method=verification_method(key),
        created=created,
    )
