"""The whole JSON API fuzzed from its own OpenAPI document (schemathesis, in-process over
WSGI): against a database seeded with the demo data and with a platform administrator's
bearer token, no generated request may make the server answer 5xx, and every answer must
match the response schema the document declares for its status.

Bounded (``API_FUZZ_EXAMPLES`` examples per operation, default 10) so CI finishes it in a
couple of minutes; raise the variable locally for a longer hunt."""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from flask_migrate import upgrade
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from lms import create_app
from lms.core.extensions import db, limiter
from tests.conftest import PG_URL, REQUIRE_ALL, app_config, need
from tests.live import fresh_pg_database

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))
ADMIN = "admin@demo.lms.test"


class Isolated:
    """Each request in a fresh context, as in production (see tests/conftest.py)."""

    def __init__(self, app: Flask):
        self.app = app

    def __call__(self, environ, start_response):
        return contextvars.Context().run(lambda: list(self.app(environ, start_response)))


def _databases() -> list:
    """SQLite always; PostgreSQL too where the suite runs on it (its own fresh database,
    since the demo data must not leak into the other tests' shared one)."""
    out: list = ["sqlite"]
    if PG_URL or REQUIRE_ALL:
        out.append(pytest.param("postgresql", marks=[pytest.mark.postgres]))
    return out


@pytest.fixture(scope="module", params=_databases())
def fuzz_app(request, tmp_path_factory) -> Iterator[Flask]:
    from lms.demo import seed

    tmp: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "postgresql":
            need(bool(PG_URL), "PostgreSQL (set LMS_TEST_DATABASE_URL)")
            url = stack.enter_context(fresh_pg_database(PG_URL))
        else:
            url = f"sqlite:///{tmp / 'fuzz.sqlite3'}"
        app = create_app(app_config(tmp, url, RATELIMIT_LOGIN="10000 per minute"))
        with app.app_context():
            upgrade()
            seed()
            db.session.commit()
            limiter.reset()
        try:
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture(scope="module")
def token(fuzz_app) -> str:
    resp = fuzz_app.test_client().post(
        "/api/v1/auth/token", json={"email": ADMIN, "password": _demo_password()}
    )
    assert resp.status_code == 200, resp.text
    return resp.json["access_token"]


def _demo_password() -> str:
    from lms.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def test_api_never_fails_and_keeps_its_schema(fuzz_app, token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", Isolated(fuzz_app))
    # identity: the WSGI transport does not decode zstd / Brotli / gzip (lms.core.web compresses
    # every JSON body above COMPRESS_MIN_SIZE for a client that accepts it)
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) == ("DELETE", "/api/v1/auth/token"):
            continue  # signing out would end the token every other call uses (tests/accounts)
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case):
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            exercise()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # schemathesis raises exception groups; collect them all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations > 80  # the whole API was exercised
    assert not failures, "\n\n".join(failures)
