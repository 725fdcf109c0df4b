"""Phones: at 360 × 740 CSS pixels no main page scrolls sideways, and every link, button and
form control offers a target of at least 24 × 24 px (WCAG 2.2 SC 2.5.8), except links inside
a sentence and targets with 24 px of free space around them (the criterion's exceptions).
Screenshots are kept in test-artifacts/mobile-<page>.png."""

from __future__ import annotations

import pytest

from tests.browser.reach import pages, sign_in, start_attempt
from tests.live import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"

SMALL_TARGETS = """() => {
  const visible = el => {
    const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden';
  };
  // a radio button or check box wrapped in its label is operated through the label
  const target = el => (el.matches('input[type=radio], input[type=checkbox]')
                        && el.closest('label')) || el;
  const all = [...document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .filter(visible).map(target);
  const boxes = all.map(el => el.getBoundingClientRect());
  const inSentence = el => {
    if (el.tagName !== 'A') return false;
    const parent = el.parentElement;
    if (!parent || /flex|grid/.test(getComputedStyle(parent).display)) return false;
    return [...parent.childNodes].some(n => n !== el && n.textContent.trim()
                                             && n.nodeType === Node.TEXT_NODE);
  };
  const spaced = (i) => {
    const b = boxes[i], cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    return boxes.every((o, j) => j === i || all[j] === all[i]
      || o.right <= cx - 12 || o.left >= cx + 12 || o.bottom <= cy - 12 || o.top >= cy + 12);
  };
  return all.map((el, i) => ({el, b: boxes[i], i}))
    .filter(({el, b, i}) => (b.width < 24 || b.height < 24) && !inSentence(el) && !spaced(i))
    .map(({el, b}) => ({tag: el.tagName, text: (el.innerText || el.value || el.name || '')
                        .trim().slice(0, 30), w: Math.round(b.width), h: Math.round(b.height)}));
}"""


def test_main_pages_fit_a_360_px_phone(scene, chromium):
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(
        locale="en-US",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = context.new_page()
    problems = {}
    page.goto(scene.base + "/")
    anonymous = {
        "home": "/",
        "sign-in": "/login",
        "register": "/register",
        "verify-form": "/verify",
    }
    for name, path in anonymous.items():
        page.goto(scene.base + path)
        problems.update(_check(page, name))
    sign_in(page, scene.base, scene.students["km"])
    targets = dict(pages(scene))
    targets["attempt"] = None
    for name, path in targets.items():
        if path is None:
            start_attempt(page, scene)
        else:
            page.goto(scene.base + path)
        problems.update(_check(page, name))
    context.close()
    assert not problems, problems


def _check(page, name: str) -> dict:
    page.screenshot(path=str(ARTIFACTS / f"mobile-{name}.png"), full_page=True)
    found = {}
    width = page.evaluate("document.scrollingElement.scrollWidth")
    if width > 360:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
          .filter(el => el.getBoundingClientRect().right > 361)
          .slice(0, 5).map(el => el.tagName + '.' + el.className)""")
        found[f"{name}: scrolls sideways ({width} px)"] = wide
    small = page.evaluate(SMALL_TARGETS)
    if small:
        found[f"{name}: targets under 24 px"] = small[:8]
    return found
