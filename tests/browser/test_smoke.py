"""The main journey in a real browser: register, sign out, sign in, switch language.

Headless Chromium from Debian, driven by Playwright through ``executable_path`` (a browser
download cannot work here). Screenshots are kept in ``test-artifacts/``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lms.demo import DEMO_PASSWORD
from tests.conftest import need
from tests.live import ROOT, live_server

CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("browser")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    need(Path(CHROMIUM).exists() or bool(shutil.which("chromium")), "Chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_register_sign_in_and_switch_language(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
    page.goto(server + "/register")
    page.fill("#email", "browser.student@example.org")
    page.fill("#password", "browser-password-1")
    page.fill("#display_name", "Ngọc Anh")
    page.fill("#name_native", "Trần Ngọc Anh")
    page.fill("#name_latin", "TRAN Ngoc Anh")
    page.select_option("#country", "VN")
    page.select_option("#timezone", "Asia/Ho_Chi_Minh")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(server + "/profile")
    assert page.locator("h1").inner_text() == "Profile"

    page.get_by_role("button", name="Sign out").click()
    page.goto(server + "/login")
    page.fill("#email", "browser.student@example.org")
    page.fill("#password", "browser-password-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server + "/")
    assert "Ngọc Anh" in page.content()

    page.locator(".lang-switch summary").click()
    page.get_by_role("button", name="ไทย").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "th"
    assert page.get_by_role("button", name="Create account").count() == 0
    page.screenshot(path=str(ARTIFACTS / "home-th.png"), full_page=True)
    # the choice is the user's setting now: it survives signing in elsewhere
    other = browser.new_page(locale="en-US")
    other.goto(server + "/login")
    other.fill("#email", "browser.student@example.org")
    other.fill("#password", "browser-password-1")
    other.locator("form.form [type=submit]").click()
    other.wait_for_url(server + "/")
    assert other.locator("html").get_attribute("lang") == "th"


def test_admin_pages_work_without_javascript(server, browser):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/login")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.fill("#email", "admin@demo.lms.test")
    page.fill("#password", DEMO_PASSWORD)
    page.locator("form.form [type=submit]").click()
    page.goto(server + "/admin/")
    assert page.locator("table tbody tr").count() >= 7
    page.screenshot(path=str(ARTIFACTS / "admin-zh.png"), full_page=True)
    context.close()
