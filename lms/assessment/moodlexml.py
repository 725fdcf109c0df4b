"""Moodle XML question files: reading (with defusedxml, so entity expansion, external
entities and DTDs are refused) into ``QuestionSpec`` and writing back."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # builds the documents we write; parsing is defused
from decimal import Decimal, InvalidOperation
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from flask_babel import gettext as _

from lms.assessment.spec import Parsed, Problem, QuestionSpec, fraction, percent

UNSUPPORTED = {
    "description": "description",
    "calculated": "calculated",
    "calculatedsimple": "calculatedsimple",
    "calculatedmulti": "calculatedmulti",
    "ddwtos": "ddwtos",
    "gapselect": "gapselect",
    "ddimageortext": "ddimageortext",
    "ddmarker": "ddmarker",
    "randomsamatch": "randomsamatch",
    "random": "random",
}
_CLOZE = re.compile(r"\{(\d*):([A-Z_]+):((?:\\.|[^}\\])*)\}")
_SHORT_KINDS = {"SHORTANSWER", "SA", "MW"}
_SHORT_CASE_KINDS = {"SHORTANSWER_C", "SAC", "MWC"}
_NUM_KINDS = {"NUMERICAL", "NM"}
_CHOICE_KINDS = {
    "MULTICHOICE",
    "MC",
    "MULTICHOICE_V",
    "MCV",
    "MULTICHOICE_H",
    "MCH",
    "MULTICHOICE_S",
    "MCS",
    "MULTICHOICE_VS",
    "MCVS",
    "MULTICHOICE_HS",
    "MCHS",
}


class XmlError(Exception):
    pass


def _text(el: ET.Element | None, path: str = "text") -> str:
    if el is None:
        return ""
    node = el.find(path) if path else el
    return (node.text or "").strip() if node is not None else ""


def _frac(answer: ET.Element) -> float:
    try:
        return fraction(answer.get("fraction", "0"))
    except ValueError:
        raise XmlError(
            _("The answer fraction '%(value)s' is not a number.", value=answer.get("fraction"))
        ) from None


def _flag(el: ET.Element, tag: str, default: bool) -> bool:
    node = el.find(tag)
    if node is None or node.text is None:
        return default
    return node.text.strip().lower() in ("1", "true")


def parse(source: bytes | str) -> Parsed:
    """Read a Moodle XML ``<quiz>``. A ``<question type="category">`` makes the last part of
    its path a tag of the questions after it; ``<tags>`` are kept as tags."""
    result = Parsed()
    try:
        root = fromstring(source, forbid_dtd=True)
    except DefusedXmlException:
        result.errors.append(
            Problem(
                _("document"),
                _("The file declares entities or a document type, which are refused for safety."),
            )
        )
        return result
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else "?"
        result.errors.append(Problem(_("line %(n)s", n=line), _("The XML is not well formed.")))
        return result
    if root.tag != "quiz":
        result.errors.append(Problem(_("document"), _("The root element must be <quiz>.")))
        return result
    category = ""
    for n, el in enumerate(root.findall("question"), 1):
        qtype = el.get("type", "")
        name = _text(el.find("name"))
        position = _("question %(n)s", n=n) + (f" ({name})" if name else "")
        if qtype == "category":
            path = _text(el.find("category"))
            category = path.rstrip("/").split("/")[-1] if path else ""
            if category == "top":
                category = ""
            continue
        try:
            spec = _question(qtype, el)
        except XmlError as exc:
            result.errors.append(Problem(position, str(exc)))
            continue
        spec.name = name
        spec.position = position
        tags = {_text(t) for t in el.findall("tags/tag")} - {""}
        spec.tags = sorted(tags | ({category} if category else set()))
        result.questions.append(spec)
    return result


def _question(qtype: str, el: ET.Element) -> QuestionSpec:
    if qtype in UNSUPPORTED:
        raise XmlError(_("Unsupported question type: %(kind)s.", kind=UNSUPPORTED[qtype]))
    reader = _READERS.get(qtype)
    if reader is None:
        raise XmlError(_("Unsupported question type: %(kind)s.", kind=qtype or "?"))
    stem = _text(el.find("questiontext"))
    spec = reader(el, stem)
    spec.feedback = _text(el.find("generalfeedback"))
    grade = _text(el, "defaultgrade") or "1"
    try:
        spec.points = Decimal(grade).normalize()
    except InvalidOperation:
        raise XmlError(_("'%(value)s' is not a number.", value=grade)) from None
    if spec.points < 0:
        raise XmlError(_("Points cannot be negative."))
    return spec


def _multichoice(el: ET.Element, stem: str) -> QuestionSpec:
    choices = [
        {
            "id": f"c{i}",
            "text": _text(a),
            "fraction": _frac(a),
            "feedback": _text(a.find("feedback")),
        }
        for i, a in enumerate(el.findall("answer"), 1)
    ]
    if len(choices) < 2:
        raise XmlError(_("A choice question needs at least two answers."))
    if not any(c["fraction"] > 0 for c in choices):
        raise XmlError(_("No answer earns any credit."))
    single = _flag(el, "single", True)
    return QuestionSpec("single" if single else "multiple", stem, {"choices": choices})


def _truefalse(el: ET.Element, stem: str) -> QuestionSpec:
    data: dict[str, Any] = {}
    for a in el.findall("answer"):
        is_true = _text(a).lower() == "true"
        if _frac(a) >= 1:
            data["answer"] = is_true
            if _text(a.find("feedback")):
                data["feedback_right"] = _text(a.find("feedback"))
        elif _text(a.find("feedback")):
            data["feedback_wrong"] = _text(a.find("feedback"))
    if "answer" not in data:
        raise XmlError(_("No answer earns any credit."))
    return QuestionSpec("truefalse", stem, dict(sorted(data.items())))


def _shortanswer(el: ET.Element, stem: str) -> QuestionSpec:
    answers = [
        {"text": _text(a), "fraction": _frac(a), "feedback": _text(a.find("feedback"))}
        for a in el.findall("answer")
    ]
    if not answers:
        raise XmlError(_("A short-answer question needs at least one answer."))
    data: dict[str, Any] = {"answers": answers, "case_sensitive": _flag(el, "usecase", False)}
    if el.find("lmsfoldwidth") is not None:
        data["fold_width"] = _flag(el, "lmsfoldwidth", True)
    if el.find("lmsdiacritics") is not None:
        data["diacritics"] = _flag(el, "lmsdiacritics", True)
    return QuestionSpec("short", stem, data)


def _numerical(el: ET.Element, stem: str) -> QuestionSpec:
    if el.findall("units/unit"):
        raise XmlError(_("Units on numerical questions are not supported."))
    answers = []
    for a in el.findall("answer"):
        try:
            answers.append(
                {
                    "value": float(_text(a)),
                    "tolerance": abs(float(_text(a, "tolerance") or 0)),
                    "fraction": _frac(a),
                    "feedback": _text(a.find("feedback")),
                }
            )
        except ValueError:
            raise XmlError(_("'%(value)s' is not a number.", value=_text(a))) from None
    if not answers:
        raise XmlError(_("A numerical question needs at least one answer."))
    return QuestionSpec("numerical", stem, {"answers": answers})


def _matching(el: ET.Element, stem: str) -> QuestionSpec:
    pairs = [
        {"left": _text(s), "right": _text(s.find("answer"))} for s in el.findall("subquestion")
    ]
    if len([p for p in pairs if p["left"]]) < 2:
        raise XmlError(_("A matching question needs at least two pairs."))
    return QuestionSpec("matching", stem, {"pairs": pairs})


def _essay(el: ET.Element, stem: str) -> QuestionSpec:
    attachments = int(_text(el, "attachments") or 0)
    required = int(_text(el, "attachmentsrequired") or 0)
    if _text(el, "responseformat") == "noinline" or required > 0:
        return QuestionSpec("upload", stem, {"max_files": max(attachments, required, 1)})
    return QuestionSpec("essay", stem, {})


def _ordering(el: ET.Element, stem: str) -> QuestionSpec:
    answers = list(el.findall("answer"))
    answers.sort(key=lambda a: float(a.get("fraction", "0") or 0))
    items = [_text(a) for a in answers]
    if len(items) < 2:
        raise XmlError(_("An ordering question needs at least two items."))
    return QuestionSpec("ordering", stem, {"items": items})


def _split_cloze_answers(body: str) -> list[tuple[str, str]]:
    parts, cur, marker, i = [], [], None, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            cur.append(body[i + 1])
            i += 2
            continue
        if ch in "=~":
            if marker is not None or "".join(cur).strip():
                parts.append((marker or "~", "".join(cur)))
            marker, cur = ch, []
        else:
            cur.append(ch)
        i += 1
    parts.append((marker or "~", "".join(cur)))
    return parts


def _cloze_blank(weight: str, kind: str, body: str) -> dict[str, Any]:
    answers = []
    for marker, raw in _split_cloze_answers(body):
        m = re.match(r"^%(-?\d+(?:\.\d+)?)%", raw)
        frac = fraction(m.group(1)) if m else (1.0 if marker == "=" else 0.0)
        raw = raw[m.end() :] if m else raw
        text, _hash, fb = raw.partition("#")
        answers.append({"text": text.strip(), "fraction": frac, "feedback": fb.strip()})
    blank: dict[str, Any] = {"weight": int(weight or 1)}
    if kind in _NUM_KINDS:
        nums = []
        for a in answers:
            value, _c, tol = a["text"].partition(":")
            try:
                nums.append(
                    {
                        "value": float(value),
                        "tolerance": abs(float(tol or 0)),
                        "fraction": a["fraction"],
                        "feedback": a["feedback"],
                    }
                )
            except ValueError:
                raise XmlError(_("'%(value)s' is not a number.", value=a["text"])) from None
        return {**blank, "kind": "numerical", "answers": nums}
    if kind in _CHOICE_KINDS:
        return {**blank, "kind": "choice", "answers": answers}
    if kind in _SHORT_KINDS | _SHORT_CASE_KINDS:
        return {
            **blank,
            "kind": "short",
            "answers": answers,
            "case_sensitive": kind in _SHORT_CASE_KINDS,
        }
    raise XmlError(_("Unsupported cloze sub-question: %(kind)s.", kind=kind))


def _multianswer(el: ET.Element, stem: str) -> QuestionSpec:
    blanks: list[dict[str, Any]] = []

    def replace(m: re.Match) -> str:
        blanks.append(_cloze_blank(m.group(1), m.group(2), m.group(3)))
        return f"[[{len(blanks)}]]"

    text = _CLOZE.sub(replace, stem)
    if not blanks:
        raise XmlError(_("A cloze question needs at least one blank."))
    return QuestionSpec("cloze", text, {"blanks": blanks})


_READERS = {
    "multichoice": _multichoice,
    "truefalse": _truefalse,
    "shortanswer": _shortanswer,
    "numerical": _numerical,
    "matching": _matching,
    "essay": _essay,
    "ordering": _ordering,
    "multianswer": _multianswer,
    "cloze": _multianswer,
}


# ------------------------------------------------------------------------------- writing


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        ET.SubElement(el, "text").text = text
    return el


def _val(parent: ET.Element, tag: str, value: Any) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _num(value: float) -> str:
    return repr(float(value))


def _answer(parent: ET.Element, frac: float, text: str, feedback: str = "") -> ET.Element:
    a = _sub(parent, "answer", text, fraction=percent(frac), format="plain_text")
    _sub(a, "feedback", feedback, format="plain_text")
    return a


def _cloze_code(blank: dict[str, Any]) -> str:
    kind = blank["kind"]
    code = {"numerical": "NUMERICAL", "choice": "MULTICHOICE"}.get(kind) or (
        "SHORTANSWER_C" if blank.get("case_sensitive") else "SHORTANSWER"
    )

    def esc(text: str) -> str:
        return re.sub(r"([~=#}{\\])", r"\\\1", text)

    items = []
    for a in blank["answers"]:
        text = (
            f"{_num(a['value'])}:{_num(a['tolerance'])}" if kind == "numerical" else esc(a["text"])
        )
        fb = f"#{esc(a['feedback'])}" if a.get("feedback") else ""
        items.append(f"~%{percent(a['fraction'])}%{text}{fb}")
    return "{" + f"{blank.get('weight', 1)}:{code}:" + "".join(items) + "}"


def write(specs: list[QuestionSpec], category: str = "") -> tuple[bytes, list[Problem]]:
    """A Moodle XML ``<quiz>`` of the questions; every type of the bank has a form in it."""
    quiz = ET.Element("quiz")
    if category:
        cat = ET.SubElement(quiz, "question", type="category")
        _sub(cat, "category", f"$course$/top/{category}")
    for spec in specs:
        qtype, d = spec.qtype, spec.data
        xml_type = {
            "single": "multichoice",
            "multiple": "multichoice",
            "short": "shortanswer",
            "upload": "essay",
            "cloze": "multianswer",
        }.get(qtype, qtype)
        q = ET.SubElement(quiz, "question", type=xml_type)
        _sub(q, "name", spec.name)
        stem = spec.stem
        if qtype == "cloze":
            for i, blank in enumerate(d["blanks"], 1):
                stem = stem.replace(f"[[{i}]]", _cloze_code(blank))
        _sub(q, "questiontext", stem, format="markdown")
        _sub(q, "generalfeedback", spec.feedback, format="markdown")
        _val(q, "defaultgrade", spec.points)
        if qtype in ("single", "multiple"):
            _val(q, "single", "true" if qtype == "single" else "false")
            _val(q, "shuffleanswers", "true")
            for c in d["choices"]:
                _answer(q, c["fraction"], c["text"], c.get("feedback", ""))
        elif qtype == "truefalse":
            right, wrong = d.get("feedback_right", ""), d.get("feedback_wrong", "")
            for value in (True, False):
                ok = value == bool(d["answer"])
                _answer(q, 1.0 if ok else 0.0, "true" if value else "false", right if ok else wrong)
        elif qtype == "short":
            _val(q, "usecase", 1 if d.get("case_sensitive") else 0)
            if "fold_width" in d:
                _val(q, "lmsfoldwidth", 1 if d["fold_width"] else 0)
            if "diacritics" in d:
                _val(q, "lmsdiacritics", 1 if d["diacritics"] else 0)
            for a in d["answers"]:
                _answer(q, a["fraction"], a["text"], a.get("feedback", ""))
        elif qtype == "numerical":
            for a in d["answers"]:
                el = _answer(q, a["fraction"], _num(a["value"]), a.get("feedback", ""))
                _val(el, "tolerance", _num(a["tolerance"]))
        elif qtype == "matching":
            for p in d["pairs"]:
                s = _sub(q, "subquestion", p["left"], format="plain_text")
                _sub(s, "answer", p["right"])
        elif qtype == "ordering":
            for i, item in enumerate(d["items"], 1):
                _sub(q, "answer", item, fraction=str(i), format="plain_text")
        elif qtype == "essay":
            _val(q, "responseformat", "editor")
            _val(q, "attachments", 0)
        elif qtype == "upload":
            _val(q, "responseformat", "noinline")
            _val(q, "attachments", d.get("max_files", 1))
            _val(q, "attachmentsrequired", 1)
        if spec.tags:
            tags = ET.SubElement(q, "tags")
            for t in spec.tags:
                _sub(tags, "tag", t)
    ET.indent(quiz)
    body = ET.tostring(quiz, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode(), []
