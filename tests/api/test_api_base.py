from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from openapi_spec_validator import validate

from lms.accounts import services
from lms.core.db import utcnow
from tests.conftest import PASSWORD, bearer


def test_token_flow(client, make):
    user = make.user(email="an@example.org")
    resp = client.post("/api/v1/auth/token", json={"email": "AN@example.org", "password": PASSWORD})
    assert resp.status_code == 200
    assert resp.json["token_type"] == "Bearer" and resp.json["expires_in"] == 3600
    headers = {"Authorization": f"Bearer {resp.json['access_token']}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json["email"] == user.email
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_expired_token_is_refused(make, db_session):
    user = make.user()
    raw, _ttl = services.issue_token(user)
    assert services.user_for_token(raw) == user
    assert services.user_for_token(raw, now=utcnow() + timedelta(hours=2)) is None


def test_a_token_stands_for_nobody_once_revoked_outdated_or_its_user_inactive(make, db_session):
    revoked, outdated, inactive, fine = (make.user() for _ in range(4))
    tokens = {u.id: services.issue_token(u)[0] for u in (revoked, outdated, inactive, fine)}
    services.revoke_token(tokens[revoked.id])
    outdated.auth_version += 1  # a password change or "sign out everywhere"
    inactive.active = False
    db_session.flush()
    assert [services.user_for_token(tokens[u.id]) for u in (revoked, outdated, inactive)] == [
        None,
        None,
        None,
    ]
    assert services.user_for_token(tokens[fine.id]) == fine
    assert services.user_for_token(tokens[fine.id] + "x") is None


def test_session_cookie_does_not_authenticate_the_api(client, make):
    from tests.conftest import login

    login(client, make.user())
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.content_type == "application/problem+json"


def test_wrong_credentials_are_401_problem(client, make):
    make.user(email="a@example.org")
    resp = client.post("/api/v1/auth/token", json={"email": "a@example.org", "password": "nope"})
    assert resp.status_code == 401
    assert resp.json["type"].endswith("/unauthenticated")


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ('{"email": "a@example.org", "password": ', "application/json"),
        ("\xff\xfe", "application/json"),
    ],
)
def test_malformed_json_is_400_problem(client, body, content_type):
    resp = client.post("/api/v1/auth/token", data=body, content_type=content_type)
    assert resp.status_code == 400
    assert resp.content_type == "application/problem+json"
    assert resp.json["status"] == 400 and resp.json["detail"]


@pytest.mark.parametrize(
    "body", [{}, {"email": "a@example.org"}, {"email": 5, "password": []}, [], "text", None]
)
def test_missing_or_wrong_fields_are_422_problem(client, body):
    resp = client.post("/api/v1/auth/token", json=body)
    assert resp.status_code in (400, 422)
    assert resp.content_type == "application/problem+json"
    if resp.status_code == 422:
        assert resp.json["errors"] and all(
            "field" in e and "message" in e for e in resp.json["errors"]
        )


def test_problem_detail_is_translated(client):
    resp = client.post("/api/v1/auth/token?lang=vi", json={})
    en = client.post("/api/v1/auth/token?lang=en", json={})
    assert resp.json["errors"][0]["message"] != en.json["errors"][0]["message"]
    assert resp.json["title"] != en.json["title"]


def test_the_api_answers_in_the_token_holders_language_when_the_request_names_none(client, make):
    """?lang= first, then Accept-Language, then the account's own locale, then English."""
    headers = bearer(client, make.user(locale="th"))
    bad = {"timezone": "Asia/Nowhere"}
    thai = client.patch("/api/v1/me", json=bad, headers=headers).json
    with force_locale("th"):
        assert thai["title"] == gettext("Some of the information is not valid")
    english = client.patch("/api/v1/me", json=bad, headers={**headers, "Accept-Language": "en"})
    assert english.json["title"] == "Some of the information is not valid"
    vi = client.patch("/api/v1/me?lang=vi", json=bad, headers={**headers, "Accept-Language": "en"})
    with force_locale("vi"):
        assert vi.json["title"] == gettext("Some of the information is not valid")
    assert len({thai["title"], english.json["title"], vi.json["title"]}) == 3
    # no token, no header: English
    anonymous = client.post("/api/v1/auth/token", json={})
    assert anonymous.json["title"] == "Some of the information is not valid"


def test_api_rate_limits_token_guessing(client, make):
    user = make.user()
    codes = [
        client.post(
            "/api/v1/auth/token", json={"email": user.email, "password": "wrong-one"}
        ).status_code
        for _ in range(7)
    ]
    assert codes[-1] == 429


def test_unknown_api_path_is_problem_json(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.content_type == "application/problem+json"


def test_list_envelope_and_per_page_cap(client, make):
    for _ in range(3):
        make.institution()
    resp = client.get("/api/v1/institutions?per_page=2&page=2")
    assert resp.status_code == 200
    assert set(resp.json) == {"items", "total", "page", "per_page"}
    assert resp.json["total"] == 3 and resp.json["page"] == 2 and len(resp.json["items"]) == 1
    assert client.get("/api/v1/institutions?per_page=1000").status_code == 422


def test_institution_names_report_the_locale_served(client, make):
    make.institution(
        "bkk", country="TH", names={"th": "วิทยาลัย", "en": "College"}, default_locale="th"
    )
    make.institution(
        "kl", country="MY", names={"id": "Politeknik", "en": "Polytechnic"}, default_locale="en"
    )
    th = client.get("/api/v1/institutions/bkk?lang=th").json
    vi = client.get("/api/v1/institutions/bkk", headers={"Accept-Language": "vi"}).json
    ms = client.get("/api/v1/institutions/kl?lang=ms").json
    assert (th["name"], th["name_locale"]) == ("วิทยาลัย", "th")
    assert (vi["name"], vi["name_locale"]) == ("วิทยาลัย", "th")  # the source before English
    assert (ms["name"], ms["name_locale"]) == ("Politeknik", "id")  # a close language


def test_profile_patch_validates(client, make):
    headers = bearer(client, make.user())
    bad = client.patch("/api/v1/me", json={"timezone": "Asia/Nowhere"}, headers=headers)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "timezone"
    ok = client.patch(
        "/api/v1/me", json={"timezone": "Asia/Yangon", "locale": "my"}, headers=headers
    )
    assert ok.status_code == 200 and ok.json["timezone"] == "Asia/Yangon"


def test_openapi_document_is_valid_3_1_and_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    documented = {
        (path, method.upper())
        for path, ops in doc["paths"].items()
        for method in ops
        if method != "parameters"
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs"):
            continue
        path = "/" + rule.rule.removeprefix("/api/v1/")
        path = path.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert ("/api/v1" + path, method) in documented or (path, method) in documented, (
                f"{method} {rule.rule} is not in the OpenAPI document"
            )


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok", "database": "ok"}
