"""did:web identifiers and the DID documents the platform serves, and how verification
resolves them: only from this platform's own database, only listed Multikeys."""

from __future__ import annotations

import pytest

from lms.transcripts import did, keys, multikey


def test_did_web_of_a_host_with_port(issuer):
    assert did.did_for(issuer) == "did:web:127.0.0.1%3A5000:institutions:nanning-vtc"


def test_did_document_is_served_with_every_key(client, issuer, make):
    first = keys.active_key(issuer)
    second = keys.rotate_key(make.user("admin", issuer), issuer)
    resp = client.get("/institutions/nanning-vtc/did.json")
    assert resp.status_code == 200
    assert resp.mimetype == "application/did+ld+json"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    doc = resp.get_json(force=True)
    did_id = "did:web:127.0.0.1%3A5000:institutions:nanning-vtc"
    assert doc == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did_id,
        "verificationMethod": [
            {
                "id": f"{did_id}#key-1",
                "type": "Multikey",
                "controller": did_id,
                "publicKeyMultibase": first.public_multikey,
            },
            {
                "id": f"{did_id}#key-2",
                "type": "Multikey",
                "controller": did_id,
                "publicKeyMultibase": second.public_multikey,
            },
        ],
        "assertionMethod": [f"{did_id}#key-1", f"{did_id}#key-2"],
    }
    for method in doc["verificationMethod"]:
        assert multikey.decode_public_key(method["publicKeyMultibase"])


def test_did_path_follows_the_did_web_rule(client, issuer):
    """did:web:<host>:institutions:<slug> → https://<host>/institutions/<slug>/did.json"""
    identifier = did.did_for(issuer)
    path = "/" + "/".join(identifier.split(":")[3:]) + "/did.json"
    assert path == "/institutions/nanning-vtc/did.json"
    assert client.get(path).get_json(force=True)["id"] == identifier


def test_unknown_institution_is_404(client, public_host):
    assert client.get("/institutions/nowhere/did.json").status_code == 404


def test_without_a_configured_host_the_request_host_is_used(app, client, make):
    before, base = app.config.get("PUBLIC_HOST"), app.config["BASE_URL"]
    app.config["PUBLIC_HOST"] = None
    try:
        make.institution(slug="hanoi-tech")
        resp = client.get("/institutions/hanoi-tech/did.json", base_url="http://127.0.0.1:5000")
        assert resp.get_json(force=True)["id"] == "did:web:127.0.0.1%3A5000:institutions:hanoi-tech"
        resp = client.get("/institutions/hanoi-tech/did.json", base_url="https://lms.example.org")
        assert resp.get_json(force=True)["id"] == "did:web:lms.example.org:institutions:hanoi-tech"
        app.config["BASE_URL"] = "https://cloud.example.org"
        assert did.public_host() == "cloud.example.org"  # outside a request: LMS_BASE_URL's
        app.config["BASE_URL"] = ""
        with pytest.raises(did.PublicHostUnknown):
            did.public_host()  # and with neither, a clear error
    finally:
        app.config["PUBLIC_HOST"] = before
        app.config["BASE_URL"] = base


@pytest.mark.parametrize(
    "url",
    [
        "did:web:evil.example:institutions:nanning-vtc#key-1",
        "did:web:127.0.0.1%3A5001:institutions:nanning-vtc#key-1",
        "did:web:127.0.0.1%3A5000:institutions:nowhere#key-1",
        "did:web:127.0.0.1%3A5000:users:nanning-vtc#key-1",
        "did:web:127.0.0.1%3A5000:institutions:nanning-vtc#key-9",
        "did:web:127.0.0.1%3A5000:institutions:nanning-vtc:extra#key-1",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#key-1",
        "https://127.0.0.1:5000/institutions/nanning-vtc#key-1",
    ],
)
def test_resolver_refuses_anything_but_a_listed_key_of_this_platform(issuer, url):
    keys.active_key(issuer)
    assert did.resolve_key(url) is None


def test_resolver_returns_listed_keys_including_retired_ones(issuer, make):
    first = keys.active_key(issuer)
    keys.rotate_key(None, issuer)
    identifier = did.did_for(issuer)
    assert did.resolve_key(f"{identifier}#key-1") == multikey.decode_public_key(
        first.public_multikey
    )
    assert did.resolve_key(f"{identifier}#key-2") is not None
    # DID URLs compare exactly: another spelling of the same host is not a listed key
    other_spelling = identifier.replace("%3A", "%3a")
    assert did.resolve_key(f"{other_spelling}#key-1") is None
