"""Every script renders: the catalogue in Thai, Khmer, Lao, Burmese and Tamil is drawn by
headless Chromium with every character covered by an installed font (no missing-glyph
boxes), checked through fontconfig, which Chromium uses on Linux. Screenshots are kept
in test-artifacts/."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

import pytest

from tests.browser.test_smoke import ARTIFACTS, browser, server  # noqa: F401  (fixtures)
from tests.conftest import need

pytestmark = pytest.mark.browser


@cache
def covered(ch: str) -> bool:
    result = subprocess.run(
        ["fc-list", f":charset={ord(ch):x}", "family"], capture_output=True, text=True, check=True
    )
    return bool(result.stdout.strip())


@pytest.mark.parametrize(
    "locale, sample",
    [
        ("th", "ภาษา"),
        ("km", "ភាសា"),
        ("lo", "ພາສາ"),
        ("my", "ဘာသာ"),
        ("ta", "தமிழ்"),
    ],
)
def test_catalogue_renders_every_character(server, browser, locale, sample):  # noqa: F811
    need(bool(shutil.which("fc-list")), "fontconfig (fc-list)")
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 900, "height": 1200})
    page.goto(f"{server}/courses?lang={locale}")
    assert page.locator("html").get_attribute("lang") == locale
    page.screenshot(path=str(ARTIFACTS / f"catalogue-{locale}.png"), full_page=True)
    text = page.evaluate("document.body.innerText")
    assert sample in text  # the page really is in that script
    missing = sorted({ch for ch in text if not ch.isspace() and ord(ch) > 0x7F and not covered(ch)})
    assert not missing, f"no font covers {[f'U+{ord(c):04X} {c}' for c in missing]}"
    page.close()
