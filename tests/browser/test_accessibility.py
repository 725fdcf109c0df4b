"""WCAG 2.2 AA checks in headless Chromium: axe-core over the catalogue, course, lesson,
quiz, attempt, dashboard and verification pages in Thai, Khmer and Chinese finds no serious
or critical violation; every page has the landmarks, one h1 and headings in order; content
served in another language than the page (a fallback) says so with ``lang``. The full axe
reports are kept in test-artifacts/axe-<locale>.json."""

from __future__ import annotations

import json

import pytest

from tests.browser import axe
from tests.browser.reach import LOCALES, pages, sign_in, start_attempt
from tests.live import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

STRUCTURE = """() => {
  const one = (sel) => document.querySelectorAll(sel).length;
  const levels = [...document.querySelectorAll(
    'main h1, main h2, main h3, main h4, main h5, main h6')]
    .map(h => Number(h.tagName[1]));
  const skips = levels.filter((lvl, i) => i > 0 && lvl > levels[i - 1] + 1);
  return {header: one('body > header'), nav: one('header nav'), main: one('main'),
          footer: one('body > footer'), h1: one('h1'), first: levels[0], skips: skips.length,
          lang: document.documentElement.lang};
}"""


# Text in a script of another language must sit in an element whose ``lang`` names that
# language (WCAG 3.1.2), so screen readers switch voice: content served through the fallback
# chain, the language switcher, names of institutions. Inside a lesson's or description's
# Markdown (``.prose``) inline phrases are the author's to mark (``<span lang="th">``).
FOREIGN_TEXT = r"""(pageLang) => {
  const scripts = {Han: 'zh', Thai: 'th', Khmer: 'km', Lao: 'lo', Myanmar: 'my', Tamil: 'ta'};
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, .prose, [hidden], [aria-hidden=true]')) continue;
    const lang = (el.closest('[lang]')?.getAttribute('lang') || '').toLowerCase();
    for (const [script, tag] of Object.entries(scripts)) {
      if (pageLang.startsWith(tag)) continue;
      if (new RegExp('\\p{Script=' + script + '}', 'u').test(node.data) && !lang.startsWith(tag))
        bad.push({text: node.data.trim().slice(0, 40), lang, tag: el.tagName});
    }
  }
  return bad;
}"""

# A visible focus indicator on every element the keyboard reaches (WCAG 2.4.7).
FOCUS_RING = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {tag: el.tagName, text: (el.innerText || el.value || '').slice(0, 30),
          ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                || s.boxShadow !== 'none'};
}"""


def run_axe(page) -> list[dict]:
    page.evaluate(axe.fetch().read_text())  # through CDP: the page's CSP does not apply
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [
                {"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"]
            ][:10],
        }
        for v in result["violations"]
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_no_serious_violation_on_the_main_pages(scene, chromium, locale):
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(locale="en-US", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    sign_in(page, scene.base, scene.students[locale])
    report, serious, broken = {}, [], []
    targets = dict(pages(scene))
    targets["attempt"] = None
    for name, path in targets.items():
        if path is None:
            start_attempt(page, scene)
        else:
            page.goto(scene.base + path)
        found = run_axe(page)
        report[name] = {"url": page.url, "violations": found}
        serious += [
            (name, v["id"], v["nodes"][:2]) for v in found if v["impact"] in ("serious", "critical")
        ]
        shape = page.evaluate(STRUCTURE)
        report[name]["structure"] = shape
        if (
            (shape["header"], shape["nav"], shape["main"], shape["footer"], shape["h1"])
            != (1, 1, 1, 1, 1)
            or shape["first"] != 1
            or shape["skips"]
        ):
            broken.append((name, shape))
        assert shape["lang"] == {"th": "th", "km": "km", "zh_Hans": "zh-Hans"}[locale]
        unmarked = page.evaluate(FOREIGN_TEXT, shape["lang"].lower())
        report[name]["unmarked"] = unmarked
        if unmarked:
            broken.append((name, "text without lang", unmarked[:5]))
    (ARTIFACTS / f"axe-{locale}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    context.close()
    assert not serious, serious
    assert not broken, broken


def test_keyboard_reaches_everything_with_a_visible_focus(scene, chromium):
    context = chromium.new_context(locale="en-US", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    sign_in(page, scene.base, scene.students["km"])
    page.goto(scene.base + pages(scene)["lesson"])
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS_RING)
    assert first["tag"] == "A" and first["ring"], first  # the skip link, shown on focus
    assert page.locator(".skip").bounding_box()["x"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    seen, missing = 0, []
    for _ in range(40):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_RING)
        if state["tag"] == "BODY":
            break
        seen += 1
        if not state["ring"]:
            missing.append(state)
    assert seen >= 10 and not missing, missing
    # the quiz is answered and submitted with the keyboard alone
    start_attempt(page, scene)
    page.locator("fieldset.question input").first.focus()
    page.keyboard.press("Space")
    assert page.locator("fieldset.question input").first.is_checked()
    context.close()
