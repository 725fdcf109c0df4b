"""A real server process for tests that need one (browsers, concurrency): its own database
and instance folder, migrated and seeded with the demo data, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
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
        }
    )
    with app.app_context():
        seed(app)
        db.session.commit()
        db.engine.dispose()


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
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        {
            "LMS_DATABASE_URL": database_url or f"sqlite:///{tmp / 'live.sqlite3'}",
            "LMS_SECRET_KEY": "live-test-secret",
            "LMS_PASSWORD_MEMORY_KIB": "1024",
            "LMS_PASSWORD_TIME_COST": "1",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    tmp.mkdir(parents=True, exist_ok=True)
    for args in (["db", "upgrade"], ["lms", "demo"]) if demo else (["db", "upgrade"],):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)
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
