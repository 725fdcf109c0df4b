"""One small cache for rendered results that many requests share (the catalogue's pages).

- Embedded default: a bounded cache in each process (least recently used entries go first).
- Scale-out (``LMS_CACHE_URL=redis://…``): one Redis shared by every web node, so that no
  node keeps its own copy and a change seen by one node is seen by all.

Entries belong to a *namespace* with a generation number: ``bump(namespace)`` (called when
what the entries were made from changes, e.g. after a course is saved) moves the namespace
to a new generation, and the entries of the old one are never read again (they expire).
With the per-process backend a bump reaches only its own process; other processes see the
change within the entries' lifetime (``ttl``), which callers keep short. Values are text
(rendered HTML, JSON). Nothing here holds request or user data: callers cache only what is
the same for every reader of a given key."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from flask import Flask, current_app

log = logging.getLogger(__name__)

PREFIX = "lms:cache:"


class Backend(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl: int) -> None: ...
    def generation(self, namespace: str) -> int: ...
    def bump(self, namespace: str) -> None: ...


class LocalBackend:
    """A bounded, thread-safe LRU cache with expiry, in this process."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self.generations: dict[str, int] = {}

    def get(self, key: str) -> str | None:
        with self.lock:
            item = self.items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self.items[key]
                return None
            self.items.move_to_end(key)
            return item[1]

    def set(self, key: str, value: str, ttl: int) -> None:
        with self.lock:
            self.items[key] = (time.monotonic() + ttl, value)
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def generation(self, namespace: str) -> int:
        return self.generations.get(namespace, 0)

    def bump(self, namespace: str) -> None:
        with self.lock:
            self.generations[namespace] = self.generations.get(namespace, 0) + 1


class RedisBackend:
    """Entries and generations in Redis (``SET … EX``, ``INCR``), shared by every node.

    If Redis cannot be reached, pages are rendered every time (and a warning is logged)
    rather than failing the request."""

    def __init__(self, url: str) -> None:
        import redis

        self.errors = (redis.RedisError, OSError)
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def _warn(self, exc: Exception) -> None:
        log.warning("cache: Redis unavailable (%s); rendering without the cache", exc)

    def get(self, key: str) -> str | None:
        try:
            value = self.redis.get(PREFIX + key)
        except self.errors as exc:
            self._warn(exc)
            return None
        return None if value is None else value.decode("utf-8")

    def set(self, key: str, value: str, ttl: int) -> None:
        try:
            self.redis.set(PREFIX + key, value.encode("utf-8"), ex=max(1, int(ttl)))
        except self.errors as exc:
            self._warn(exc)

    def generation(self, namespace: str) -> int:
        try:
            return int(self.redis.get(f"{PREFIX}gen:{namespace}") or 0)
        except self.errors as exc:
            self._warn(exc)
            return -1

    def bump(self, namespace: str) -> None:
        try:
            self.redis.incr(f"{PREFIX}gen:{namespace}")
        except self.errors as exc:
            self._warn(exc)


def init_app(app: Flask) -> None:
    url = app.config.get("CACHE_URL") or ""
    app.extensions["lms_cache"] = RedisBackend(url) if url else LocalBackend()


def backend(app: Flask | None = None) -> Backend:
    return (app or current_app).extensions["lms_cache"]


def _digest(parts: Hashable) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


def cached(namespace: str, parts: Any, ttl: int, produce: Callable[[], str]) -> str:
    """The text cached under ``parts`` in the namespace's current generation, or
    ``produce()`` (then cached for ``ttl`` seconds). ``ttl <= 0`` caches nothing."""
    if ttl <= 0:
        return produce()
    store = backend()
    key = f"{namespace}:{store.generation(namespace)}:{_digest(parts)}"
    value = store.get(key)
    if value is None:
        value = produce()
        store.set(key, value, ttl)
    return value


def bump(namespace: str, app: Flask | None = None) -> None:
    """Forget the namespace's entries (they are made again on their next use)."""
    backend(app).bump(namespace)
