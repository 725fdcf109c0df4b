"""Fixtures of the quiz-submission and transcript-issuance benchmarks, made through the
application's own services (so every row is what the app would have written itself).

* A course with a 20-question quiz (GIFT: multiple choice, multiple answer, true/false,
  short answer, numerical, matching), students enrolled with an attempt started and a bearer
  token each, and the right answers to submit.
* A registrar, and students with eight credit records each (Chinese and English course
  titles, a name in Thai script) whose transcripts the registrar issues.

    python bench/scenarios.py DATABASE_URL   # on a migrated database, prints a summary"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = 20
RECORDS_PER_TRANSCRIPT = 8

#: one of each kind of question; the quiz repeats them with different names up to 20
_GIFT_KINDS = (
    (
        "::Q{n}:: Which part ignites the mixture in engine {n}? "
        "{{=spark plug ~glow plug ~injector ~piston}}",
        "choice:spark plug",
    ),
    (
        "::Q{n}:: Which are parts of tyre {n}? "
        "{{~%50%tread ~%50%bead ~%-100%piston ~%-100%crankshaft}}",
        "multi:tread,bead",
    ),
    ("::Q{n}:: Engine oil {n} needs changing. {{TRUE}}", "bool:true"),
    ("::Q{n}:: Say hello in Vietnamese ({n}). {{=xin chào =%50%chào}}", "text:xin chào"),
    ("::Q{n}:: What is pi to two decimal places ({n})? {{#3.14:0.005}}", "number:3.14"),
)


def gift_quiz(count: int = QUESTIONS) -> tuple[bytes, list[tuple[str, str]]]:
    """A GIFT file of ``count`` questions and, per question name, how to answer it right."""
    lines, keys = [], []
    for n in range(count):
        template, key = _GIFT_KINDS[n % len(_GIFT_KINDS)]
        lines.append(template.format(n=n + 1))
        keys.append((f"Q{n + 1}", key))
    return "\n\n".join(lines).encode(), keys


def _answer(question: Any, key: str) -> Any:
    """The right answer to ``question`` in the API's form (choice ids, text, number)."""
    kind, _, value = key.partition(":")
    choices = question.data.get("choices") or []
    if kind == "choice":
        return next(c["id"] for c in choices if c["text"] == value)
    if kind == "multi":
        wanted = value.split(",")
        return [c["id"] for c in choices if c["text"] in wanted]
    if kind == "bool":
        return value == "true"
    if kind == "number":
        return value
    return value


@dataclass
class Fixtures:
    quiz_id: int = 0
    #: (attempt id, student token) per prepared attempt
    attempts: list[tuple[int, str]] = field(default_factory=list)
    #: question id (as a string) → right answer
    answers: dict[str, Any] = field(default_factory=dict)
    registrar_token: str = ""
    transcript_students: list[str] = field(default_factory=list)
    #: the bare-PDF baseline's input (bench/barepdf.py): one transcript's text, ready-made
    bare_document: dict[str, Any] = field(default_factory=dict)
    bare_fonts: list[list[Any]] = field(default_factory=list)


def prepare(url: str, instance: Path, *, quiz_students: int, transcript_students: int):
    """Make both fixtures in the (migrated) database at ``url``."""
    from lms import create_app
    from lms.accounts import services as accounts
    from lms.assessment import attempts
    from lms.assessment import services as assessment
    from lms.catalog import services as catalog
    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.credits import ledger
    from lms.credits.models import CreditRecord
    from lms.enrolment import services as enrolment
    from lms.transcripts import issuance, pdf

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(instance),
            "PASSWORD_MEMORY_KIB": 1024,
            "PASSWORD_TIME_COST": 1,
            "TOKEN_TTL_SECONDS": 6 * 3600,
            "CELERY_BROKER_URL": "",
        }
    )
    out = Fixtures()
    with app.app_context():
        inst = accounts.create_institution(
            None,
            slug="bench-scenarios",
            names={"zh_Hans": "广西基准职业技术学院", "en": "Guangxi Bench Vocational College"},
            country="CN",
            kind="vocational_college",
        )
        teacher = accounts.create_user(
            None,
            email="teacher@scenarios.bench.example.org",
            password="bench-password-1",
            display_name="Bench Teacher",
            role="teacher",
            institution=inst,
        )
        registrar = accounts.create_user(
            None,
            email="registrar@scenarios.bench.example.org",
            password="bench-password-1",
            display_name="Bench Registrar",
            role="registrar",
            institution=inst,
        )
        data = catalog.CourseData(
            code="BENCH-QUIZ-1",
            track="vocational",
            industry="automotive",
            instruction_languages=["en"],
            source_locale="en",
            teachers=[teacher.email],
        )
        course = catalog.create_course(None, inst, data, {"en": {"title": "Engines (bench)"}})
        module = catalog.add_module(None, course, "m1", {"en": {"title": "Engines"}}, check=False)
        catalog.add_lesson(
            None, module, "l1", "text", {"en": {"title": "Sparks", "body": "…"}}, check=False
        )
        catalog.approve(None, course, check=False)
        gift, keys = gift_quiz()
        imported = assessment.import_questions(teacher, course, "gift", gift)
        if imported.errors or len(imported.imported) != QUESTIONS:
            raise RuntimeError(f"quiz import: {imported.errors}")
        by_name = {q.name: q for q in imported.imported}
        questions = [by_name[name] for name, _key in keys]
        quiz = assessment.create_assessment(
            teacher, course, "Engines quiz", question_ids=[q.id for q in questions]
        )
        out.quiz_id = quiz.id
        pairs = zip(questions, keys, strict=True)
        out.answers = {str(q.id): _answer(q, key) for q, (_n, key) in pairs}
        out.registrar_token = accounts.issue_token(registrar)[0]
        db.session.commit()

        now = utcnow()
        for n in range(quiz_students):
            student = accounts.create_user(
                None,
                email=f"quiz{n}@scenarios.bench.example.org",
                password="bench-password-1",
                display_name=f"Quiz student {n}",
                role="student",
                institution=inst,
            )
            enrolment.enrol(student, course, now=now)
            attempt = attempts.start_attempt(student, quiz, now=now)
            out.attempts.append((attempt.id, accounts.issue_token(student)[0]))
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()

        titles = [
            ("汽车发动机维修", "Car engine repair"),
            ("电子商务实务", "E-commerce practice"),
            ("跨境物流", "Cross-border logistics"),
            ("中文 + 焊接技术", "Chinese + welding"),
            ("护理基础", "Basic nursing"),
            ("旅游服务", "Tourism services"),
            ("工业机器人", "Industrial robotics"),
            ("中医药概论", "Introduction to TCM"),
        ]
        for n in range(transcript_students):
            student = accounts.create_user(
                None,
                email=f"transcript{n}@scenarios.bench.example.org",
                password="bench-password-1",
                display_name=f"Somchai {n}",
                role="student",
                institution=inst,
                name_native=f"สมชาย ใจดี {n}",
                name_latin=f"Somchai Jaidee {n}",
                locale="th",
                country="TH",
            )
            for i in range(RECORDS_PER_TRANSCRIPT):
                zh, en = titles[i % len(titles)]
                ledger.add(
                    None,
                    CreditRecord(
                        kind="earned",
                        student_id=student.id,
                        institution_id=inst.id,
                        course_code=f"GX-BENCH-{i + 1:03d}",
                        title=f"{zh} {en}",
                        credits=Decimal("2.5"),
                        hours=Decimal(40),
                        credit_system="",
                        grade="A",
                        percent=Decimal(92),
                        grade_scale="",
                        grade_source="percent",
                        passed=True,
                        completed_on=date(2026, 7, 1) - timedelta(days=30 * i),
                    ),
                )
            out.transcript_students.append(student.email)
            if n % 100 == 99:
                db.session.commit()
        db.session.commit()
        if out.transcript_students:
            first = accounts.find_user_by_email(out.transcript_students[0])
            with app.test_request_context():
                out.bare_document = bare_document(issuance.snapshot(first, inst))
            out.bare_fonts = [
                [spec.family, str(pdf.find_font(spec.file)), spec.collection_index]
                for spec in pdf.FONTS
            ]
        db.engine.dispose()
    return out


def bare_document(snap: dict[str, Any]) -> dict[str, Any]:
    """What ``lms.transcripts.pdf.render`` prints for ``snap``, as plain text for the bare
    renderer (the labels in the same languages, a verification code of the same form)."""
    from flask_babel import gettext as _

    from lms.core.db import utcnow
    from lms.transcripts import issuance, pdf

    student, institution = snap["student"], snap["institution"]
    locales = pdf._label_locales(student.get("locale") or "")

    def label(make):
        return pdf._multilingual(locales, make)

    names = institution.get("names") or {}
    code = issuance.format_code(issuance.new_code())
    rows = []
    for item in snap["results"]:
        grade = item["grade"]
        rows.append(
            [
                item["code"],
                item["title"],
                f"{pdf._credits(item['credits'])} {item['credit_system']}",
                f"{grade} ({item['grade_scale']})" if item["grade_scale"] else grade,
                institution["name"],
            ]
        )
    return {
        "title": f"{issuance.TITLE} — {student['name_latin']}",
        "author": institution["name"],
        "title_lines": list(
            dict.fromkeys(
                n for n in (names.get("zh_Hans"), names.get("en"), institution["name"]) if n
            )
        ),
        "heading": label(lambda: _("Transcript of records")),
        "facts": [
            [label(lambda: _("Name in the student's own script")), student["name_native"]],
            [label(lambda: _("Name in Latin letters")), student["name_latin"]],
            [label(lambda: _("Credit system")), snap.get("credit_system") or "—"],
            [label(lambda: _("Issued")), f"{utcnow():%Y-%m-%d} (v1)"],
        ],
        "headings": [
            label(lambda: _("Code")),
            label(lambda: _("Course")),
            label(lambda: _("Credits earned")),
            label(lambda: _("Grade")),
            label(lambda: _("Earned at")),
        ],
        "rows": rows,
        "total": f"{label(lambda: _('Total credits'))}: {pdf._credits(snap['total_credits'])}",
        "verify_text": label(
            lambda: _("Verify this transcript at the address below or with its code.")
        ),
        "url": f"https://127.0.0.1/verify/{code}",
        "code_line": f"{label(lambda: _('Verification code'))}: {code}",
    }


def main() -> int:
    import tempfile

    fixtures = prepare(
        sys.argv[1],
        Path(tempfile.mkdtemp(prefix="lms-bench-instance-")),
        quiz_students=5,
        transcript_students=2,
    )
    print(json.dumps(fixtures.__dict__, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
