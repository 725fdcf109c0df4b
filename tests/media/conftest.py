"""Fixtures of the media tests: clips made by ffmpeg's lavfi in the test (no binary
fixtures), an S3-protocol server (moto's server mode) on a free loopback port, teachers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lms.core.storage import LocalStorage, S3Storage
from tests.conftest import need
from tests.live import free_port


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return os.environ.get("LMS_FFMPEG") or imageio_ffmpeg.get_ffmpeg_exe()


def make_clip(
    path: Path,
    *,
    width: int = 320,
    height: int = 240,
    seconds: float = 4,
    audio: bool = True,
    vcodec: str = "libx264",
    fmt: str | None = None,
    faststart: bool = False,
    rate: int = 25,
    extra: tuple[str, ...] = (),
) -> Path:
    """A test pattern with a tone, encoded with ffmpeg's lavfi sources."""
    args = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds}",
    ]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    args += ["-c:v", vcodec]
    if vcodec == "libx264":
        args += ["-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-b:a", "64k"]
    if faststart:
        args += ["-movflags", "+faststart"]
    args += list(extra)
    if fmt:
        args += ["-f", fmt]
    args += ["-shortest", str(path)]
    subprocess.run(args, check=True)
    return path


def decodes(path: Path, fmt: str = "mpegts") -> dict[str, int]:
    """Decode a file completely (``framecrc``: one line per decoded frame); returns the
    number of video frames and audio frames, and fails on any decoding error."""
    result = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-v",
            "error",
            "-f",
            fmt,
            "-i",
            str(path),
            "-f",
            "framecrc",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    counts = {"video": 0, "audio": 0}
    kinds = {}
    for line in result.stdout.splitlines():
        if line.startswith("#media_type"):
            kinds[line.split()[1].rstrip(":")] = line.split()[2]
        elif line and not line.startswith("#"):
            index = line.split(",", 1)[0].strip()
            counts[kinds.get(index, "video")] += 1
    return counts


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """``moto_server -H 127.0.0.1 -p PORT``: real S3 protocol over HTTP on loopback."""
    exe = Path(sys.executable).parent / "moto_server"
    need(exe.exists(), "moto_server (pip install 'moto[server]')")
    port = free_port()
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                need(False, "moto_server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


_buckets = iter(range(1, 10_000))


def s3_store(endpoint: str, scratch: Path) -> S3Storage:
    store = S3Storage(
        bucket=f"lms-test-{os.getpid()}-{next(_buckets)}",
        scratch=scratch,
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
    )
    store.ensure_bucket()
    return store


@pytest.fixture(autouse=True)
def fresh_storage(request, tmp_path) -> Iterator[None]:
    """Each test gets its own media folder (the database rolls back; files would not)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    previous = app.extensions.get("lms.storage")
    app.extensions["lms.storage"] = LocalStorage(tmp_path / "media-root")
    try:
        yield
    finally:
        if previous is None:
            app.extensions.pop("lms.storage", None)
        else:
            app.extensions["lms.storage"] = previous


@pytest.fixture
def s3(app, moto_server, tmp_path) -> Iterator[S3Storage]:
    """Switch the app to the S3 backend (a fresh bucket on the moto server) for one test."""
    store = s3_store(moto_server, tmp_path / "scratch")
    previous = app.extensions.get("lms.storage")
    app.extensions["lms.storage"] = store
    try:
        yield store
    finally:
        if previous is None:
            app.extensions.pop("lms.storage", None)
        else:
            app.extensions["lms.storage"] = previous


@pytest.fixture
def teacher(make):
    inst = make.institution(slug="gx-media")
    user = make.user("teacher", inst, email="teacher.media@example.org", locale="en")
    return user


@pytest.fixture
def store(app):
    from lms.core.storage import get_storage

    with app.app_context():
        return get_storage()
