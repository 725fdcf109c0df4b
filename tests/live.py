"""A real server process for tests that need one (browsers, concurrency): its own database
and instance folder, migrated and seeded with the demo data, on a free loopback port."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from lms import create_app
from lms.core.extensions import db

ROOT = Path(__file__).resolve().parents[1]


#: ``serve_forever``'s poll interval for the tests' stand-in HTTP servers: ``shutdown()`` waits
#: until the loop looks again, up to the default 0.5 s at the end of every test that uses one
POLL = 0.01

#: the throw-away PostgreSQL databases made by ``fresh_pg_database`` -> their server's URL
_pg_servers: dict[str, str] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fresh_pg_database(server_url: str) -> Iterator[str]:
    """A throw-away PostgreSQL database on the server named by ``server_url``."""
    url = sa.make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"lms_live_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    _pg_servers[name] = url.render_as_string(hide_password=False)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_servers.pop(name, None)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def seeded(database_url: str, tmp: Path, seed: Callable[[Flask], object]) -> None:
    """Run ``seed(app)`` against a live server's database from this process, committed."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "live-test-secret",
            "INSTANCE_PATH": str(tmp / "seed-instance"),
            "PASSWORD_MEMORY_KIB": 1024,
            "PASSWORD_TIME_COST": 1,
            "PASSWORD_PARALLELISM": 1,
        }
    )
    with app.app_context():
        seed(app)
        db.session.commit()
        db.engine.dispose()


#: a database migrated and loaded with the demo data by the real commands (``flask db upgrade``
#: and ``flask lms demo`` in a subprocess), once per test session and backend; every live
#: server that wants the demo data gets a copy of it instead of running both commands again
#: (each costs a whole Python start and app import: about 8 s a server)
_templates: dict[str, str] = {}
#: the databases this process has already prepared for a live server (a second server on
#: the same database finds it migrated and seeded, as ``db upgrade`` and ``lms demo``,
#: both idempotent, would leave it)
_prepared: set[str] = set()


def _flask_env(database_url: str, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        {
            "LMS_DATABASE_URL": database_url,
            "LMS_SECRET_KEY": "live-test-secret",
            "LMS_PASSWORD_MEMORY_KIB": "1024",
            "LMS_PASSWORD_TIME_COST": "1",
            "LMS_PASSWORD_PARALLELISM": "1",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
    )
    return env


def _migrate_and_demo(env: dict[str, str], demo: bool = True) -> None:
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for args in (["db", "upgrade"], ["lms", "demo"]) if demo else (["db", "upgrade"],):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)


def _sqlite_path(database_url: str) -> Path | None:
    url = sa.make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _demo_template(database_url: str, server_url: str | None = None) -> str:
    """The URL of this session's demo template: a SQLite file, or a database on the
    PostgreSQL server at ``server_url``; built on first use."""
    key = server_url or "sqlite"
    if key in _templates:
        return _templates[key]
    if server_url is None:
        folder = Path(tempfile.mkdtemp(prefix="lms-live-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = f"sqlite:///{folder / 'demo.sqlite3'}"
    else:
        name = f"lms_template_{uuid.uuid4().hex[:10]}"
        _pg_admin(server_url, f'CREATE DATABASE "{name}"')
        atexit.register(_pg_admin, server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        template = sa.make_url(database_url).set(database=name)
        template = template.render_as_string(hide_password=False)
    _migrate_and_demo(_flask_env(template))
    _templates[key] = template
    return template


def _pg_admin(server_url: str, *statements: str) -> None:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        admin.dispose()


def _copy_demo_template(database_url: str) -> bool:
    """Make the database at ``database_url`` a copy of the demo template if it is new: a
    SQLite file not there yet, or an empty database from ``fresh_pg_database``. False (and
    nothing done) otherwise."""
    path = _sqlite_path(database_url)
    if path is not None:
        if path.exists() and path.stat().st_size:
            return False
        source = sqlite3.connect(_sqlite_path(_demo_template(database_url)))
        target = sqlite3.connect(path)
        try:
            source.backup(target)  # a consistent copy, whatever the journal mode
        finally:
            target.close()
            source.close()
        return True
    name = sa.make_url(database_url).database
    server_url = _pg_servers.get(name or "")
    if server_url is None:
        return False
    engine = sa.create_engine(sa.make_url(database_url).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        tables = conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).scalar()
    engine.dispose()
    if tables:
        return False
    template = sa.make_url(_demo_template(database_url, server_url)).database
    _pg_admin(
        server_url,
        f'DROP DATABASE "{name}"',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
    )
    return True


@contextmanager
def live_server(
    tmp: Path,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    seed: Callable[[Flask], object] | None = None,
    demo: bool = True,
) -> Iterator[str]:
    """Start the app in a real server process and yield its base URL. ``seed(app)``, if
    given, runs in this process after the migrations and the demo data (``demo=False``
    skips those, for tests that seed what they need), before the server starts (keep what
    it makes through a closure)."""
    database_url = database_url or f"sqlite:///{tmp / 'live.sqlite3'}"
    env = _flask_env(database_url, extra_env)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    tmp.mkdir(parents=True, exist_ok=True)
    key = (database_url, demo)
    if key not in _prepared and not (demo and _copy_demo_template(database_url)):
        _migrate_and_demo(env, demo)
    _prepared.add(key)
    if seed is not None:
        seeded(env["LMS_DATABASE_URL"], tmp, seed)
    port = free_port()
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            *flask,
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-reload",
            "--with-threads",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp / "server.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
