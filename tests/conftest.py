"""Shared fixtures (DESIGN §8).

- ``app`` is session-scoped and parametrised over the databases this machine offers: SQLite
  always, PostgreSQL when ``LMS_TEST_DATABASE_URL`` names a server (a fresh database is
  created on it for the run and dropped after). The schema is built by running the
  migrations, so every run also tests them.
- ``db_session`` wraps each test in a transaction that is rolled back, so tests never see
  each other's rows; the code under test may commit and roll back freely (it works inside
  savepoints).
- Under ``LMS_REQUIRE_ALL=1`` (CI), a test that would skip for a missing component fails.
"""

from __future__ import annotations

import contextvars
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from lms import create_app
from lms.core.extensions import db, limiter

REQUIRE_ALL = os.environ.get("LMS_REQUIRE_ALL") == "1"
PG_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
PASSWORD = "correct-horse-battery"


def need(condition: bool, what: str) -> None:
    """Skip when ``condition`` is false — or fail, under LMS_REQUIRE_ALL=1."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required component missing: {what} (LMS_REQUIRE_ALL=1)")
    pytest.skip(f"{what} not available")


def _backends() -> list:
    """SQLite always; PostgreSQL when configured (and always under LMS_REQUIRE_ALL, where a
    missing server then fails every PostgreSQL variant)."""
    backends: list = ["sqlite"]
    if PG_URL or REQUIRE_ALL:
        backends.append(pytest.param("postgresql", marks=[pytest.mark.postgres]))
    return backends


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    need(bool(PG_URL), "PostgreSQL (set LMS_TEST_DATABASE_URL)")
    url = sa.make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"lms_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        need(False, f"PostgreSQL at {PG_URL} ({exc.orig})")
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def app_config(tmp: Path, url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp / "instance"),
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_MEMORY_KIB": 1024,  # argon2id still, with test-sized memory
        "PASSWORD_TIME_COST": 1,
        # one lane: four start four threads per hash, ~4 ms instead of ~0.5 ms on two cores
        "PASSWORD_PARALLELISM": 1,
        "RATELIMIT_LOGIN": "5 per minute",
        # each test's data is rolled back: pages cached from it must not outlive it
        # (tests/core/test_cache.py turns the cache on where it is the subject)
        "CATALOGUE_CACHE_SECONDS": 0,
        **extra,
    }


@pytest.fixture(scope="session")
def built_apps() -> Iterator[dict[str, Flask]]:
    """The session's apps by backend, each built (and migrated) once and kept to the end.

    pytest tears a parametrised session fixture down whenever the next test wants another
    parameter. Alone, pytest orders the tests so that this happens once; under pytest-xdist
    (``make test``) a worker runs a file at a time, its SQLite tests and then its PostgreSQL
    ones, so ``app`` would be rebuilt and the migrations run again twice a file."""
    built: dict[str, Flask] = {}
    yield built
    for app in built.values():
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session", params=_backends())
def app(request, tmp_path_factory, built_apps) -> Flask:
    if request.param in built_apps:
        return built_apps[request.param]
    tmp = tmp_path_factory.mktemp(f"app-{request.param}")
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database")
    else:
        url = f"sqlite:///{tmp / 'test.sqlite3'}"
    app = create_app(app_config(tmp, url))
    with app.app_context():
        upgrade()
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    app.test_client_class = IsolatedClient
    built_apps[request.param] = app
    return app


@pytest.fixture
def db_session(app: Flask) -> Iterator:
    """A test's whole database work, rolled back at the end."""
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        conn = engine.connect()
        outer = conn.begin()
        engines[None] = conn
        db.session.remove()
        try:
            yield db.session
        finally:
            db.session.remove()
            engines[None] = engine
            if outer.is_active:
                outer.rollback()
            conn.close()


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, ``g``
    and database session (sharing the test's connection, so it sees the test's rows).
    Without this, requests made while a test holds an app context would share ``g`` and
    leak the signed-in user from one client to another."""

    def open(self, *args, **kwargs):
        resp = contextvars.Context().run(super().open, *args, **kwargs)
        if db.session.registry.has():
            db.session.expire_all()  # the test's objects see what the request changed
        return resp


@pytest.fixture
def client(app: Flask, db_session) -> FlaskClient:
    with app.app_context():
        limiter.reset()
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db_session):
    return app.test_cli_runner()


@pytest.fixture
def csrf(app: Flask) -> Iterator[None]:
    """Turn CSRF protection on for one test (it is off for the others' convenience)."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# ---------------------------------------------------------------------------- factories


class Factory:
    """Creates rows through the services, as a real user would."""

    def __init__(self) -> None:
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def institution(self, slug: str | None = None, country: str = "CN", **kw):
        from lms.accounts import services

        n = self._next()
        return services.create_institution(
            None,
            slug=slug or f"inst-{n}",
            names=kw.pop("names", {"en": f"Institution {n}", "zh_Hans": f"学院{n}"}),
            country=country,
            kind=kw.pop("kind", "vocational_college"),
            timezone=kw.pop("timezone", "Asia/Shanghai"),
            default_locale=kw.pop("default_locale", "zh_Hans"),
            **kw,
        )

    def user(self, role: str | None = None, institution=None, email: str | None = None, **kw):
        from lms.accounts import services

        n = self._next()
        return services.create_user(
            None,
            email=email or f"user{n}@example.org",
            password=kw.pop("password", PASSWORD),
            display_name=kw.pop("display_name", f"User {n}"),
            role=role,
            institution=institution,
            **kw,
        )


@pytest.fixture
def make(db_session) -> Factory:
    return Factory()


def login(client, user, password: str = PASSWORD):
    resp = client.post("/login", data={"email": user.email, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return resp


def bearer(client, user, password: str = PASSWORD) -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", json={"email": user.email, "password": password})
    assert resp.status_code == 200, resp.json
    return {"Authorization": f"Bearer {resp.json['access_token']}"}


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "backend(name): run only against that database backend (sqlite, postgresql)"
    )


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked ``backend(name)`` run once, on that backend: the other variants are
    deselected (not skipped), so a CI run without skips stays meaningful."""
    keep, drop = [], []
    for item in items:
        mark = item.get_closest_marker("backend")
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("app") if callspec else None
        if mark and param and param != mark.args[0]:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
