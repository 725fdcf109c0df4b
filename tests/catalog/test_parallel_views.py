"""A student's lesson pages opened in parallel (tabs, offline saving) all load, on SQLite too:
recording the activity takes the write lock before reading, so requests wait their turn
instead of failing with "database is locked"."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from lms.accounts import services as accounts
from lms.catalog import services as catalog
from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from tests.live import live_server

PASSWORD = "parallel-password-1"


def _seed(found: dict):
    def seed(app):
        course = catalog.get_course("LZ-AUTO-101")
        student = accounts.create_user(
            None,
            email="tabs@parallel.example.org",
            password=PASSWORD,
            display_name="Tabs",
            role="student",
            institution=course.institution,
        )
        enrolment.enrol(student, course, now=utcnow())
        found["lessons"] = [lesson.key for module in course.modules for lesson in module.lessons][
            :4
        ]

    return seed


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def test_parallel_lesson_pages_all_load(tmp_path):
    found: dict = {}
    with live_server(tmp_path, seed=_seed(found)) as base:
        browser = _opener()
        page = browser.open(f"{base}/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        form = {"email": "tabs@parallel.example.org", "password": PASSWORD, "csrf_token": token}
        browser.open(f"{base}/login", urllib.parse.urlencode(form).encode(), timeout=60)
        urls = [f"{base}/courses/LZ-AUTO-101/lessons/{key}" for key in found["lessons"]] * 6

        def fetch(url: str) -> int:
            try:
                with browser.open(url, timeout=120) as resp:
                    return resp.status
            except urllib.error.HTTPError as err:
                return err.code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(fetch, urls))
    assert statuses == [200] * len(urls), statuses
