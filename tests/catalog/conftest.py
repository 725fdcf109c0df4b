from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lms.catalog import services


def write_package(
    root: Path,
    code: str = "TEST-101",
    institution: str = "gx",
    extra: str = "",
    lessons: dict[str, dict[str, str]] | None = None,
) -> Path:
    """A small valid package, with optional extra course.yaml lines and lesson files."""
    pkg = root / code
    (pkg / "lessons").mkdir(parents=True, exist_ok=True)
    (pkg / "course.yaml").write_text(
        textwrap.dedent(f"""\
        code: {code}
        institution: {institution}
        track: asean_plus
        asean_language: th
        kind: course
        industry: culture_tourism
        aqrf_level: 3
        credits: 1.5
        learning_hours: 24
        instruction_languages: [zh_Hans, en, th]
        source_locale: zh_Hans
        status: published
        title:
          en: Thai for Tour Guides
          th: ภาษาไทยสำหรับมัคคุเทศก์
          zh_Hans: 导游泰语
        summary:
          en: Greeting Thai visitors on the Li River.
          zh_Hans: 在漓江接待泰国游客。
        outcomes:
          en: [Greet a tour group]
          zh_Hans: [问候旅游团]
        {extra}modules:
        - key: greetings
          title:
            en: Greetings
            zh_Hans: 问候
          lessons:
          - key: hello
            kind: text
            minutes: 20
            title:
              en: Hello
              th: สวัสดี
              zh_Hans: 你好
            body: lessons/hello
          - key: thanks
            kind: text
            title:
              en: Thank you
              zh_Hans: 谢谢
            body: lessons/thanks
        """),
        encoding="utf-8",
    )
    bodies = lessons or {
        "hello": {
            "zh_Hans": "## 问候\n\n泰语说 สวัสดีครับ。\n",
            "en": "## Greeting\n\nSay hello.\n",
            "th": "## การทักทาย\n\nสวัสดีครับ\n",
        },
        "thanks": {
            "zh_Hans": "## 感谢\n\nขอบคุณ 就是谢谢。\n",
            "en": "## Thanks\n\nSay thank you.\n",
        },
    }
    for key, per_locale in bodies.items():
        for locale, body in per_locale.items():
            (pkg / "lessons" / f"{key}.{locale}.md").write_text(body, encoding="utf-8")
    (pkg / "glossary.yaml").write_text(
        "- term: 导游\n  pinyin: dǎoyóu\n  translations:\n    en: tour guide\n    th: มัคคุเทศก์\n"
        "- term: 游客\n  translations:\n    en: tourist\n",
        encoding="utf-8",
    )
    return pkg


@pytest.fixture
def gx(make):
    return make.institution("gx", country="CN")


@pytest.fixture
def course_factory(make, gx):
    """Create a published course through the services."""

    def create(
        code: str = "GX-101",
        titles: dict[str, str] | None = None,
        status: str = "published",
        institution=None,
        **facts,
    ):
        inst = institution or gx
        data = services.CourseData(
            code=code,
            track=facts.pop("track", "zh_plus"),
            industry=facts.pop("industry", "automotive"),
            instruction_languages=facts.pop("langs", ["zh_Hans", "en"]),
            source_locale=facts.pop("source", "zh_Hans"),
            **facts,
        )
        texts = {
            loc: {"title": t}
            for loc, t in (titles or {"zh_Hans": "汽车维修", "en": "Car repair"}).items()
        }
        course = services.create_course(None, inst, data, texts)
        module = services.add_module(
            None, course, "m1", {"zh_Hans": {"title": "第一单元"}}, check=False
        )
        services.add_lesson(
            None,
            module,
            "l1",
            "text",
            {"zh_Hans": {"title": "第一课", "body": "发动机"}},
            check=False,
        )
        if status == "published":
            services.approve(None, course, check=False)
        return course

    return create


@pytest.fixture
def staff_client(client, make, gx):
    """A client signed in as an administrator of the course's institution: lesson pages are
    open to the course's staff whatever the access rules of enrolment."""
    from tests.conftest import login

    login(client, make.user("admin", gx))
    return client
