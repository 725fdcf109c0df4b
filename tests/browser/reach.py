"""A live server for the reach checks (page weight, no JavaScript, accessibility, phones):
the demo data plus, through the real services, a quiz on a lesson of the Guilin tourism
course, one student per interface language enrolled in it, and a graduate of the Nanning
agriculture course with an issued transcript (for the verification page)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.test_smoke import ARGS, CHROMIUM
from tests.conftest import need
from tests.live import live_server

PASSWORD = "reach-password-1"
COURSE = "GL-TOUR-101"
LESSON = "greeting-thai-groups"
QUIZ_LESSON = "greeting-quiz"
PUBLIC_HOST = "127.0.0.1:5000"  # the seed signs outside a request: the server must agree
LOCALES = ("th", "km", "zh_Hans")
NO_JS_STUDENT = "reach.nojs@example.org"

QUIZ_GIFT = """
::Greeting::How do Thai people greet a tour group politely? {
    =with a wai and "sawasdee" ~with a handshake ~by waving}

::Temple::Visitors may wear shorts inside a temple. {F}

::Group::How many guests fit in a minibus with 12 seats and 1 driver? {#11}
"""


@dataclass
class Scene:
    base: str = ""
    quiz_id: int = 0
    verification_code: str = ""
    students: dict[str, str] = field(default_factory=dict)  # locale -> e-mail


def _seed(scene: Scene):
    def seed(app):
        from sqlalchemy import select

        from lms.accounts import services as accounts
        from lms.assessment import services as assessment
        from lms.catalog import services as catalog
        from lms.catalog.models import Course
        from lms.core.db import utcnow
        from lms.core.extensions import db
        from lms.enrolment import services as enrolment
        from lms.transcripts import issuance

        course = db.session.scalar(select(Course).filter_by(code=COURSE))
        institution = course.institution
        teacher = accounts.create_user(
            None,
            email="reach.teacher@example.org",
            password=PASSWORD,
            display_name="Reach Teacher",
            role="teacher",
            institution=institution,
        )
        course.teachers.append(teacher)
        db.session.flush()
        imported = assessment.import_questions(teacher, course, "gift", QUIZ_GIFT.encode())
        assert not imported.errors, imported.errors
        module = next(m for m in course.modules if any(x.key == LESSON for x in m.lessons))
        lesson = catalog.add_lesson(
            None,
            module,
            QUIZ_LESSON,
            "quiz",
            {
                "en": {"title": "Quiz: greeting a tour group"},
                "th": {"title": "แบบทดสอบ: การต้อนรับคณะทัวร์"},
                "zh_Hans": {"title": "测验：迎接旅游团"},
            },
            check=False,
        )
        quiz = assessment.create_assessment(
            teacher,
            course,
            "Greeting a tour group",
            lesson=lesson,
            time_limit_minutes=30,
            review="immediately",
            question_ids=[q.id for q in imported.imported],
        )
        scene.quiz_id = quiz.id
        for locale in (*LOCALES, "en"):
            email = f"reach.{locale.lower()}@example.org"
            user = accounts.create_user(
                None,
                email=email,
                password=PASSWORD,
                display_name=f"Reach {locale}",
                role="student",
                institution=institution,
                locale=locale,
            )
            enrolment.enrol(user, course, now=utcnow())
            scene.students[locale] = email

        accounts.create_user(  # enrols through the pages, without JavaScript
            None,
            email=NO_JS_STUDENT,
            password=PASSWORD,
            display_name="Nok",
            role="student",
            institution=institution,
            locale="en",
        )

        farm = db.session.scalar(select(Course).filter_by(code="KH-AGRI-101"))
        graduate = accounts.create_user(
            None,
            email="reach.graduate@example.org",
            password=PASSWORD,
            display_name="Sophea",
            role="student",
            institution=farm.institution,
            name_native="សុភា ចាន់",
            name_latin="CHAN Sophea",
        )
        enrolment.enrol(graduate, farm, now=utcnow())
        for lesson in (x for m in farm.modules for x in m.lessons):
            enrolment.complete_lesson(graduate, lesson, now=utcnow())
        transcript = issuance.issue(None, graduate, farm.institution)
        scene.verification_code = transcript.verification_code

    return seed


@pytest.fixture(scope="session")
def scene(tmp_path_factory) -> Iterator[Scene]:
    state = Scene()
    with live_server(
        tmp_path_factory.mktemp("reach"),
        extra_env={"LMS_PUBLIC_HOST": PUBLIC_HOST},
        seed=_seed(state),
    ) as base:
        state.base = base
        yield state


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium for one module of reach checks (Debian's, DESIGN §11); closed with
    the module, since other modules start Playwright themselves."""
    need(Path(CHROMIUM).exists(), "Chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form.form [type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def pages(scene: Scene) -> dict[str, str]:
    """The main pages a student sees, by name (the attempt page is opened by starting it)."""
    return {
        "catalogue": "/courses",
        "course": f"/courses/{COURSE}",
        "lesson": f"/courses/{COURSE}/lessons/{LESSON}",
        "quiz": f"/assessments/{scene.quiz_id}",
        "dashboard": "/me/courses",
        "verification": f"/verify/{scene.verification_code}",
    }


def start_attempt(page, scene: Scene) -> None:
    """Open the quiz and start (or continue) the attempt: the page shows its questions."""
    page.goto(scene.base + f"/assessments/{scene.quiz_id}")
    button = page.locator("main form button[type=submit], main a.button").first
    button.click()
    page.wait_for_url("**/attempts/*")
