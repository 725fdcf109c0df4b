import http.cookiejar
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

from sqlalchemy import select

from lms.accounts import services
from lms.core.models import AuditEvent
from tests.conftest import PASSWORD, login, need
from tests.live import live_server


def test_login_logout(client, make):
    user = make.user()
    resp = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert resp.status_code == 302
    assert client.get("/profile").status_code == 200
    client.post("/logout")
    assert client.get("/profile").status_code == 302  # back to the sign-in page


def test_wrong_password_is_refused_without_saying_which_part(client, make):
    user = make.user()
    wrong = client.post("/login", data={"email": user.email, "password": "wrong-password-x"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "whatever1"})
    assert wrong.status_code == unknown.status_code == 401
    message = "The e-mail address or password is not correct."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_repeated_wrong_passwords_are_rate_limited(client, make):
    user = make.user()
    codes = [
        client.post("/login", data={"email": user.email, "password": "bad-password"}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]
    # even the right password waits now: the limit protects the account
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429
    )


def test_session_is_renewed_at_login(client, make):
    user = make.user()
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, user)
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_password_change_ends_other_sessions(app, client, make):
    user = make.user()
    login(client, user)
    other = app.test_client()
    login(other, user)
    resp = client.post(
        "/profile/password",
        data={"current_password": PASSWORD, "new_password": "a-new-long-password"},
    )
    assert resp.status_code == 302
    assert client.get("/profile").status_code == 200  # this session follows the change
    assert other.get("/profile").status_code == 302  # the other one is signed out


def test_wrong_current_password_changes_nothing(client, make, db_session):
    user = make.user()
    login(client, user)
    before = user.password_hash
    resp = client.post(
        "/profile/password",
        data={"current_password": "not-it-at-all", "new_password": "a-new-long-password"},
    )
    assert resp.status_code == 422
    db_session.refresh(user)
    assert user.password_hash == before


def test_deactivation_ends_sessions_and_tokens(app, client, make, db_session):
    inst = make.institution()
    admin = make.user("admin", inst)
    student = make.user("student", inst)
    student_client = app.test_client()
    login(student_client, student)
    token = services.issue_token(student)[0]
    login(client, admin)
    assert client.post(f"/users/{student.id}/active", data={"active": "0"}).status_code == 302
    assert student_client.get("/profile").status_code == 302
    assert services.user_for_token(token) is None
    assert db_session.scalar(select(AuditEvent).filter_by(action="user.active_changed"))


def test_open_redirect_after_login_is_refused(client, make):
    user = make.user()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        resp = client.post(
            f"/login?next={target}", data={"email": user.email, "password": PASSWORD}
        )
        assert resp.headers["Location"] == "/"
        client.post("/logout")


def test_forms_need_a_csrf_token(client, make, csrf):
    user = make.user()
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 400
    assert "This form has expired" in resp.get_data(as_text=True)


def test_security_headers(client):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_flags(client, make):
    user = make.user()
    resp = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, base_url="https://lms.example"
    )
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_passwords_are_memory_hard_by_default():
    from lms.core.config import DEFAULTS

    assert DEFAULTS["PASSWORD_MEMORY_KIB"][0] >= 19 * 1024  # OWASP's argon2id minimum


def test_rate_limits_are_shared_through_redis(tmp_path):
    """Scaled out, every web node counts sign-in attempts in one Redis store
    (LMS_RATELIMIT_STORAGE_URI): two server processes, attempts alternating between them."""
    url = os.environ.get("LMS_TEST_REDIS_URL")
    need(bool(url), "Redis (set LMS_TEST_REDIS_URL)")
    env = {"LMS_RATELIMIT_STORAGE_URI": url, "LMS_RATELIMIT_LOGIN": "3 per minute"}
    db_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    email = f"redis-{uuid.uuid4().hex[:8]}@example.org"
    with (
        live_server(tmp_path / "a", db_url, env) as a,
        live_server(tmp_path / "b", db_url, env) as b,
    ):
        browsers = {base: _Browser(base) for base in (a, b)}
        codes = [browsers[base].login(email, "wrong-password") for base in (a, b, a, b)]
    assert codes == [401, 401, 401, 429]


class _Browser:
    """A cookie-keeping HTTP client that signs in through the real form (with its CSRF
    token), as a person's browser would."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def login(self, email: str, password: str) -> int:
        page = self.opener.open(self.base + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": token}
        ).encode()
        try:
            return self.opener.open(self.base + "/login", data=form, timeout=10).status
        except urllib.error.HTTPError as err:
            return err.code
