"""Jobs in real processes: a transcode killed mid-way is retried and finishes without a
lesson ever pointing at a half-written ladder; a Celery worker on Redis runs the scale-out
path, and a worker child killed mid-transcode gets its job delivered again."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import need
from tests.live import ROOT
from tests.media.conftest import make_clip

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "")
TEACHER = "teacher.jobs@example.org"


#: the database of the session's first site, just set up: a later site starts from a copy
#: (the three set-up commands are a Python start and app import each, ~3 s apiece)
_first_site: list[Path] = []


def _copy_sqlite(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)  # consistent whatever the journal mode
    finally:
        dst.close()
        src.close()


class Site:
    """A platform in its own SQLite file and media folder, driven by the CLI (set up with
    ``db upgrade``, ``lms institutions create`` and ``lms users create``)."""

    def __init__(self, tmp: Path, **env: str):
        self.tmp = tmp
        self.db = tmp / "site.sqlite3"
        self.media = tmp / "media"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
        self.env.update(
            {
                "LMS_DATABASE_URL": f"sqlite:///{self.db}",
                "LMS_SECRET_KEY": "jobs-test",
                "LMS_MEDIA_ROOT": str(self.media),
                "LMS_PASSWORD_MEMORY_KIB": "1024",
                "LMS_PASSWORD_TIME_COST": "1",
                "LMS_PASSWORD_PARALLELISM": "1",
                "PYTHONUNBUFFERED": "1",
                **env,
            }
        )
        if _first_site:
            _copy_sqlite(_first_site[0], self.db)
            return
        self.flask("db", "upgrade")
        self.flask(
            "lms", "institutions", "create", "--slug", "gx-jobs", "--name", "en=Jobs College",
            "--country", "CN", "--kind", "vocational_college",
        )  # fmt: skip
        self.flask(
            "lms", "users", "create", "--email", TEACHER, "--password", "long-enough-pass",
            "--name", "Teacher", "--role", "teacher", "--institution", "gx-jobs",
        )  # fmt: skip
        template = tmp.parent / f"{tmp.name}-site-template.sqlite3"
        _copy_sqlite(self.db, template)
        _first_site.append(template)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "flask", "--app", "wsgi", *args]

    def flask(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            self.command(*args),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def popen(self, *args: str, log: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args),
            cwd=ROOT,
            env=self.env,
            stdout=(self.tmp / log).open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def row(self, sql: str, *params):
        with sqlite3.connect(self.db, timeout=30) as conn:
            return conn.execute(sql, params).fetchone()

    def asset(self, asset_id: str) -> tuple:
        return self.row(
            "SELECT status, progress, output_prefix, error_code FROM media_assets WHERE id = ?",
            asset_id,
        )

    def job(self, asset_id: str) -> tuple:
        return self.row(
            "SELECT id, status, progress, worker, runs FROM media_jobs WHERE asset_id = ? "
            "ORDER BY id DESC LIMIT 1",
            asset_id,
        )

    def wait(self, what, timeout: float = 120, every: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            time.sleep(every)
        raise AssertionError("timed out waiting")

    def published(self, asset_id: str) -> list[Path]:
        folder = self.media / "media" / asset_id / "v"
        return sorted(folder.iterdir()) if folder.is_dir() else []


def _ffmpeg_children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"ffmpeg" in cmd:
            found.append(int(entry.name))
    return found


def _ffmpeg_alive_for(work: Path) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(work).encode() in (entry / "cmdline").read_bytes():
                    return True
            except OSError:
                continue
    return False


def test_killed_transcode_is_retried_and_never_half_published(tmp_path):
    site = Site(tmp_path, LMS_MEDIA_X264_PRESET="medium")
    clip = make_clip(tmp_path / "lecture.mp4", width=640, height=360, seconds=20)
    asset_id = site.flask(
        "lms", "media", "import", str(clip), "--owner", TEACHER, "--defer"
    ).split()[0]
    assert site.asset(asset_id)[0] == "processing"

    worker = site.popen("lms", "media", "process", asset_id, log="process.log")
    site.wait(lambda: (site.job(asset_id)[2] or 0) >= 40)  # some segments are written
    work = next((site.media / ".scratch" / "work").iterdir())
    assert list(work.rglob("*.*")), sorted(map(str, work.rglob("*")))
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    # ffmpeg died with its worker (no orphan encoding on)
    site.wait(lambda: not _ffmpeg_alive_for(work), timeout=10)

    status, progress, prefix, _error = site.asset(asset_id)
    assert status == "processing" and 0 < progress < 100
    assert prefix is None  # the lesson has nothing to point at yet
    assert site.published(asset_id) == []  # no half-written ladder anywhere public

    out = site.flask("lms", "media", "retry", asset_id)
    assert "is ready" in out, out
    status, progress, prefix, error = site.asset(asset_id)
    assert (status, progress, error) == ("ready", 100, "")
    assert [p.name for p in site.published(asset_id)] == [prefix.rsplit("/", 1)[1]]
    master = site.media / prefix / "hls" / "master.m3u8"
    assert master.read_text().count("#EXT-X-STREAM-INF") == 3  # 360p, 240p, audio
    assert not list((site.media / ".scratch" / "work").iterdir())  # the dead run's folder too
    jobs = sqlite3.connect(site.db).execute(
        "SELECT status, error_code FROM media_jobs WHERE asset_id = ? ORDER BY id", (asset_id,)
    )
    assert list(jobs) == [("failed", "interrupted"), ("succeeded", "")]


def test_celery_worker_on_redis_and_a_killed_worker_child(tmp_path):
    need(bool(REDIS_URL), "Redis (set LMS_TEST_REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        need(False, f"Redis at {REDIS_URL} ({exc})")
    site = Site(tmp_path, LMS_CELERY_BROKER_URL=REDIS_URL, LMS_MEDIA_X264_PRESET="medium")
    worker = site.popen("lms", "media", "worker", "--concurrency", "1", log="worker.log")
    try:
        # 1. an upload through the scale-out path: queued in Redis, done by the worker
        quick = make_clip(tmp_path / "quick.mp4", seconds=3)
        first = site.flask("lms", "media", "import", str(quick), "--owner", TEACHER).split()[0]
        site.wait(lambda: site.asset(first)[0] == "ready", timeout=120)
        job_worker = site.job(first)[3]
        assert job_worker.split(":")[1] != str(os.getpid())  # not run in this process

        # 2. a worker child killed mid-transcode: the job comes back and finishes
        slow = make_clip(tmp_path / "slow.mp4", width=640, height=360, seconds=60)
        second = site.flask("lms", "media", "import", str(slow), "--owner", TEACHER).split()[0]
        site.wait(lambda: (site.job(second)[2] or 0) >= 5, timeout=120)
        _job_id, _status, _progress, holder, runs = site.job(second)
        assert runs == 1
        child = int(holder.rsplit(":", 1)[1])
        assert child != worker.pid  # the prefork child, not the main worker process
        os.kill(child, signal.SIGKILL)
        assert site.asset(second)[2] is None
        site.wait(lambda: site.asset(second)[0] == "ready", timeout=180)
        _job_id, status, progress, holder2, runs = site.job(second)
        assert (status, progress) == ("succeeded", 100)
        assert runs == 2 and holder2 != holder  # delivered again, to a new child
        assert len(site.published(second)) == 1
    except AssertionError:
        print((tmp_path / "worker.log").read_text()[-5000:])
        raise
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


@pytest.mark.parametrize("queue", ["transcoding", "documents"])
def test_jobs_are_routed_to_their_queues(app, queue):
    from lms.core import jobs
    from lms.media import tasks

    task = tasks.transcode if queue == "transcoding" else tasks.document
    assert jobs.celery.conf.task_routes[task.name] == {"queue": queue}
    assert task.acks_late and task.reject_on_worker_lost


def test_each_job_is_sent_to_its_own_queue_in_redis(tmp_path):
    """Scale-out routing for real: with a Redis broker, a transcode, a document job and an
    e-mail are sent (after nothing but ``enqueue``) to the Redis lists of the queues
    ``transcoding``, ``documents`` and ``default`` that workers are started on."""
    need(bool(REDIS_URL), "Redis (set LMS_TEST_REDIS_URL)")
    import json

    import redis

    from lms import create_app
    from lms.core import jobs, mail
    from lms.media import tasks
    from tests.conftest import app_config

    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.RedisError as exc:
        need(False, f"Redis at {REDIS_URL} ({exc})")
    previous = jobs._flask_app
    store.delete(*jobs.QUEUES)
    app = create_app(
        app_config(tmp_path, f"sqlite:///{tmp_path / 'q.sqlite3'}", CELERY_BROKER_URL=REDIS_URL)
    )
    try:
        with app.app_context():
            assert not jobs.eager()
            jobs.enqueue(tasks.transcode, "job-1")
            jobs.enqueue(tasks.document, "job-2")
            jobs.enqueue(mail.deliver_job)
        sent = {
            queue: [json.loads(m)["headers"]["task"] for m in store.lrange(queue, 0, -1)]
            for queue in jobs.QUEUES
        }
        assert sent == {
            "transcoding": ["lms.media.transcode"],
            "documents": ["lms.media.document"],
            "default": ["lms.mail.deliver"],
        }
    finally:
        store.delete(*jobs.QUEUES)
        if previous is not None:
            jobs.init_app(previous)
