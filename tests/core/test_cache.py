"""The shared-results cache: bounded and expiring in a process, shared through Redis by
several app instances, and the catalogue's pages reused until a course changes."""

from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager

import pytest

from lms.core import cache
from tests.catalog.conftest import course_factory, gx  # noqa: F401  (fixtures)
from tests.conftest import app_config, login, need
from tests.queries import counting

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "")


def test_local_backend_is_bounded_expires_and_has_generations():
    store = cache.LocalBackend(size=2)
    store.set("a", "1", ttl=60)
    store.set("b", "2", ttl=60)
    assert store.get("a") == "1"  # a is now the most recently used
    store.set("c", "3", ttl=60)
    assert (store.get("a"), store.get("b"), store.get("c")) == ("1", None, "3")
    store.set("short", "x", ttl=0)
    time.sleep(0.01)
    assert store.get("short") is None
    assert store.generation("ns") == 0
    store.bump("ns")
    assert store.generation("ns") == 1


@contextmanager
def catalogue_cache(app, seconds: int = 30):
    before = app.config["CATALOGUE_CACHE_SECONDS"]
    app.config["CATALOGUE_CACHE_SECONDS"] = seconds
    try:
        yield
    finally:
        app.config["CATALOGUE_CACHE_SECONDS"] = before


def _course_queries(statements) -> int:
    return sum(1 for sql in statements if "FROM courses" in sql)


@pytest.mark.parametrize("path", ["/courses", "/api/v1/courses"])
def test_catalogue_is_reused_until_a_course_changes(app, client, course_factory, path):  # noqa: F811
    course_factory("CACHE-001")
    with catalogue_cache(app):
        first = client.get(path)
        assert first.status_code == 200 and "CACHE-001" in first.get_data(as_text=True)
        with counting() as seen:
            again = client.get(path)
        assert again.get_data() == first.get_data()
        assert _course_queries(seen) == 0  # served from the cache
        # another language is another page
        other = client.get(path, headers={"Accept-Language": "vi"})
        assert other.status_code == 200
        # a new course renews the cache at once
        course_factory("CACHE-002")
        with counting() as seen:
            fresh = client.get(path)
        assert "CACHE-002" in fresh.get_data(as_text=True)
        assert _course_queries(seen) > 0


def test_a_visitor_gets_the_whole_shared_page_without_a_session(
    app,
    client,
    make,
    course_factory,  # noqa: F811
):
    """Visitors (no session) share one rendered page per locale and query: no statement, no
    cookie. A signed-in reader still gets their own menu around the shared list."""
    course_factory("CACHE-004")
    with catalogue_cache(app):
        first = client.get("/courses?lang=th")
        assert first.status_code == 200 and "Set-Cookie" not in first.headers
        with counting() as seen:
            again = client.get("/courses?lang=th")
        assert again.get_data() == first.get_data()
        assert list(seen) == []  # not even the layout needed the database
        assert "csrf_token" not in first.get_data(as_text=True)
        user = make.user("student", make.institution())
        login(client, user)
        mine = client.get("/courses?lang=th").get_data(as_text=True)
        assert "CACHE-004" in mine and 'action="/logout"' in mine and "csrf_token" in mine


def test_cache_off_renders_every_time(app, client, course_factory):  # noqa: F811
    course_factory("CACHE-003")
    with catalogue_cache(app, 0):
        client.get("/courses")
        with counting() as seen:
            client.get("/courses")
    assert _course_queries(seen) > 0


def test_two_app_instances_share_the_cache_through_redis(tmp_path):
    """Scaled out, every web node reads and renews the same entries (LMS_CACHE_URL)."""
    need(bool(REDIS_URL), "Redis (set LMS_TEST_REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        need(False, f"Redis at {REDIS_URL} ({exc})")
    from lms import create_app

    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    nodes = [create_app(app_config(tmp_path / n, url, CACHE_URL=REDIS_URL)) for n in "ab"]
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    made = []

    def produce(text: str):
        def make() -> str:
            made.append(text)
            return text

        return make

    with nodes[0].app_context():
        assert cache.cached(namespace, ("k",), 30, produce("from a")) == "from a"
    with nodes[1].app_context():
        assert cache.cached(namespace, ("k",), 30, produce("from b")) == "from a"
        cache.bump(namespace)  # e.g. node b saved a course
    with nodes[0].app_context():
        assert cache.cached(namespace, ("k",), 30, produce("a again")) == "a again"
    assert made == ["from a", "a again"]


def test_unreachable_redis_renders_without_the_cache(tmp_path):
    from lms import create_app

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    node = create_app(app_config(tmp_path, url, CACHE_URL="redis://127.0.0.1:1/0"))
    with node.app_context():
        assert cache.cached("ns", ("k",), 30, lambda: "rendered") == "rendered"
        cache.bump("ns")  # logged, not raised
