"""A real server process for tests that need one (browsers, concurrency): its own database
and instance folder, migrated and seeded with the demo data, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(
    tmp: Path, database_url: str | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
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
    for args in (["db", "upgrade"], ["lms", "demo"]):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)
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
