"""Where one request's time goes: CPU per request, in process, or a pyinstrument profile.

The figures of ``make bench`` say how far a request is from its baseline; this says why.
It builds a small copy of the bench's data in a temporary SQLite file (the same generator
and fixtures), sends ``--requests`` requests of one kind through the Flask test client
after a few to warm up, and prints the CPU time per request. With ``--profile`` it writes
a pyinstrument report of the same requests instead (slower: the profiler's own cost is
in it). Each request is a new student's, as in the bench.

    python bench/profile_requests.py enrol|quiz|me [--requests 300] [--profile report.txt]

``me`` is the cheapest authenticated API call, ``enrol`` a student enrolling in a course
with seats to spare, ``quiz`` a 20-question submission, every answer right."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dataset  # noqa: E402
import scenarios  # noqa: E402

WARM = 10
KINDS = ("me", "enrol", "quiz")
#: the bench's ``--quick`` dataset
SCALE = dataset.Scale(10, 1_000, 2_000, 10_000, 50_000)
#: sends the i-th request of one kind and checks its answer
Send = Callable[[int], None]


def prepare(tmp: Path, requests: int, scale: dataset.Scale = SCALE) -> dict[str, Send]:
    """A migrated, loaded database in ``tmp`` and an app over it, with enough students
    for ``requests`` of each kind after the warm-up; returns each kind's sender."""
    from lms import create_app

    url = f"sqlite:///{tmp / 'profile.sqlite3'}"
    dataset.migrate(url, tmp / "instance")
    dataset.load(url, scale, log=lambda _m: None)
    students = WARM + requests
    code, tokens = dataset.contested(url, students=students, capacity=students)
    fx = scenarios.prepare(url, tmp / "instance", quiz_students=students, transcript_students=0)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "profile",
            "INSTANCE_PATH": str(tmp / "instance"),
            "MEDIA_ROOT": str(tmp / "media"),
            "CELERY_BROKER_URL": "",
        }
    )
    client = app.test_client()
    body = json.dumps({"answers": fx.answers})
    return {
        "me": lambda i: _expect(
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens[i]}"}), 200
        ),
        "enrol": lambda i: _expect(
            client.post(
                f"/api/v1/courses/{code}/enrolments",
                json={},
                headers={"Authorization": f"Bearer {tokens[i]}"},
            ),
            201,
        ),
        "quiz": lambda i: _expect_full_marks(
            client.post(
                f"/api/v1/attempts/{fx.attempts[i][0]}/submit",
                data=body,
                content_type="application/json",
                headers={"Authorization": f"Bearer {fx.attempts[i][1]}"},
            )
        ),
    }


def _expect(response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")


def _expect_full_marks(response) -> None:
    _expect(response, 200)
    if response.json["score"] != response.json["max_score"]:
        raise RuntimeError(f"not scored in full: {response.json}")


def measure(send: Send, requests: int, profile: Path | None = None) -> float:
    """CPU milliseconds per request, after the warm-up (the profiler's cost included when
    ``profile`` names a file for its report)."""
    for i in range(WARM):
        send(i)
    profiler = None
    if profile is not None:
        import pyinstrument

        profiler = pyinstrument.Profiler(interval=0.0005)
        profiler.start()
    started = time.process_time()
    for i in range(WARM, WARM + requests):
        send(i)
    cpu = time.process_time() - started
    if profiler is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=True), encoding="utf-8")
    return cpu / requests * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", type=Path, help="write a pyinstrument report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lms-profile-") as tmp:
        senders = prepare(Path(tmp), args.requests)
        # the access log's line per request would go to this terminal; it is left out of
        # the figure (a deployed server pays for it: about 7 % of `/me` in a profile)
        logging.getLogger("lms.access").disabled = True
        ms = measure(senders[args.kind], args.requests, args.profile)
    print(f"{args.kind}: {ms:.2f} ms of CPU per request ({args.requests} requests)")
    if args.profile:
        print(f"profile written to {args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
