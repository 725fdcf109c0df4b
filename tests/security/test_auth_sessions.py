"""Authentication and sessions (issue #12): rate limits, fixation, sign-out that really ends
a session (a copied cookie too), deactivation, API token expiry and revocation, and the
password-reset flow (no account enumeration, single-use, expiring links)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from lms.accounts import reset, sessions
from lms.accounts import services as accounts
from lms.accounts.models import SESSION_KEY, ApiToken, UserSession
from lms.core.models import AuditEvent, OutboxMessage
from tests.conftest import PASSWORD, bearer, login

NEW_PASSWORD = "a-brand-new-passphrase"


def _cookie(app, client) -> str | None:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def _replay(app, value: str):
    """A new browser carrying a copy of a session cookie."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


def _signed_in(client) -> bool:
    resp = client.get("/profile")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def _events(db_session, action: str) -> int:
    return db_session.scalar(select(func.count()).select_from(AuditEvent).filter_by(action=action))


# ---------------------------------------------------------------------------- rate limits


def test_token_endpoint_is_rate_limited_per_account(app, client, make):
    user = make.user()
    codes = [
        client.post(
            "/api/v1/auth/token",
            json={"email": user.email, "password": "wrong-password"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},  # a new address each time
        ).status_code
        for n in range(7)
    ]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    right = client.post(
        "/api/v1/auth/token",
        json={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert right.status_code == 429 and "access_token" not in (right.json or {})


def test_sign_in_page_is_rate_limited_per_address(client, make):
    users = [make.user() for _ in range(6)]
    codes = [
        client.post("/login", data={"email": u.email, "password": "wrong-password"}).status_code
        for u in users
    ]
    assert codes[:5] == [401] * 5 and codes[5] == 429


def test_reset_requests_are_rate_limited(client, make, db_session):
    user = make.user()
    codes = [
        client.post("/password/forgot", data={"email": user.email}).status_code for _ in range(7)
    ]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    sent = db_session.scalar(
        select(func.count()).select_from(OutboxMessage).filter_by(to_address=user.email)
    )
    assert sent == 5


# ---------------------------------------------------------------------------- sessions


def test_sign_in_rotates_the_session(app, client, make, db_session):
    user = make.user()
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess[SESSION_KEY] = "a-key-the-attacker-knows"
    planted = _cookie(app, client)
    login(client, user)
    first = _cookie(app, client)
    assert first and first != planted
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess[SESSION_KEY] != "a-key-the-attacker-knows"
        first_key = sess[SESSION_KEY]
    assert not _signed_in(_replay(app, planted))  # the pre-login cookie stays anonymous
    client.post("/logout")
    login(client, user)
    with client.session_transaction() as sess:
        assert sess[SESSION_KEY] != first_key  # every sign-in gets a new session


def test_sign_out_ends_the_session_for_a_copied_cookie(app, client, make, db_session):
    user = make.user()
    login(client, user)
    stolen = _cookie(app, client)
    assert _signed_in(_replay(app, stolen))
    assert client.post("/logout").status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(_replay(app, stolen))  # replaying the old cookie: signed out
    [row] = db_session.scalars(select(UserSession).filter_by(user_id=user.id)).all()
    assert row.ended_at is not None


def test_a_cookie_without_a_live_session_row_is_not_signed_in(app, client, make, db_session):
    """A cookie forged with the right user id and auth version, but no session of ours."""
    user = make.user()
    login(client, user)
    with client.session_transaction() as sess:
        sess[SESSION_KEY] = "guessed"
    assert not _signed_in(client)
    login(client, user)
    with client.session_transaction() as sess:
        sess.pop(SESSION_KEY)
    assert not _signed_in(client)


def test_sessions_expire_after_the_configured_hours(app, client, make, db_session):
    user = make.user()
    login(client, user)
    row = db_session.scalars(select(UserSession).filter_by(user_id=user.id)).one()
    row.created_at = row.created_at - timedelta(hours=app.config["SESSION_HOURS"] + 1)
    db_session.flush()
    assert not _signed_in(client)


def test_user_ends_a_session_on_another_device(app, client, make, db_session):
    user = make.user()
    login(client, user)
    laptop = app.test_client()
    login(laptop, user)
    page = client.get("/profile/security")
    assert page.status_code == 200
    rows = sessions.sessions_of(user)
    assert len(rows) == 2
    with laptop.session_transaction() as sess:
        laptop_key = sess[SESSION_KEY]
    [laptop_row] = [r for r in rows if sessions.is_current(r, laptop_key)]
    assert client.post(f"/profile/sessions/{laptop_row.id}/end").status_code == 302
    assert not _signed_in(laptop) and _signed_in(client)
    assert _events(db_session, "user.session_ended") == 1


def test_nobody_ends_someone_elses_session(app, client, make, db_session):
    victim, attacker = make.user(), make.user()
    victim_client = app.test_client()
    login(victim_client, victim)
    [row] = sessions.sessions_of(victim)
    login(client, attacker)
    assert client.post(f"/profile/sessions/{row.id}/end").status_code == 404
    assert _signed_in(victim_client)
    db_session.refresh(row)
    assert row.ended_at is None


def test_sign_out_everywhere_else(app, client, make, db_session):
    user = make.user()
    login(client, user)
    phones = [app.test_client() for _ in range(2)]
    for phone in phones:
        login(phone, user)
    assert client.post("/profile/sessions/end-others").status_code == 302
    assert _signed_in(client)
    assert not any(_signed_in(p) for p in phones)


def test_deactivation_ends_sessions_and_tokens(app, client, make, db_session):
    inst = make.institution()
    admin = make.user("admin", inst)
    student = make.user("student", inst)
    browser = app.test_client()
    login(browser, student)
    copied = _cookie(app, browser)
    headers = bearer(app.test_client(), student)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    login(client, admin)
    assert client.post(f"/users/{student.id}/active", data={"active": "0"}).status_code == 302
    assert not _signed_in(browser) and not _signed_in(_replay(app, copied))
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    refused = client.post("/login", data={"email": student.email, "password": PASSWORD})
    assert refused.status_code == 401
    assert _events(db_session, "user.active_changed") == 1


# ---------------------------------------------------------------------------- API tokens


def test_api_tokens_expire(app, client, make, db_session):
    user = make.user()
    headers = bearer(client, user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token = db_session.scalars(select(ApiToken).filter_by(user_id=user.id)).one()
    token.expires_at = token.expires_at - timedelta(seconds=app.config["TOKEN_TTL_SECONDS"] + 1)
    db_session.flush()
    resp = client.get("/api/v1/me", headers=headers)
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"


def test_api_token_revocation(app, client, make, db_session):
    user = make.user()
    headers = bearer(client, user)
    second = bearer(client, user)
    listed = client.get("/api/v1/auth/tokens", headers=headers)
    assert listed.status_code == 200 and len(listed.json["items"]) == 2
    assert "access_token" not in str(listed.json)
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 200
    [left] = client.get("/api/v1/auth/tokens", headers=second).json["items"]
    assert client.delete(f"/api/v1/auth/tokens/{left['id']}", headers=second).status_code == 204
    assert client.get("/api/v1/me", headers=second).status_code == 401
    assert _events(db_session, "user.token_revoked") == 1


def test_tokens_are_revoked_from_the_security_page(app, client, make, db_session):
    user = make.user()
    headers = bearer(app.test_client(), user)
    login(client, user)
    page = client.get("/profile/security").get_data(as_text=True)
    [token] = sessions.tokens_of(user)
    assert f"/profile/tokens/{token.id}/revoke" in page
    assert client.post(f"/profile/tokens/{token.id}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    bearer(app.test_client(), user)
    assert client.post("/profile/tokens/revoke-all").status_code == 302
    assert sessions.tokens_of(user) == []


def test_nobody_revokes_someone_elses_token(app, client, make, db_session):
    victim, attacker = make.user(), make.user()
    victim_headers = bearer(client, victim)
    [token] = sessions.tokens_of(victim)
    attacker_headers = bearer(client, attacker)
    resp = client.delete(f"/api/v1/auth/tokens/{token.id}", headers=attacker_headers)
    assert resp.status_code == 404
    login(client, attacker)
    assert client.post(f"/profile/tokens/{token.id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=victim_headers).status_code == 200


def test_a_session_cookie_does_not_authenticate_the_api(app, client, make):
    login(client, make.user())
    assert client.get("/api/v1/me").status_code == 401


# ---------------------------------------------------------------------------- password reset


def _reset_link(db_session, email: str) -> str:
    message = db_session.scalars(
        select(OutboxMessage).filter_by(to_address=email, kind="password_reset")
    ).one()
    return re.search(r"https?://\S+/password/reset/(\S+)", message.body).group(1)


def test_reset_request_answers_the_same_for_any_address(client, make, db_session):
    user = make.user()
    known = client.post("/password/forgot", data={"email": user.email})
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    addresses = db_session.scalars(select(OutboxMessage.to_address)).all()
    assert addresses == [user.email]


def test_reset_flow_is_single_use_and_ends_sessions(app, client, make, db_session):
    user = make.user()
    browser = app.test_client()
    login(browser, user)
    headers = bearer(app.test_client(), user)
    client.post("/password/forgot", data={"email": user.email})
    token = _reset_link(db_session, user.email)
    assert client.get(f"/password/reset/{token}").status_code == 200
    short = client.post(f"/password/reset/{token}", data={"new_password": "short"})
    assert short.status_code == 422
    done = client.post(f"/password/reset/{token}", data={"new_password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert _events(db_session, "user.password_reset") == 1
    # the link is used up; old sessions and tokens are gone; the new password works
    assert client.get(f"/password/reset/{token}").status_code == 404
    again = client.post(f"/password/reset/{token}", data={"new_password": "another-passphrase"})
    assert again.status_code == 404
    assert not _signed_in(browser)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    login(client, user, NEW_PASSWORD)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code in (
        401,
        302,
    )


def test_reset_links_expire(app, client, make, db_session):
    user = make.user()
    client.post("/password/forgot", data={"email": user.email})
    token = _reset_link(db_session, user.email)
    before = app.config["PASSWORD_RESET_SECONDS"]
    app.config["PASSWORD_RESET_SECONDS"] = -1
    try:
        assert client.get(f"/password/reset/{token}").status_code == 404
        resp = client.post(f"/password/reset/{token}", data={"new_password": NEW_PASSWORD})
        assert resp.status_code == 404
    finally:
        app.config["PASSWORD_RESET_SECONDS"] = before
    db_session.refresh(user)
    assert accounts.authenticate(user.email, PASSWORD) is not None


def test_a_password_change_voids_earlier_reset_links(app, client, make, db_session):
    user = make.user()
    client.post("/password/forgot", data={"email": user.email})
    token = _reset_link(db_session, user.email)
    accounts.change_password(user, PASSWORD, NEW_PASSWORD)
    assert reset.user_for_token(token) is None
    assert client.get(f"/password/reset/{token}").status_code == 404


def test_forged_and_foreign_reset_tokens_are_refused(app, client, make, db_session):
    user, other = make.user(), make.user()
    with app.test_request_context():
        good = reset.make_token(user)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    for token in (tampered, "x", "a" * 600):
        assert client.get(f"/password/reset/{token}").status_code == 404
    # a token signed with another key (another deployment) is refused
    before = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret"
    try:
        with app.test_request_context():
            foreign = reset.make_token(other)
    finally:
        app.config["SECRET_KEY"] = before
    assert client.get(f"/password/reset/{foreign}").status_code == 404


def test_deactivated_accounts_get_no_reset_link(client, make, db_session):
    inst = make.institution()
    admin = make.user("admin", inst)
    user = make.user("student", inst)
    with client.application.test_request_context():
        token = reset.make_token(user)
    accounts.set_active(admin, user, False)
    client.post("/password/forgot", data={"email": user.email})
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert client.get(f"/password/reset/{token}").status_code == 404
