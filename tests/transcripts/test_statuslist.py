"""W3C Bitstring Status List v1.0: the encoding, random allocation, revocation and the signed
list credential the platform serves."""

from __future__ import annotations

import base64
import gzip

import pytest
from sqlalchemy import func, select

from lms.core.errors import Conflict, NotFound, PermissionDenied
from lms.core.models import AuditEvent
from lms.transcripts import statuslist
from lms.transcripts.dataintegrity import verify_proof
from lms.transcripts.did import resolve_key
from lms.transcripts.models import StatusListEntry
from lms.transcripts.statuslist import Bitstring, StatusListError

#: the empty 16 KiB list of the specification's examples (§2.1)
SPEC_EMPTY = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_bitstring_reads_the_specifications_example():
    bits = Bitstring.decode(SPEC_EMPTY)
    assert bits.size == 131072 and not any(bits.bytes)


def test_index_zero_is_the_leftmost_bit_and_encoding_round_trips():
    bits = Bitstring()
    bits.set(0)
    bits.set(9)
    bits.set(131071)
    assert bits.bytes[0] == 0x80 and bits.bytes[1] == 0x40 and bits.bytes[-1] == 0x01
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bytes(bits.bytes)
    again = Bitstring.decode(encoded)
    assert [i for i in range(again.size) if again.get(i)] == [0, 9, 131071]
    again.clear(9)
    assert not again.get(9) and again.get(0)
    assert Bitstring().encode() == Bitstring().encode()  # no time in the gzip header


@pytest.mark.parametrize(
    "encoded",
    [
        "zabc",  # base58 prefix
        "u!!!",
        "u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="),
        "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 1024)).decode().rstrip("="),
        "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * (17 * 1024 * 1024))).decode(),
        None,
    ],
    ids=["prefix", "alphabet", "not-gzip", "too-short", "bomb", "none"],
)
def test_bad_encoded_lists_are_refused(encoded):
    with pytest.raises(StatusListError):
        Bitstring.decode(encoded)


def test_allocation_is_random_unique_and_once_per_credential(issuer, db_session):
    entries = [statuslist.allocate(issuer, f"urn:uuid:test-{n}") for n in range(40)]
    indexes = [e.bit_index for e in entries]
    assert len(set(indexes)) == 40
    assert indexes != sorted(indexes)  # drawn at random, not counted up
    assert all(0 <= i < 131072 for i in indexes)
    assert len({e.status_list_id for e in entries}) == 1
    with pytest.raises(Conflict):
        statuslist.allocate(issuer, "urn:uuid:test-1")


def test_a_full_list_makes_way_for_a_new_one(issuer, db_session, monkeypatch):
    first = statuslist.allocate(issuer, "urn:uuid:a")
    monkeypatch.setattr(statuslist, "FILL_LIMIT", 1 / 131072)
    second = statuslist.allocate(issuer, "urn:uuid:b")
    assert second.status_list_id != first.status_list_id


def test_revocation_sets_the_bit_once_and_is_audited(issue, issuer, make, db_session):
    doc = issue()
    index = int(doc["credentialStatus"]["statusListIndex"])
    with pytest.raises(PermissionDenied):
        statuslist.revoke(make.user("teacher", issuer), doc["id"])
    registrar = make.user("registrar", issuer)
    statuslist.revoke(registrar, doc["id"], reason="issued in error")
    entry = statuslist.entry_for(doc["id"])
    bits = statuslist.bitstring(entry.status_list)
    assert bits.get(index) and sum(bin(b).count("1") for b in bits.bytes) == 1
    with pytest.raises(Conflict):
        statuslist.revoke(registrar, doc["id"])
    with pytest.raises(NotFound):
        statuslist.revoke(registrar, "urn:uuid:never-issued")
    event = db_session.scalar(select(AuditEvent).filter_by(action="transcripts.credential_revoked"))
    assert event.actor_id == registrar.id and event.reason == "issued in error"
    assert event.after["index"] == index


def test_served_list_credential_is_signed_and_shows_the_bit(client, issue, issuer):
    doc = issue()
    url = doc["credentialStatus"]["statusListCredential"]
    path = url.removeprefix("https://127.0.0.1:5000")
    resp = client.get(path)
    assert resp.status_code == 200 and resp.mimetype == "application/vc"
    served = resp.get_json(force=True)
    assert served["id"] == url
    assert served["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert served["issuer"] == doc["issuer"]["id"]
    subject = served["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert verify_proof(served, resolve_key, issuer=served["issuer"]).ok
    index = int(doc["credentialStatus"]["statusListIndex"])
    assert not Bitstring.decode(subject["encodedList"]).get(index)
    statuslist.revoke(None, doc["id"])
    served = client.get(path).get_json(force=True)
    assert Bitstring.decode(served["credentialSubject"]["encodedList"]).get(index)
    assert verify_proof(served, resolve_key, issuer=served["issuer"]).ok


def test_unknown_lists_are_404(client, issue, make):
    doc = issue()
    list_id = doc["credentialStatus"]["statusListCredential"].rsplit("/", 1)[1]
    other = make.institution(slug="hanoi-tech")
    assert client.get(f"/institutions/{other.slug}/status/{list_id}").status_code == 404
    assert client.get("/institutions/nanning-vtc/status/" + "0" * 32).status_code == 404
    assert (
        statuslist.resolve_list_credential("https://evil.example/institutions/x/status/1") is None
    )


def test_entries_never_share_an_index(issuer, db_session):
    entry = statuslist.allocate(issuer, "urn:uuid:one")
    clash = StatusListEntry(
        status_list_id=entry.status_list_id, bit_index=entry.bit_index, credential_id="urn:two"
    )
    with pytest.raises(Exception, match=r"(?i)unique"), db_session.begin_nested():
        db_session.add(clash)
        db_session.flush()
    assert db_session.scalar(select(func.count()).select_from(StatusListEntry)) == 1
