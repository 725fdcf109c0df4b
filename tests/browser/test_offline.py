"""Offline study in a real browser: a student saves a course (service worker + Cache
Storage), goes offline, opens saved lessons from the cache, marks a lesson done and answers
a quiz question; back online, the queued work reaches the server exactly once, and sending
the same batch again changes nothing.

Service workers need a secure context: http://127.0.0.1 is one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.browser.test_smoke import ARTIFACTS, browser  # noqa: F401  (fixture)
from tests.live import live_server

pytestmark = pytest.mark.browser

PASSWORD = "offline-study-password-1"
ANSWER_SQL = (
    "SELECT answer, saved_at FROM attempt_responses WHERE attempt_id = ? AND question_id = ?"
)
GIFT = """::Spark::A petrol engine ignites its mixture with a {=spark plug ~glow plug ~injector}

::Pi::What is pi to two decimal places? {#3.14:0.005}
"""


def _seed(ids: dict):
    def seed(app):
        from lms.accounts import services as accounts
        from lms.assessment import services as assessment
        from lms.catalog import services as catalog
        from lms.core.db import utcnow
        from lms.enrolment import services as enrolment

        inst = accounts.create_institution(
            None,
            slug="offline-college",
            names={"en": "Offline College", "zh_Hans": "离线学院"},
            country="CN",
            kind="vocational_college",
            timezone="Asia/Shanghai",
            default_locale="en",
        )
        teacher = accounts.create_user(
            None,
            email="teacher@offline.test",
            password=PASSWORD,
            display_name="Teacher",
            role="teacher",
            institution=inst,
        )
        student = accounts.create_user(
            None,
            email="student@offline.test",
            password=PASSWORD,
            display_name="Student",
            role="student",
            institution=inst,
        )
        course = catalog.create_course(
            None,
            inst,
            catalog.CourseData(
                code="OFF-101",
                track="vocational",
                industry="automotive",
                instruction_languages=["en"],
                source_locale="en",
                teachers=[teacher.email],
            ),
            {"en": {"title": "Engines on the road"}},
        )
        module = catalog.add_module(None, course, "m1", {"en": {"title": "Basics"}}, check=False)
        first = catalog.add_lesson(
            None,
            module,
            "intro",
            "text",
            {"en": {"title": "Four strokes", "body": "Intake, compression, power, exhaust."}},
            check=False,
        )
        catalog.add_lesson(
            None,
            module,
            "fuel",
            "text",
            {"en": {"title": "Fuel systems", "body": "Injectors spray fuel into the air."}},
            check=False,
        )
        quiz_lesson = catalog.add_lesson(
            None, module, "check", "quiz", {"en": {"title": "Check yourself"}}, check=False
        )
        catalog.approve(None, course, check=False)
        bank = assessment.import_questions(teacher, course, "gift", GIFT.encode())
        assert len(bank.imported) == 2, bank.errors
        quiz = assessment.create_assessment(
            teacher,
            course,
            "Engine check",
            question_ids=[q.id for q in bank.imported],
            lesson=quiz_lesson,
            time_limit_minutes=60,
        )
        assert enrolment.enrol(student, course, now=utcnow()).status == "enrolled"
        ids.update(
            student=student.id,
            lesson=first.id,
            quiz=quiz.id,
            spark=next(q.id for q in bank.imported if q.name == "Spark"),
        )

    return seed


@pytest.fixture(scope="module")
def offline_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("offline")
    ids: dict = {}
    with live_server(tmp, seed=_seed(ids)) as base:
        yield base, tmp / "live.sqlite3", ids


def _rows(db: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_study_offline_and_sync_exactly_once(offline_server, browser):  # noqa: F811
    base, db, ids = offline_server
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#email", "student@offline.test")
    page.fill("#password", PASSWORD)
    page.locator("form.form [type=submit]").click()
    page.wait_for_url(base + "/")

    # online: start the quiz (its attempt page is saved with the course)
    page.goto(f"{base}/courses/OFF-101/lessons/check")
    page.goto(f"{base}/assessments/{ids['quiz']}")
    page.locator("form[action$='/start'] [type=submit]").click()
    page.wait_for_url(f"{base}/attempts/*")
    attempt_url = page.url
    attempt_id = int(attempt_url.rsplit("/", 1)[1])

    # save the course for offline study on the Offline page
    page.goto(base + "/offline")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    row = page.locator("tr[data-offline-course='OFF-101']")
    estimate = row.locator("td").first.inner_text()
    assert "kB" in estimate  # the server's estimate, shown before saving
    row.locator("[data-offline-save]").click()
    page.locator("tr[data-offline-course='OFF-101'][data-saved='yes']").wait_for(timeout=60000)
    assert row.locator("[data-offline-state]").inner_text().startswith("Saved on this device")
    assert row.locator("[data-offline-remove]").is_visible()
    saved = page.evaluate(
        "caches.open('lms-course-OFF-101').then(c => c.keys()).then(k => k.map(r => r.url))"
    )
    assert f"{base}/courses/OFF-101/lessons/intro" in saved
    assert attempt_url in saved
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")

    # offline: the saved lessons open from the cache
    context.set_offline(True)
    page.goto(f"{base}/courses/OFF-101/lessons/intro")
    assert page.evaluate("navigator.onLine") is False
    assert page.locator("h1").inner_text() == "Four strokes"
    page.screenshot(path=str(ARTIFACTS / "offline-lesson.png"), full_page=True)
    page.get_by_role("button", name="Mark as done and continue").click()
    page.get_by_text("Marked as done on this device").wait_for()

    page.goto(attempt_url)
    page.get_by_label("spark plug").check()
    page.locator("[data-offline-status]").filter(has_text="kept on this device").wait_for()
    queued = page.evaluate(
        """new Promise(r => { const q = indexedDB.open('lms-offline', 1);
             q.onsuccess = () => {
               const g = q.result.transaction('ops').objectStore('ops').getAll();
               g.onsuccess = () => r(g.result.map(o => o.type)); }; })"""
    )
    assert sorted(queued) == ["lesson.complete", "quiz.answer"]
    # nothing has reached the server yet
    assert _rows(db, "SELECT count(*) FROM lesson_progress WHERE completed_at IS NOT NULL") == [
        (0,)
    ]
    assert _rows(
        db,
        "SELECT answer FROM attempt_responses WHERE attempt_id = ? AND question_id = ?",
        attempt_id,
        ids["spark"],
    ) == [(None,)]

    # back online: the queue is sent once
    with page.expect_request(lambda r: r.url.endswith("/offline/sync")) as sent:
        context.set_offline(False)
    batch = json.loads(sent.value.post_data)
    page.get_by_text("Your offline work was sent to the server.").wait_for()
    # the page's own autosave also sends the answers it could not send offline (a save
    # replaces the previous one, so this adds nothing)
    page.locator("[data-autosave-status]").filter(has_text="Your answers are saved.").wait_for()

    completions = _rows(
        db,
        "SELECT p.lesson_id, p.completed_at FROM lesson_progress p JOIN enrolments e "
        "ON e.id = p.enrolment_id WHERE e.student_id = ? AND p.completed_at IS NOT NULL",
        ids["student"],
    )
    assert [c[0] for c in completions] == [ids["lesson"]]
    answers = _rows(
        db,
        ANSWER_SQL,
        attempt_id,
        ids["spark"],
    )
    assert len(answers) == 1 and json.loads(answers[0][0]) == "c1"
    assert _rows(db, "SELECT count(*) FROM attempts") == [(1,)]
    ops = _rows(db, "SELECT kind, outcome FROM sync_operations ORDER BY id")
    assert ops == [("lesson.complete", "applied"), ("quiz.answer", "applied")]
    assert (
        page.evaluate(
            """new Promise(r => { const q = indexedDB.open('lms-offline', 1);
             q.onsuccess = () => { const g = q.result.transaction('ops').objectStore('ops').count();
             g.onsuccess = () => r(g.result); }; })"""
        )
        == 0
    )

    # the same batch again: every operation is a duplicate and nothing changes
    token = page.request.get(base + "/offline/session").json()["csrf_token"]
    replay = page.request.post(
        base + "/offline/sync",
        data=json.dumps(batch),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert replay.status == 200
    assert [r["status"] for r in replay.json()["results"]] == ["duplicate"] * len(
        batch["operations"]
    )
    assert (
        _rows(
            db,
            "SELECT p.lesson_id, p.completed_at FROM lesson_progress p JOIN enrolments e "
            "ON e.id = p.enrolment_id WHERE e.student_id = ? AND p.completed_at IS NOT NULL",
            ids["student"],
        )
        == completions
    )
    assert (
        _rows(
            db,
            ANSWER_SQL,
            attempt_id,
            ids["spark"],
        )
        == answers
    )
    assert len(_rows(db, "SELECT id FROM sync_operations")) == 2

    # removing the saved course empties its cache
    page.goto(base + "/offline")
    row = page.locator("tr[data-offline-course='OFF-101']")
    row.locator("[data-offline-remove]").click()
    row.locator("[data-offline-state]").filter(has_text="Removed").wait_for()
    assert "lms-course-OFF-101" not in page.evaluate("caches.keys()")

    # signing out forgets saved courses, so the next person on the device cannot read them
    row.locator("[data-offline-save]").click()
    page.locator("tr[data-offline-course='OFF-101'][data-saved='yes']").wait_for(timeout=60000)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/")
    saved_courses = "caches.keys().then(names => names.filter(n => n.startsWith('lms-course-')))"
    for _ in range(50):  # the service worker deletes them while the sign-out goes on
        if not page.evaluate(saved_courses):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(saved_courses) == []
    context.close()
