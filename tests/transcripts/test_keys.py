"""Signing keys: one per institution, created on first use, rotated by its administrators and
registrars only, the private part never stored in clear, every change audited."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select, text

from lms.core.errors import NotAuthenticated, PermissionDenied
from lms.core.models import AuditEvent
from lms.transcripts import keys, multikey
from lms.transcripts.keys import SigningUnavailable
from lms.transcripts.models import IssuerKey


def test_active_key_is_created_once_and_audited(issuer, db_session):
    first = keys.active_key(issuer)
    again = keys.active_key(issuer)
    assert first.id == again.id and first.fragment == "key-1" and first.active
    assert db_session.scalar(select(func.count()).select_from(IssuerKey)) == 1
    events = db_session.scalars(select(AuditEvent).filter_by(action="transcripts.key_created"))
    assert [e.after["public_key"] for e in events] == [first.public_multikey]


def test_private_key_is_not_stored_in_clear(issuer, db_session):
    key = keys.active_key(issuer)
    db_session.flush()
    row = (
        db_session.execute(text("SELECT * FROM issuer_keys WHERE id = :id"), {"id": key.id})
        .mappings()
        .one()
    )
    blob = bytes(row["private_key_encrypted"])
    seed = keys.private_key(key).private_bytes_raw()
    encodings = [
        seed,
        seed.hex().encode(),
        multikey.encode_secret_key(seed).encode(),
        multikey.encode_base58btc(seed).encode(),
    ]
    for value in row.values():
        raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for secret in encodings:
            assert secret not in raw
    assert len(blob) == 1 + 12 + 32 + 16  # version, nonce, ciphertext, GCM tag
    # the stored public key is the private key's
    public = multikey.decode_public_key(row["public_multikey"])
    signature = keys.private_key(key).sign(b"check")
    Ed25519PublicKey.from_public_bytes(public).verify(signature, b"check")


def test_key_encryption_secret_is_generated_into_instance_with_mode_0600(app, issuer):
    keys.active_key(issuer)
    path = Path(app.instance_path) / keys.KEK_FILE
    if os.environ.get("LMS_KEY_ENCRYPTION_KEY"):
        pytest.skip("the key encryption secret comes from the environment")
    assert path.read_text() == app.config["KEY_ENCRYPTION_KEY"]
    assert len(path.read_text()) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_different_encryption_secret_cannot_unlock_the_key(app, issuer):
    key = keys.active_key(issuer)
    before = app.config["KEY_ENCRYPTION_KEY"]
    app.config["KEY_ENCRYPTION_KEY"] = "another-secret-entirely"
    try:
        with pytest.raises(SigningUnavailable):
            keys.private_key(key)
    finally:
        app.config["KEY_ENCRYPTION_KEY"] = before
    keys.private_key(key)


def test_ciphertext_is_bound_to_its_row(issuer, make, db_session):
    other = make.institution()
    mine, theirs = keys.active_key(issuer), keys.active_key(other)
    mine.private_key_encrypted = theirs.private_key_encrypted
    with pytest.raises(SigningUnavailable):
        keys.private_key(mine)


def test_rotation_retires_the_old_key_and_is_audited(issuer, make, db_session):
    registrar = make.user("registrar", issuer)
    old = keys.active_key(issuer)
    new = keys.rotate_key(registrar, issuer)
    assert old.retired_at is not None and new.active and new.fragment == "key-2"
    assert new.public_multikey != old.public_multikey
    event = db_session.scalar(select(AuditEvent).filter_by(action="transcripts.key_rotated"))
    assert event.actor_id == registrar.id
    assert event.before == {"fragment": "key-1"} and event.after["fragment"] == "key-2"
    assert keys.active_key(issuer).id == new.id


def test_only_one_active_key_per_institution_in_the_database(issuer, db_session):
    key = keys.active_key(issuer)
    twin = IssuerKey(
        institution_id=issuer.id,
        fragment="key-twin",
        public_multikey="z6Mk-not-a-real-key",
        private_key_encrypted=b"x",
    )
    with pytest.raises(Exception, match=r"(?i)unique"), db_session.begin_nested():
        db_session.add(twin)
        db_session.flush()
    assert keys.active_key(issuer).id == key.id


@pytest.mark.parametrize(
    "role, same_institution, allowed",
    [
        ("student", True, False),
        ("teacher", True, False),
        ("registrar", True, True),
        ("admin", True, True),
        ("registrar", False, False),
        ("admin", False, False),
    ],
)
def test_who_may_rotate(issuer, make, role, same_institution, allowed):
    other = make.institution()
    actor = make.user(role, issuer if same_institution else other)
    keys.active_key(issuer)
    if allowed:
        assert keys.rotate_key(actor, issuer).fragment == "key-2"
    else:
        with pytest.raises(PermissionDenied):
            keys.rotate_key(actor, issuer)


def test_keys_page_lists_keys_and_rotates(client, issuer, make):
    from tests.conftest import login

    keys.active_key(issuer)
    assert client.get("/admin/institutions/nanning-vtc/keys").status_code == 302  # sign in
    teacher = make.user("teacher", issuer)
    login(client, teacher)
    assert client.get("/admin/institutions/nanning-vtc/keys").status_code == 403
    client.post("/logout")
    login(client, make.user("registrar", issuer))
    page = client.get("/admin/institutions/nanning-vtc/keys")
    assert page.status_code == 200
    assert "did:web:127.0.0.1%3A5000:institutions:nanning-vtc" in page.text
    assert "key-1" in page.text
    resp = client.post("/admin/institutions/nanning-vtc/keys", data={"submit": "1"})
    assert resp.status_code == 302
    page = client.get("/admin/institutions/nanning-vtc/keys").text
    assert "key-2" in page and "key-1" in page


def test_cli_rotates(runner, issuer):
    keys.active_key(issuer)
    result = runner.invoke(args=["lms", "keys", "rotate", "--institution", "nanning-vtc"])
    assert result.exit_code == 0, result.output
    assert "key-2" in result.output
    assert keys.active_key(issuer).fragment == "key-2"
    result = runner.invoke(args=["lms", "keys", "rotate", "--institution", "nowhere"])
    assert result.exit_code != 0 and "No institution" in result.output


def test_anonymous_rotation_through_a_service_needs_a_user(issuer):
    class Anonymous:
        is_authenticated = False
        is_active = False

    with pytest.raises(NotAuthenticated):
        keys.rotate_key(Anonymous(), issuer)
