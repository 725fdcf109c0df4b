"""Question bank: GIFT and Moodle XML import / export, positions of problems, round trips,
hostile XML refused, short-answer matching options."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lms.assessment import gift, grading, moodlexml, services
from lms.assessment.spec import QuestionSpec
from lms.core.errors import PermissionDenied, ValidationError
from tests.assessment.conftest import SAMPLE_GIFT


def _import(teacher, course, fmt, content):
    return services.import_questions(teacher, course, fmt, content)


def test_gift_every_type_imports_with_types_and_answers(teacher, course):
    result = _import(teacher, course, "gift", SAMPLE_GIFT.read_bytes())
    assert result.errors == []
    by_name = {q.name: q for q in result.imported}
    assert len(result.imported) == 12
    assert by_name["Spark"].qtype == "single"
    spark = by_name["Spark"].data["choices"]
    assert [(c["text"], c["fraction"]) for c in spark] == [
        ("spark plug", 1.0),
        ("glow plug", 0.0),
        ("injector", 0.0),
    ]
    assert spark[1]["feedback"] == "Diesel engines use these."
    assert by_name["Tyres"].qtype == "multiple"
    assert [c["fraction"] for c in by_name["Tyres"].data["choices"]] == [0.5, 0.5, -1.0]
    assert by_name["Oil"].qtype == "truefalse" and by_name["Oil"].data["answer"] is True
    assert by_name["Brake"].data["answer"] is False
    greeting = by_name["Greeting"]
    assert greeting.qtype == "short"
    assert [(a["text"], a["fraction"]) for a in greeting.data["answers"]] == [
        ("xin chào", 1.0),
        ("chào", 0.5),
    ]
    assert by_name["Pi"].qtype == "numerical"
    assert by_name["Pi"].data["answers"][0] | {} == {
        "value": 3.14,
        "tolerance": 0.005,
        "fraction": 1.0,
        "feedback": "",
    }
    assert by_name["Range"].data["answers"][0]["value"] == 3.0
    assert by_name["Range"].data["answers"][0]["tolerance"] == 2.0
    assert [a["fraction"] for a in by_name["Torque"].data["answers"]] == [1.0, 0.5]
    capitals = by_name["Capitals"]
    assert capitals.qtype == "matching"
    assert capitals.data["pairs"][0] == {"left": "Vietnam", "right": "Hà Nội"}
    missing = by_name[""]
    assert missing.qtype == "single"
    assert missing.text("stem", "en")[0] == "Guangxi's capital is _____ city."
    assert by_name["Essay"].qtype == "essay" and by_name["Essay"].manual
    assert by_name["Essay"].text("feedback", "en")[0] == "A good answer names all four strokes."
    assert [c["text"] for c in by_name["Escapes"].data["choices"]] == ["~", "=", "#"]
    assert by_name["Spark"].tags == ["Engines", "safety"]


def test_gift_problems_have_positions_and_name_unsupported(teacher, course):
    source = (
        "::ok::Fine {=yes ~no}\n\n"
        "Just a description with no answers.\n\n"
        "::broken::Never closed {=a ~b\n\n"
        "::nocredit::Nothing right {~a ~b}\n"
    )
    result = _import(teacher, course, "gift", source.encode())
    assert [q.name for q in result.imported] == ["ok"]
    problems = {e.position: e.message for e in result.errors}
    assert set(problems) == {"line 3", "line 5", "line 7"}
    assert "description" in problems["line 3"]
    assert "'}'" in problems["line 5"]
    assert "credit" in problems["line 7"]


def test_gift_moodlexml_round_trip_reimports_same_bank(teacher, course, course_factory):
    first = _import(teacher, course, "gift", SAMPLE_GIFT.read_bytes())
    services.create_question(
        teacher,
        course,
        QuestionSpec(
            "cloze",
            "Nanning is in [[1]]; pi is [[2]]",
            {
                "blanks": [
                    {
                        "weight": 1,
                        "kind": "choice",
                        "answers": [
                            {"text": "Guangxi", "fraction": 1.0, "feedback": ""},
                            {"text": "Yunnan", "fraction": 0.0, "feedback": "No."},
                        ],
                    },
                    {
                        "weight": 2,
                        "kind": "numerical",
                        "answers": [
                            {"value": 3.14, "tolerance": 0.01, "fraction": 1.0, "feedback": ""}
                        ],
                    },
                ]
            },
            name="Cloze",
            points=Decimal("3"),
        ),
    )
    services.create_question(
        teacher,
        course,
        QuestionSpec(
            "ordering",
            "Order the strokes",
            {"items": ["intake", "compression", "power", "exhaust"]},
            name="Strokes",
        ),
    )
    services.create_question(
        teacher,
        course,
        QuestionSpec(
            "upload",
            "Upload your wiring diagram",
            {"max_files": 2},
            name="Diagram",
            points=Decimal("10"),
        ),
    )
    xml, problems = services.export_questions(course, "moodlexml")
    assert problems == []
    assert b"<!DOCTYPE" not in xml
    copy = course_factory("GX-COPY", teachers=[teacher.email])
    again = _import(teacher, copy, "moodlexml", xml)
    assert again.errors == []
    original = [services.to_spec(q).comparable() for q in services.questions(course)]
    reimported = [services.to_spec(q).comparable() for q in services.questions(copy)]
    assert reimported == original
    assert len(original) == len(first.imported) + 3
    # and GIFT → GIFT keeps every GIFT-expressible question, naming the others
    text, gift_problems = services.export_questions(course, "gift")
    assert {p.message for p in gift_problems} == {
        f"GIFT cannot express questions of type {t}." for t in ("cloze", "ordering", "upload")
    }
    reparsed = gift.parse(text.decode())
    assert [q.comparable() for q in reparsed.questions] == original[: len(first.imported)]


def test_hostile_xml_with_entities_is_refused(teacher, course):
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE quiz [\n<!ENTITY a "aaaaaaaaaa">\n'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
        b'<quiz><question type="shortanswer"><name><text>&b;</text></name>'
        b"<questiontext><text>x</text></questiontext>"
        b'<answer fraction="100"><text>x</text></answer></question></quiz>'
    )
    result = _import(teacher, course, "moodlexml", bomb)
    assert result.imported == []
    assert len(result.errors) == 1 and "entities" in result.errors[0].message
    external = (
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<quiz>&x;</quiz>"
    )
    assert _import(teacher, course, "moodlexml", external).imported == []
    assert services.questions(course) == []


def test_moodlexml_unsupported_types_named_with_position(teacher, course):
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Pool A</text></category></question>
  <question type="truefalse"><name><text>TF</text></name>
    <questiontext format="html"><text>Water boils at 100 C at sea level.</text></questiontext>
    <answer fraction="100"><text>true</text></answer>
    <answer fraction="0"><text>false</text></answer></question>
  <question type="calculated"><name><text>Calc</text></name>
    <questiontext><text>{a} + {b}</text></questiontext></question>
  <question type="numerical"><name><text>Units</text></name>
    <questiontext><text>Length?</text></questiontext>
    <answer fraction="100"><text>2</text><tolerance>0</tolerance></answer>
    <units><unit><multiplier>1</multiplier><unit_name>m</unit_name></unit></units></question>
</quiz>"""
    result = _import(teacher, course, "moodlexml", xml)
    assert [(q.name, q.qtype, q.tags) for q in result.imported] == [("TF", "truefalse", ["Pool A"])]
    assert [(e.position, e.message) for e in result.errors] == [
        ("question 3 (Calc)", "Unsupported question type: calculated."),
        ("question 4 (Units)", "Units on numerical questions are not supported."),
    ]
    broken = _import(teacher, course, "moodlexml", b"<quiz><question></quiz>")
    assert broken.errors[0].message == "The XML is not well formed."
    assert broken.errors[0].position.startswith("line ")


def test_students_cannot_author(student, course):
    with pytest.raises(PermissionDenied):
        services.import_questions(student, course, "gift", b"Q {T}")


def test_invalid_key_refused(teacher, course):
    with pytest.raises(ValidationError):
        services.create_question(
            teacher,
            course,
            QuestionSpec(
                "single",
                "Q",
                {"choices": [{"id": "a", "text": "x", "fraction": 0.5}, {"id": "b", "text": "y"}]},
            ),
        )


@pytest.mark.parametrize(
    ("options", "given", "expected"),
    [
        ({}, "XIN CHÀO", 1.0),
        ({}, "ｘｉｎ　ｃｈàｏ", 1.0),  # full-width letters and space
        ({}, "xin chao", 0.0),
        ({"diacritics": False}, "xin chao", 1.0),
        ({"diacritics": False}, "Xin Chạo", 1.0),
        ({"case_sensitive": True}, "Xin chào", 0.0),
        ({"fold_width": False}, "ｘｉｎ ｃｈàｏ", 0.0),
        ({}, "chào", 0.5),
    ],
)
def test_short_answer_options(options, given, expected):
    data = {
        "answers": [{"text": "xin chào", "fraction": 1.0}, {"text": "chào", "fraction": 0.5}],
        **options,
    }
    assert grading.auto_fraction("short", data, given) == expected


def test_numerical_tolerance_and_width():
    data = {"answers": [{"value": 3.14, "tolerance": 0.005, "fraction": 1.0}]}
    assert grading.auto_fraction("numerical", data, "3.144") == 1.0
    assert grading.auto_fraction("numerical", data, "３.１４") == 1.0
    assert grading.auto_fraction("numerical", data, "3.146") == 0.0
    assert grading.auto_fraction("numerical", data, "pi") == 0.0


def test_moodlexml_module_parses_cloze_codes():
    xml = (
        b'<quiz><question type="cloze"><name><text>C</text></name><questiontext><text>'
        b"A {1:SHORTANSWER_C:=Nanning#yes~%50%nanning} and {2:MC:~x~=y}"
        b"</text></questiontext></question></quiz>"
    )
    parsed = moodlexml.parse(xml)
    (spec,) = parsed.questions
    assert spec.stem == "A [[1]] and [[2]]"
    b1, b2 = spec.data["blanks"]
    assert b1["case_sensitive"] and b1["answers"][1]["fraction"] == 0.5
    assert b2["kind"] == "choice" and b2["weight"] == 2
    assert grading.auto_fraction("cloze", spec.data, ["Nanning", "y"]) == 1.0
    assert grading.auto_fraction("cloze", spec.data, ["Nanning", "x"]) == pytest.approx(1 / 3)


def test_bank_search_finds_substrings_in_every_script(teacher, course):
    from lms.assessment import services as bank

    gift = (
        "::th::ภาษาไทยสำหรับการท่องเที่ยว {T}\n\n"
        "::km::ការដាំស្រូវនៅកម្ពុជា {T}\n\n"
        "::zh::发动机机油的检查 {T}\n\n"
        "::vi::Kiểm tra mạch điện tử {T}\n"
    )
    bank.import_questions(teacher, course, "gift", gift.encode())

    def names(q):
        return {question.name for question in bank.questions(course, q=q)}

    assert names("ท่องเที่ยว") == {"th"}
    assert names("ដាំស្រូវ") == {"km"}
    assert names("机油") == {"zh"}
    assert names("dien tu") == {"vi"}
    assert names("") == {"th", "km", "zh", "vi"}
