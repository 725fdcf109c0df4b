"""Everything a student needs works with scripts off (scripts only enhance): browse and
search the catalogue, sign in, enrol, read a lesson and mark it done, take and submit a
timed quiz (the time is kept by the server), and verify a transcript by its code."""

from __future__ import annotations

import pytest

from tests.browser.reach import COURSE, NO_JS_STUDENT, PASSWORD, QUIZ_LESSON
from tests.live import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"


def test_a_student_enrols_reads_and_submits_a_quiz_without_javascript(scene, chromium):
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(
        java_script_enabled=False, locale="en-US", viewport={"width": 360, "height": 740}
    )
    page = context.new_page()
    base = scene.base
    assert page.evaluate("1") == 1  # Playwright's own evaluation still works; the page's not
    page.goto(base + "/courses")
    page.fill("#q", "Guilin")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/courses?*q=Guilin*")
    page.locator(f"a[href='/courses/{COURSE}']").first.click()
    page.wait_for_url(f"**/courses/{COURSE}")

    page.get_by_role("link", name="Sign in to enrol").click()
    page.fill("#email", NO_JS_STUDENT)
    page.fill("#password", PASSWORD)
    page.locator("form.form [type=submit]").click()
    page.wait_for_url(f"**/courses/{COURSE}")
    page.get_by_role("button", name="Enrol", exact=True).click()
    page.wait_for_url(f"**/courses/{COURSE}")
    assert "Enrolled" in page.locator(".enrolment-panel").inner_text()

    page.locator(".enrolment-panel").get_by_role("link", name="Continue").click()
    page.wait_for_url(f"**/courses/{COURSE}/lessons/*")
    assert page.locator("main .prose").inner_text().strip()
    page.get_by_role("button", name="Mark as done and continue").click()
    page.wait_for_load_state()

    page.goto(base + f"/courses/{COURSE}/lessons/{QUIZ_LESSON}")
    page.locator(".assessment-panel").get_by_role("link").click()
    page.get_by_role("button", name="Start or continue").click()
    page.wait_for_url("**/attempts/*")
    assert "Time left" in page.locator("main").inner_text()  # counted on the server
    questions = page.locator("fieldset.question")
    assert questions.count() == 3
    questions.nth(0).get_by_label("with a wai").check()
    questions.nth(1).get_by_label("False").check()
    questions.nth(2).get_by_label("Your answer").fill("11")
    page.screenshot(path=str(ARTIFACTS / "quiz-no-js.png"), full_page=True)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/attempts/*")
    result = page.locator("main").inner_text()
    assert "Graded" in result and "Score:" in result
    score = page.locator(".result").inner_text()
    assert score.split(":")[1].split()[0] == score.split()[-1], score  # full marks

    page.goto(base + "/me/courses")
    assert page.locator("main").get_by_text("Thai for Tourism Services in Guilin").count()

    page.goto(base + "/verify")
    page.goto(base + f"/verify/code?code={scene.verification_code}")
    assert "Valid: this credential is genuine" in page.locator("main").inner_text()
    context.close()
