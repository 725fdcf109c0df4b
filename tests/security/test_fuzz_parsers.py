"""Every parser of outside input, fed arbitrary input (Hypothesis, bounded): it answers with
its domain's documented error and nothing else — no IndexError, RecursionError or
UnicodeError escapes to become a 500 — and the round trips that should hold do (NFC is
idempotent; GIFT export → import keeps the questions)."""

from __future__ import annotations

import contextlib
import copy
import string
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.assessment import gift, moodlexml
from lms.assessment.spec import Parsed, QuestionSpec
from lms.catalog import packages
from lms.core import text
from lms.core.inputs import json_depth
from lms.media import subtitles

FUZZ = settings(
    max_examples=int(__import__("os").environ.get("PARSER_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: any Unicode text, including lone surrogates and controls
ANY_TEXT = st.text(max_size=400)
GIFT_CHARS = st.sampled_from(list("{}=~#:->%[]\\$/\n \t") + list("ab1.5汽สក"))
GIFT_LIKE = st.lists(GIFT_CHARS | st.characters(), max_size=300).map("".join)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """Messages are translated, so parsing runs in a request context, as in production."""
    with app.test_request_context():
        yield


def _well_formed(result: Parsed) -> None:
    assert isinstance(result, Parsed)
    for problem in result.errors:
        assert isinstance(problem.message, str) and problem.message
    for spec in result.questions:
        assert isinstance(spec, QuestionSpec) and spec.qtype


# ---------------------------------------------------------------------------- GIFT


@FUZZ
@given(source=ANY_TEXT | GIFT_LIKE)
def test_gift_parser_reports_instead_of_raising(ctx, source):
    _well_formed(gift.parse(source))


_WORD = (
    st.text(
        alphabet=st.sampled_from(
            list(string.ascii_letters + "汽车ไทยខ្មែរ áđ.,?!'()<>&\"") + list("=~#{}:")
        ),
        min_size=1,
        max_size=25,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def _specs(draw) -> QuestionSpec:
    kind = draw(st.sampled_from(["single", "truefalse", "short", "essay"]))
    stem = draw(_WORD)
    name = draw(_WORD)
    if kind == "single":
        texts = draw(st.lists(_WORD, min_size=2, max_size=4, unique=True))
        feedbacks = draw(st.lists(st.just("") | _WORD, min_size=len(texts), max_size=len(texts)))
        data = {
            "choices": [
                {"id": f"c{i + 1}", "text": t, "fraction": 1.0 if i == 0 else 0.0, "feedback": fb}
                for i, (t, fb) in enumerate(zip(texts, feedbacks, strict=False))
            ]
        }
    elif kind == "truefalse":
        data = {"answer": draw(st.booleans())}
    elif kind == "short":
        data = {"answers": [{"text": draw(_WORD), "fraction": 1.0, "feedback": ""}]}
    else:
        data = {}
    feedback = draw(st.just("") | _WORD)
    return QuestionSpec(
        qtype=kind, stem=stem, data=data, name=name, feedback=feedback, points=Decimal("1")
    )


@FUZZ
@given(specs=st.lists(_specs(), min_size=1, max_size=4))
def test_gift_export_then_import_keeps_the_questions(ctx, specs):
    written, problems = gift.write(specs)
    assert problems == []
    back = gift.parse(written)
    assert back.errors == [], (written, back.errors)
    assert len(back.questions) == len(specs)
    for original, again in zip(specs, back.questions, strict=True):
        assert again.qtype == original.qtype
        assert again.name == original.name and again.stem == original.stem, written
        assert again.feedback == original.feedback, written
        if original.qtype == "single":
            assert [c["text"] for c in again.data["choices"]] == [
                c["text"] for c in original.data["choices"]
            ]
            assert [c["feedback"] for c in again.data["choices"]] == [
                c["feedback"] for c in original.data["choices"]
            ], written
            assert [c["fraction"] > 0 for c in again.data["choices"]] == [
                c["fraction"] > 0 for c in original.data["choices"]
            ]
        elif original.qtype == "truefalse":
            assert again.data["answer"] == original.data["answer"]
        elif original.qtype == "short":
            assert [a["text"] for a in again.data["answers"]] == [
                a["text"] for a in original.data["answers"]
            ]


@FUZZ
@given(value=_WORD)
def test_gift_escape_round_trips(value):
    assert gift.unescape(gift.escape(value)) == value


# ---------------------------------------------------------------------------- Moodle XML

_TAGS = st.sampled_from(
    [
        "quiz",
        "question",
        "name",
        "text",
        "questiontext",
        "answer",
        "feedback",
        "category",
        "tags",
        "tag",
        "single",
        "shuffleanswers",
        "subquestion",
        "tolerance",
    ]
)
_ATTRS = st.sampled_from(
    [
        "",
        ' type="multichoice"',
        ' type="shortanswer"',
        ' type="numerical"',
        ' type="matching"',
        ' type="truefalse"',
        ' type="cloze"',
        ' type="essay"',
        ' type="category"',
        ' fraction="100"',
        ' fraction="-50"',
        ' fraction="abc"',
        ' format="html"',
    ]
)


@st.composite
def _xml(draw, depth: int = 0) -> str:
    tag = "quiz" if depth == 0 else draw(_TAGS)
    attrs = draw(_ATTRS)
    children = (
        draw(st.lists(_xml(depth + 1), max_size=4)) if depth < 4 else []  # type: ignore[call-arg]
    )
    body = draw(
        st.sampled_from(
            [
                "",
                "x",
                "{1:SA:=a}",
                "{:MC:~=b~c}",
                "3.14",
                "<![CDATA[<b>c</b>]]>",
                "&amp;",
                "&lt;",
                "1:2",
                "{2:NM:=5:1}",
            ]
        )
    )
    return f"<{tag}{attrs}>{body}{''.join(children)}</{tag}>"


@FUZZ
@given(source=st.binary(max_size=400) | ANY_TEXT.map(lambda s: s.encode("utf-8", "replace")))
def test_moodlexml_parser_reports_bytes_instead_of_raising(ctx, source):
    _well_formed(moodlexml.parse(source))


@FUZZ
@given(source=_xml())
def test_moodlexml_parser_reports_structures_instead_of_raising(ctx, source):
    _well_formed(moodlexml.parse(source.encode()))


# ---------------------------------------------------------------------------- subtitles

_TIMES = st.sampled_from(
    [
        "00:00:01,000 --> 00:00:02,000",
        "00:01.000 --> 00:02.500",
        "99:59:59,999 --> 0:0:0,0",
        "00:00:02,000 --> 00:00:01,000",
        "1:2:3.4 --> 1:2:3.5 align:start",
        "-->",
        "00:00:01,000",
    ]
)


@FUZZ
@given(
    data=st.binary(max_size=300)
    | st.lists(_TIMES | ANY_TEXT | st.just("") | st.just("WEBVTT"), max_size=12).map(
        lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")
    )
)
def test_subtitle_parser_raises_only_subtitle_error(data):
    try:
        vtt, fmt, count = subtitles.convert(data)
    except subtitles.SubtitleError as exc:
        assert exc.reason in {"encoding", "empty", "format"}
        return
    assert vtt.startswith("WEBVTT") and fmt in {"srt", "vtt"} and count >= 1
    assert "<script" not in vtt.lower()
    _again, _fmt, again_count = subtitles.convert(vtt.encode())
    assert again_count == count  # clean output reads back the same


# ---------------------------------------------------------------------------- course packages

_YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(sorted(packages.COURSE_FIELDS | packages.LESSON_FIELDS))
            | st.text(max_size=8),
            inner,
            max_size=6,
        )
    ),
    max_leaves=25,
)


_VALID = {
    "code": "FUZZ-101",
    "institution": "gx",
    "track": "asean_plus",
    "asean_language": "th",
    "industry": "culture_tourism",
    "instruction_languages": ["zh_Hans", "en"],
    "source_locale": "en",
    "title": {"en": "T", "zh_Hans": "标题"},
    "outcomes": {"en": ["o"]},
    "modules": [
        {
            "key": "m",
            "title": {"en": "M"},
            "lessons": [{"key": "a", "kind": "text", "title": {"en": "A"}, "body": "lessons/a"}],
        }
    ],
}


@st.composite
def _mutated(draw) -> str:
    """A valid course.yaml with one to three fields at any level replaced by anything."""
    data = copy.deepcopy(_VALID)
    for _ in range(draw(st.integers(1, 3))):
        level = draw(st.sampled_from(["course", "module", "lesson"]))
        if level == "course":
            container, names = data, packages.COURSE_FIELDS
        elif level == "module" and isinstance(data.get("modules"), list) and data["modules"]:
            container, names = data["modules"][0], packages.MODULE_FIELDS
        elif isinstance(data.get("modules"), list) and data["modules"]:
            module = data["modules"][0]
            if not (isinstance(module, dict) and isinstance(module.get("lessons"), list)):
                continue
            if not module["lessons"]:
                continue
            container, names = module["lessons"][0], packages.LESSON_FIELDS
        else:
            continue
        if isinstance(container, dict):
            container[draw(st.sampled_from(sorted(names)))] = draw(_YAML_VALUES)
    return yaml.safe_dump(data, allow_unicode=True)


@FUZZ
@given(
    course=_mutated()
    | _YAML_VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True))
    | ANY_TEXT,
    glossary=st.none() | _YAML_VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    lesson=st.none() | st.binary(max_size=200),
)
def test_package_reader_reports_problems_instead_of_raising(
    ctx, tmp_path_factory, course, glossary, lesson
):
    root: Path = tmp_path_factory.mktemp("pkg") / "FUZZ-101"
    (root / "lessons").mkdir(parents=True)
    (root / "course.yaml").write_bytes(course.encode("utf-8", "surrogatepass"))
    if glossary is not None:
        (root / "glossary.yaml").write_text(glossary, encoding="utf-8")
    if lesson is not None:
        (root / "lessons" / "a.en.md").write_bytes(lesson)
    problems: list[packages.Problem] = []
    pkg = packages.read_package(root, problems)
    assert pkg is None or isinstance(pkg, packages.Package)
    for problem in problems:
        assert problem.file.startswith("FUZZ-101") and problem.line >= 1 and problem.message


# ---------------------------------------------------------------------------- text


@FUZZ
@given(value=ANY_TEXT)
def test_nfc_is_idempotent(value):
    assert text.nfc(text.nfc(value)) == text.nfc(value)


@FUZZ
@given(value=ANY_TEXT, multiline=st.booleans())
def test_display_is_idempotent_and_clean(value, multiline):
    once = text.display(value, multiline=multiline)
    assert text.display(once, multiline=multiline) == once
    assert not any(ch in text.BIDI_CONTROLS for ch in once)
    assert "\r" not in once and ("\n" not in once or multiline)


@FUZZ
@given(value=ANY_TEXT)
def test_identifier_raises_only_text_error(value):
    try:
        out = text.identifier(value)
    except text.TextError as exc:
        assert exc.reason in {"invisible", "control", "empty"}
        return
    assert out == text.identifier(out)


@FUZZ
@given(value=ANY_TEXT)
def test_email_and_slug_raise_only_text_error(value):
    for fn in (text.email, text.slugify_ascii):
        with contextlib.suppress(text.TextError):
            fn(value)


@FUZZ
@given(value=ANY_TEXT)
def test_fold_is_idempotent(value):
    assert text.fold(text.fold(value)) == text.fold(value)


@FUZZ
@given(value=ANY_TEXT)
def test_json_depth_never_recurses(value):
    nested = "[" * 5000 + value.replace("[", "").replace("]", "") + "]" * 5000
    assert json_depth(nested) >= 5000
    assert json_depth(value) >= 0
