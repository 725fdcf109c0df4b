"""The public faces of verification — ``POST /api/v1/credentials/verify``, the ``/verify``
page and ``lms transcripts verify`` — answer real credentials correctly and hostile input
with a clear 4xx, never a 500."""

from __future__ import annotations

import io
import json
import re

import pytest

from lms.transcripts import statuslist

API = "/api/v1/credentials/verify"
TOO_BIG = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
HOSTILE = {
    "not-json": (b"this is not json", 400, "not valid JSON"),
    "truncated": (b'{"@context": [', 400, "not valid JSON"),
    "invalid-utf8": (b'{"name": "\xff\xfe"}', 400, "not valid UTF-8"),
    "deep-nesting": (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    "nesting-100": (b'{"a":' * 100 + b"1" + b"}" * 100, 400, "nested too deeply"),
    "list": (b"[1, 2, 3]", 400, "JSON object"),
    "duplicate-member": (b'{"issuer": "a", "issuer": "b"}', 400, "more than once"),
    "nan": (b'{"n": NaN}', 400, "not valid JSON"),
    "lone-surrogate": (b'{"n": "\\ud800"}', 400, "not valid Unicode"),
    "huge-integer": (b'{"n": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),
    "empty": (b"", 400, "empty"),
}


# ---------------------------------------------------------------------------- API


def test_api_verifies_a_valid_transcript(client, issue):
    resp = client.post(API, json=issue())
    assert resp.status_code == 200
    assert resp.json["status"] == "valid"
    assert {"check", "ok", "detail"} == set(resp.json["checks"][0])


def test_api_reports_revoked_and_tampered(client, issue):
    revoked, tampered = issue(), issue()
    statuslist.revoke(None, revoked["id"])
    tampered["credentialSubject"]["identifier"][1]["identityHash"] = "Someone Else"
    assert client.post(API, json=revoked).json["status"] == "revoked"
    assert client.post(API, json=tampered).json["status"] == "tampered"


def test_api_needs_no_sign_in_and_no_csrf_token(client, csrf, issue):
    resp = client.post(API, json=issue())
    assert resp.status_code == 200 and resp.json["status"] == "valid"


@pytest.mark.parametrize("name", list(HOSTILE), ids=list(HOSTILE))
def test_api_hostile_input_is_a_4xx_problem(client, public_host, name):
    body, status, message = HOSTILE[name]
    resp = client.post(API, data=body, content_type="application/json")
    assert resp.status_code == status
    assert resp.content_type == "application/problem+json"
    assert resp.json["type"].endswith("/credential-unreadable")
    assert message in resp.json["detail"]


def test_api_too_large_is_413_problem(client, public_host):
    resp = client.post(API, data=TOO_BIG, content_type="application/json")
    assert resp.status_code == 413
    assert resp.content_type == "application/problem+json"
    assert resp.json["type"].endswith("/credential-too-large")
    assert "1024 KiB" in resp.json["detail"]


def test_api_too_large_without_a_length_header_is_413(client, public_host):
    resp = client.post(
        API,
        input_stream=io.BytesIO(TOO_BIG),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as a server that de-chunks sets
    )
    assert resp.status_code == 413


def test_api_is_rate_limited(app, client, issue):
    doc = issue()
    before = app.config["RATELIMIT_VERIFY"]
    app.config["RATELIMIT_VERIFY"] = "2 per minute"
    try:
        assert client.post(API, json=doc).status_code == 200
        assert client.post(API, json=doc).status_code == 200
        resp = client.post(API, json=doc)
        assert resp.status_code == 429 and resp.content_type == "application/problem+json"
    finally:
        app.config["RATELIMIT_VERIFY"] = before


def test_openapi_documents_the_endpoint(client, public_host):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/credentials/verify"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/Credential")
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert response["$ref"].endswith("/Verification")
    verification = spec["components"]["schemas"]["Verification"]
    assert verification["properties"]["status"]["enum"] == [
        "valid",
        "revoked",
        "superseded",
        "tampered",
        "unknown_issuer",
    ]
    assert "security" not in operation or operation["security"] == []


# ---------------------------------------------------------------------------- page


def test_page_is_public(client, public_host):
    page = client.get("/verify")
    assert page.status_code == 200
    assert 'name="credential"' in page.text and 'type="file"' in page.text


def test_page_verifies_pasted_json(client, issue):
    resp = client.post("/verify", data={"credential": json.dumps(issue(), ensure_ascii=False)})
    assert resp.status_code == 200
    assert "Valid: this credential is genuine and in force." in resp.text
    assert "สมชาย ใจดี" in resp.text and "Somchai Jaidee" in resp.text
    assert "ZH-AUTO-101" in resp.text and "优秀" in resp.text
    assert "Manila Polytechnic College" in resp.text


def test_page_verifies_an_uploaded_file(client, issue):
    raw = json.dumps(issue(), indent=2).encode()
    resp = client.post(
        "/verify",
        data={"file": (io.BytesIO(raw), "transcript.json")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    assert "Valid: this credential is genuine and in force." in resp.text


def test_page_shows_tampered_without_the_content(client, issue):
    doc = issue()
    doc["credentialSubject"]["verifiableCredential"][0]["credentialSubject"]["result"][0][
        "value"
    ] = "A+"
    resp = client.post("/verify", data={"credential": json.dumps(doc)})
    assert resp.status_code == 200
    assert "Not valid: this credential is unsigned, or was changed" in resp.text
    assert "The signature does not match the content" in resp.text
    assert "ZH-AUTO-101" not in resp.text.split("What was checked")[1].split("<form")[0]


@pytest.mark.parametrize("name", list(HOSTILE), ids=list(HOSTILE))
def test_page_hostile_upload_is_a_translated_page_error(client, public_host, name):
    body, status, message = HOSTILE[name]
    resp = client.post(
        "/verify",
        data={"file": (io.BytesIO(body), "x.json")} if body else {"credential": ""},
        content_type="multipart/form-data",
    )
    assert resp.status_code == status
    assert resp.mimetype == "text/html"
    expected = message if body else "Paste a credential or choose its file."
    assert expected in resp.text


def test_page_hostile_paste(client, public_host):
    resp = client.post("/verify", data={"credential": "[" * 5000 + "]" * 5000})
    assert resp.status_code == 400 and "nested too deeply" in resp.text
    assert "[[[[" in resp.text  # what was typed is kept


def test_page_too_large(client, public_host):
    resp = client.post(
        "/verify",
        data={"file": (io.BytesIO(TOO_BIG), "big.json")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413 and "larger than 1024 KiB" in resp.text
    resp = client.post(
        "/verify",
        data={"file": (io.BytesIO(b"x" * (3 * 1024 * 1024)), "bigger.json")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413 and "larger than 1024 KiB" in resp.text


def test_page_needs_its_csrf_token(client, csrf, issue):
    doc = json.dumps(issue())
    assert client.post("/verify", data={"credential": doc}).status_code == 400
    page = client.get("/verify").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/verify", data={"credential": doc, "csrf_token": token})
    assert resp.status_code == 200 and "Valid:" in resp.text


def test_page_in_another_language(client, public_host):
    page = client.get("/verify?lang=th")
    assert page.status_code == 200 and '<html lang="th"' in page.text


# ---------------------------------------------------------------------------- CLI


def test_cli_verify_exit_status(runner, issue, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(issue()))
    result = runner.invoke(args=["lms", "transcripts", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "valid"

    doc = issue()
    doc["credentialSubject"]["creditSystem"] = "ECTS"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = runner.invoke(args=["lms", "transcripts", "verify", str(bad)])
    assert result.exit_code == 1 and result.output.splitlines()[0] == "tampered"
    assert "[FAIL] signature" in result.output

    revoked = issue()
    statuslist.revoke(None, revoked["id"])
    path = tmp_path / "revoked.json"
    path.write_text(json.dumps(revoked))
    result = runner.invoke(args=["lms", "transcripts", "verify", str(path)])
    assert result.exit_code == 1 and result.output.splitlines()[0] == "revoked"

    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\xff\xfe not json")
    result = runner.invoke(args=["lms", "transcripts", "verify", str(junk)])
    assert result.exit_code == 1 and "UTF-8" in result.output
