"""Stored injection (issue #12, item 1.1): a payload in every field a person can type or
import — course packages, GIFT and Moodle XML questions, subtitles, names in every script,
institution names, glossary terms, live session titles — comes back escaped or sanitised
wherever it is shown: pages (no script, no on* attribute, no javascript: URL), e-mails
(plain text only), PDFs (the literal text) and CSV exports (no formula)."""

from __future__ import annotations

import ast
import csv
import io
from decimal import Decimal
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from lms.assessment import attempts, gift
from lms.assessment import services as bank
from lms.catalog import packages
from lms.core import mail
from lms.core.db import utcnow
from lms.core.export import safe_cell
from lms.enrolment import services as enrolment
from lms.live import services as live
from lms.media import subtitles
from lms.transcripts import issuance, pdf
from tests.conftest import login
from tests.credits.conftest import (  # noqa: F401  (fixtures)
    complete_course,
    make_course,
    percent_source,
    seeded,
    world,
)
from tests.live import free_port
from tests.security.inputs import XSS, assert_inert, executable
from tests.transcripts.conftest import public_host  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
#: the payload behind a name in each script a user of the platform writes
NAMES = {
    "th": "สมชาย" + XSS,
    "km": "សុខ" + XSS,
    "zh": "王小明" + XSS,
    "vi": "Nguyễn" + XSS,
}
LESSON_MD = f"""## Heading {XSS}

[click](javascript:alert('md1')) <a href="JaVaScRiPt:alert('md2')">x</a>
<iframe src="javascript:alert('md3')"></iframe> <object data="x.swf"></object>
<div style="background:url(javascript:alert('md4'))" onmouseover="alert('md5')">s</div>
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<svg><animate onbegin=alert('md7') attributeName=x dur=1s></svg>
<form action="javascript:alert('md8')"><button>go</button></form>
<img src="https://example.org/a.png" alt="a>词 onerror=alert('md9') b">

发动机 and 词 are glossary terms.

<math><mtext><table><mglyph><style><img src=x onerror=alert('md6')>
"""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # the format refuses anchors and aliases
        return True


def _dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True)


def _package(root: Path, teacher_email: str) -> Path:
    pkg = root / "XSS-101"
    (pkg / "lessons").mkdir(parents=True)
    texts = {"en": XSS, "zh_Hans": "汽车" + XSS}
    course = {
        "code": "XSS-101",
        "institution": "xss-inst",
        "track": "zh_plus",
        "kind": "course",
        "industry": "automotive",
        "credits": 2,
        "learning_hours": 32,
        "instruction_languages": ["zh_Hans", "en"],
        "source_locale": "en",
        "status": "published",
        "teachers": [teacher_email],
        "title": texts,
        "summary": texts,
        "description": {"en": LESSON_MD, "zh_Hans": LESSON_MD},
        "outcomes": {"en": [XSS, "=1+1"], "zh_Hans": [XSS]},
        "modules": [
            {
                "key": "intro",
                "title": texts,
                "summary": texts,
                "lessons": [
                    {"key": "start", "kind": "text", "title": texts, "body": "lessons/start"},
                    {"key": "quiz", "kind": "quiz", "title": texts},
                ],
            }
        ],
    }
    (pkg / "course.yaml").write_text(_dump(course), encoding="utf-8")
    for locale in ("en", "zh_Hans"):
        (pkg / "lessons" / f"start.{locale}.md").write_text(LESSON_MD, encoding="utf-8")
    glossary = [
        {"term": "发动机", "pinyin": XSS, "translations": {"en": XSS}},
        {"term": '词"><script>alert(9)</script>', "pinyin": "cí", "translations": {"en": XSS}},
        {"term": "词", "pinyin": '"><img src=x onerror=alert(8)>', "translations": {"en": XSS}},
    ]
    (pkg / "glossary.yaml").write_text(_dump(glossary), encoding="utf-8")
    return pkg


def _gift() -> bytes:
    stem = "What is " + XSS + " in [markdown]?"
    return (
        f"::{gift.escape('Q ' + XSS)}::[markdown]{gift.escape(stem)} {{\n"
        f"={gift.escape('right ' + XSS)}#{gift.escape('feedback ' + XSS)}\n"
        f"~{gift.escape('wrong <a href=javascript:alert(1)>j</a>')}\n}}\n\n"
        f"::TF {gift.escape(XSS)}::{gift.escape(XSS)} {{T}}\n"
    ).encode()


MOODLE_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="multichoice">
    <name><text><![CDATA[M {XSS}]]></text></name>
    <questiontext format="html"><text><![CDATA[<p onclick="alert('m1')">Q</p>{XSS}]]></text>
    </questiontext>
    <single>true</single>
    <answer fraction="100" format="html"><text><![CDATA[<b>yes</b>{XSS}]]></text>
      <feedback><text><![CDATA[{XSS}]]></text></feedback></answer>
    <answer fraction="0"><text><![CDATA[no <svg onload=alert('m2')>]]></text></answer>
  </question>
</quiz>
""".encode()


@pytest.fixture
def stage(make, tmp_path, db_session):
    """One of everything, each carrying the payload."""
    inst = make.institution(
        slug="xss-inst", names={"en": "Inst " + XSS, "zh_Hans": "学院" + XSS}, default_locale="en"
    )
    teacher = make.user(
        "teacher",
        inst,
        email="xss.teacher@example.org",
        display_name=NAMES["km"],
        name_native=NAMES["zh"],
        name_latin="Latin " + XSS,
        locale="en",
    )
    student = make.user(
        "student",
        inst,
        email="xss.student@example.org",
        display_name='=HYPERLINK("http://evil.example","x")' + NAMES["th"][:20],
        name_native=NAMES["th"],
        name_latin=NAMES["vi"],
        locale="en",
    )
    admin = make.user("admin", inst, display_name="Admin " + XSS, locale="en")
    try:
        [course] = packages.import_packages([_package(tmp_path, teacher.email)])
    except packages.PackageError as exc:
        raise AssertionError([str(p) for p in exc.problems]) from None
    imported = bank.import_questions(teacher, course, "gift", _gift())
    imported_xml = bank.import_questions(teacher, course, "moodlexml", MOODLE_XML)
    assert not imported.errors and not imported_xml.errors, (imported.errors, imported_xml.errors)
    questions = imported.imported + imported_xml.imported
    quiz = bank.create_assessment(
        teacher, course, "Quiz " + XSS, question_ids=[q.id for q in questions], max_attempts=3
    )
    assert enrolment.enrol(student, course, now=utcnow()).status == "enrolled"
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    session = live.create_session(
        teacher,
        course,
        live.SessionData(
            titles={"en": "Live " + XSS, "zh_Hans": "直播" + XSS},
            source_locale="en",
            local_start=utcnow().replace(tzinfo=None, microsecond=0),
            timezone="Asia/Yangon",
            duration_minutes=60,
            provider="external",
            external_url="https://meeting.example.org/abc",
        ),
    ).session
    return SimpleNamespace(
        inst=inst,
        admin=admin,
        teacher=teacher,
        student=student,
        course=course,
        quiz=quiz,
        attempt=attempt,
        session=session,
    )


def _crawl(client, paths: list[str]) -> list[str]:
    problems = []
    for path in paths:
        resp = client.get(path)
        html = resp.get_data(as_text=True)
        if resp.status_code != 200:
            problems.append(f"{path}: HTTP {resp.status_code}")
            continue
        found = executable(html)
        if found:
            problems.append(f"{path}: {found}")
        if "&lt;script&gt;" not in html:  # the payload must be shown, as text
            problems.append(f"{path}: the escaped payload is not on the page")
    return problems


def test_pages_show_every_payload_as_text_and_run_none(client, stage):
    s = stage
    code, lesson = s.course.code, s.course.modules[0].lessons[0]
    login(client, s.student)
    student_pages = [
        "/",
        "/courses",
        "/courses?q=XSS",
        f"/courses/{code}",
        f"/courses/{code}/lessons/{lesson.key}",
        f"/courses/{code}/lessons/{lesson.key}?pinyin=1",
        f"/courses/{code}/glossary",
        "/me/courses",
        f"/assessments/{s.quiz.id}",
        f"/attempts/{s.attempt.id}",
        f"/courses/{code}/live",
        f"/live/{s.session.id}",
        "/profile",
    ]
    problems = _crawl(client, student_pages)
    client.get("/logout")
    login(client, s.teacher)
    teacher_pages = [
        "/teach/",
        f"/teach/courses/{code}",
        f"/teach/courses/{code}/texts",
        f"/teach/courses/{code}/glossary",
        f"/teach/courses/{code}/roster",
        f"/teach/courses/{code}/questions",
        f"/teach/courses/{code}/gradebook",
        f"/live/{s.session.id}/attendance",
        f"/teach/modules/{s.course.modules[0].id}/texts",
        f"/teach/lessons/{lesson.id}/texts",
    ]
    problems += _crawl(client, teacher_pages)
    client.get("/logout")
    login(client, s.admin)
    admin_pages = [
        "/admin/",
        f"/admin/institutions/{s.inst.slug}/members",
        f"/admin/institutions/{s.inst.slug}/edit",
        f"/users/{s.student.id}",
        f"/users/{s.teacher.id}",
    ]
    problems += _crawl(client, admin_pages)
    assert problems == []


def test_lesson_markdown_keeps_the_text_and_drops_the_attack(client, stage):
    login(client, stage.student)
    html = client.get(f"/courses/{stage.course.code}/lessons/start").get_data(as_text=True)
    assert_inert(html)
    body = html.split('<div class="prose"', 1)[1].split("</div>", 1)[0]
    for gone in ("<iframe", "<object", "<form", "style=", "<svg", "<math", "<script"):
        assert gone not in body.lower(), gone
    assert "Heading" in body and "glossary terms" in body
    assert 'alt="a&gt;词 onerror=alert(' in body  # an attribute stays one attribute


def test_subtitles_keep_only_cue_markup():
    srt = (
        "1\n00:00:00,000 --> 00:00:02,000\n"
        f"{XSS}\n<c.x onclick=alert(1)>c</c> <v Bob onmouseover=alert(2)>v</v>"
        " <i onclick='alert(3)'>i</i> <ruby>字<rt>zì</rt></ruby>\n"
    ).encode()
    vtt, fmt, count = subtitles.convert(srt)
    assert fmt == "srt" and count == 1
    lowered = vtt.lower()
    for gone in ("<script", "<img", "<a ", "<svg", "onclick", "onmouseover", "onerror"):
        assert gone not in lowered, gone
    assert "alert(" in vtt  # the words stay, as text


def test_csv_exports_neutralise_formulas(client, stage):
    s = stage
    login(client, s.teacher)
    exports = [
        f"/teach/courses/{s.course.code}/roster?format=csv",
        f"/teach/courses/{s.course.code}/gradebook?format=csv",
        f"/live/{s.session.id}/attendance?format=csv",
    ]
    for path in exports:
        resp = client.get(path)
        assert resp.status_code == 200 and resp.mimetype == "text/csv", path
        assert resp.headers["Content-Disposition"].startswith("attachment")
        rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
        cells = [cell for row in rows for cell in row]
        assert any("HYPERLINK" in c for c in cells), path  # the student is in every export
        for cell in cells:
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), (path, cell)


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " =1+1", "  @x", "\n=1", "\n\r-2"],
)
def test_safe_cell_neutralises_every_formula_start(value):
    cell = safe_cell(value)
    assert cell.startswith("'"), cell
    assert cell[1:] == value  # the text itself is kept


@pytest.mark.parametrize("value", ["Lan", "1.5", "0", "a=b", "email@example.org", "", None, 3])
def test_safe_cell_leaves_plain_values_alone(value):
    assert safe_cell(value) == ("" if value is None else str(value))


def test_every_csv_export_goes_through_safe_cell():
    """Only lms/core/export.py writes CSV; every view uses its csv_response."""
    offenders = []
    for path in (ROOT / "lms").rglob("*.py"):
        if path.name == "export.py" and path.parent.name == "core":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        listed = {
            id(item)
            for node in ast.walk(tree)
            if isinstance(node, ast.List | ast.Tuple | ast.Set)
            and len(node.elts) > 2
            and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) and "/" in e.value
                for e in node.elts
            )
            for item in node.elts
        }  # lists of media types (never a ("Content-Type", "text/csv") header pair)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in {("csv", "writer"), ("csv", "DictWriter")}
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Constant) and node.value == "text/csv":
                if id(node) in listed:
                    continue  # one of a list of media types (what to compress), not a response
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


def test_mail_is_plain_text_with_the_literal_payload(app, make, stage, db_session):
    """A waitlisted student whose name and course title carry the payload is promoted: the
    message is text/plain only (no HTML part a mail client could run), showing the text."""
    s = stage
    s.course.capacity = 1
    waiting = make.user("student", s.inst, display_name=NAMES["vi"], locale="en")
    assert enrolment.enrol(waiting, s.course, now=utcnow()).status == "waitlisted"
    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config[k] for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)
    try:
        mine = enrolment.find_enrolment(s.student, s.course)
        enrolment.withdraw(s.student, mine, now=utcnow())
        sent, failed = mail.deliver_pending()
    finally:
        controller.stop()
        app.config.update(saved)
    assert failed == 0 and sent >= 1
    promoted = [message_from_bytes(m, policy=default_policy) for m in inbox.messages]
    [message] = [m for m in promoted if m["To"] == waiting.email]
    assert not message.is_multipart()
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert NAMES["vi"] in body and XSS in body  # literal: plain text is never interpreted
    assert "\n" not in message["Subject"]


@pytest.mark.backend("sqlite")
def test_transcript_pdf_shows_the_literal_text(make, world, percent_source, public_host):  # noqa: F811
    course = make_course(
        world["gx"], "PDF-XSS-1", titles={"zh_Hans": "<b>课程</b>", "en": "=cmd|' /C calc'!A0"}
    )
    student = make.user(
        "student",
        world["gx"],
        name_native="<script>alert(1)</script>",
        name_latin='=HYPERLINK("x")',
        locale="en",
    )
    complete_course(make, course, student, percent_source, percent=Decimal("88"))
    transcript = issuance.issue(world["registrar"], student, world["gx"])
    reader = PdfReader(io.BytesIO(pdf.render(transcript)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for literal in ("<script>alert(1)</script>", '=HYPERLINK("x")', "<b>课程</b>"):
        assert literal in text, literal
    raw = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert b"/JavaScript" not in raw and b"/JS" not in raw
