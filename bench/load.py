"""A small HTTP load generator for loopback servers: threads with keep-alive connections,
bounded by a request count and a time limit, reporting req/s and latency percentiles.

Only ``127.0.0.1`` is accepted as a target. Pure standard library, so the benchmark needs
nothing but Python."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

#: requests sent on one keep-alive connection before it is renewed. The server's worker
#: processes each take whole connections, so a run on 8 long-lived connections measured
#: whichever split the kernel happened to give (8-0 halves the throughput of 4-4, seen here
#: as 760 against 1,540 req/s in two runs of one server); renewing them spreads the load
#: as a proxy's many connections would
RENEW_AFTER = 50
#: a request: (method, path, headers, body)
Request = tuple[str, str, dict[str, str], bytes | None]
#: sends one request on the worker's connection: (status, body)
Send = Callable[[str, str, dict[str, str], bytes | None], tuple[int, bytes]]
#: several dependent requests timed as one (e.g. issue a transcript, then fetch its PDF):
#: called with ``send``, returns the status that counts for the whole flow
Flow = Callable[[Send], int]


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float] = field(repr=False)
    statuses: Counter
    errors: int = 0
    bodies: list[tuple[int, Any]] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency at percentile ``p`` (0–100), milliseconds (nearest rank)."""
        if not self.latencies:
            return 0.0
        data = sorted(self.latencies)
        rank = max(0, min(len(data) - 1, round(p / 100 * len(data) + 0.5) - 1))
        return data[rank] * 1000

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50, 2),
            "p99_ms": round(self.p99, 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
        }


def _connect(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    if parts.hostname != "127.0.0.1":
        raise ValueError("the load tool targets 127.0.0.1 only")
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def run(
    base: str,
    requests: Callable[[int], Request | Flow] | list[Request | Flow],
    *,
    total: int,
    concurrency: int = 8,
    max_seconds: float = 20.0,
    keep_bodies: bool = False,
) -> Result:
    """Send up to ``total`` requests from ``concurrency`` threads, stopping early after
    ``max_seconds``. ``requests`` is a list (the i-th request is sent once) or a function
    of the request number. An item may be a ``Flow``: its requests are sent one after the
    other on the worker's connection and timed as one."""
    if isinstance(requests, list):
        total = min(total, len(requests))
        pick = requests.__getitem__
    else:
        pick = requests
    lock = threading.Lock()
    counter = iter(range(total))
    latencies: list[float] = []
    statuses: Counter = Counter()
    bodies: list[tuple[int, Any]] = []
    errors = [0]
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        holder = [_connect(base)]
        used = [0]

        def send(method: str, path: str, headers: dict[str, str], body: bytes | None):
            conn = holder[0]
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            used[0] += 1
            if resp.will_close or used[0] >= RENEW_AFTER:
                conn.close()
                holder[0] = _connect(base)
                used[0] = 0
            return resp.status, data

        try:
            while time.perf_counter() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                item = pick(i)
                t0 = time.perf_counter()
                try:
                    if callable(item):
                        status, data = item(send), b""
                    else:
                        status, data = send(*item)
                except (OSError, http.client.HTTPException):
                    holder[0].close()
                    holder[0] = _connect(base)
                    with lock:
                        errors[0] += 1
                    continue
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    statuses[status] += 1
                    if keep_bodies:
                        try:
                            bodies.append((status, json.loads(data or b"null")))
                        except ValueError:
                            bodies.append((status, None))
        finally:
            holder[0].close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max_seconds + 35)
    seconds = time.perf_counter() - started
    return Result(len(latencies), seconds, latencies, statuses, errors[0], bodies)


def merge(results: list[Result]) -> Result:
    """Several runs against one target as one (runs interleaved with another target's, so
    that a busy machine weighs on both sides of a ratio alike)."""
    statuses: Counter = Counter()
    for r in results:
        statuses.update(r.statuses)
    return Result(
        sum(r.requests for r in results),
        sum(r.seconds for r in results),
        [x for r in results for x in r.latencies],
        statuses,
        sum(r.errors for r in results),
    )


def get(path: str, headers: dict[str, str] | None = None) -> Callable[[int], Request]:
    request: Request = ("GET", path, headers or {}, None)
    return lambda _i: request
