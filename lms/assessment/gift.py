"""GIFT, Moodle's plain-text question format: reading into ``QuestionSpec`` and writing
back. Every problem is reported with the line where its question starts; constructs the
bank cannot hold are named, never silently dropped."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from lms.assessment.spec import Parsed, Problem, QuestionSpec, fraction, percent

SPECIAL = "~=#{}:"
_TRUE = {"T", "TRUE"}
_FALSE = {"F", "FALSE"}
_TAG = re.compile(r"\[tag:([^\]]+)\]")
_PERCENT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in SPECIAL or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        else:
            out.append(ch)
    return "".join(out)


def _find(text: str, chars: str, start: int = 0) -> int:
    """Index of the first unescaped character of ``chars`` from ``start``, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in chars:
            return i
        i += 1
    return -1


def _find_seq(text: str, seq: str, start: int = 0) -> int:
    """Index of the first unescaped ``seq`` from ``start``, or -1: in ``::a\\:::`` the title
    is ``a:`` (an escaped colon, then the closing ``::``)."""
    i = start
    while i <= len(text) - len(seq):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(seq, i):
            return i
        i += 1
    return -1


def _split(text: str, chars: str) -> list[tuple[str, str]]:
    """Split at unescaped marker characters: ``[(marker, body), …]``."""
    parts: list[tuple[str, str]] = []
    i = _find(text, chars)
    if i < 0:
        return parts
    while i >= 0:
        j = _find(text, chars, i + 1)
        parts.append((text[i], text[i + 1 : j if j >= 0 else len(text)]))
        i = j
    return parts


def _feedback(body: str) -> tuple[str, str]:
    k = _find(body, "#")
    if k < 0:
        return unescape(body).strip(), ""
    return unescape(body[:k]).strip(), unescape(body[k + 1 :]).strip()


def _weight(body: str, default: float) -> tuple[float, str]:
    m = _PERCENT.match(body.strip())
    if m:
        return fraction(m.group(1)), body.strip()[m.end() :]
    return default, body


def _blocks(source: str):
    """Yield ``(first line number, block text, tags)`` for each question block."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    block: list[str] = []
    start = 0
    tags: list[str] = []
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("//"):
            if not block:
                tags.extend(t.strip() for t in _TAG.findall(stripped))
            continue
        if not stripped:
            if block:
                yield start, "\n".join(block), tags
                block, tags = [], []
            continue
        if not block:
            start = n
        block.append(line)
    if block:
        yield start, "\n".join(block), tags


def parse(source: str) -> Parsed:
    """Read a GIFT document. ``$CATEGORY:`` lines become a tag (their last path part) on the
    questions after them, like ``// [tag:…]`` comments on the question they precede."""
    result = Parsed()
    category = ""
    for line, block, tags in _blocks(source):
        position = _("line %(n)s", n=line)
        if block.strip().startswith("$CATEGORY:"):
            category = block.strip()[len("$CATEGORY:") :].strip().rstrip("/").split("/")[-1]
            continue
        try:
            spec = _question(block)
        except GiftError as exc:
            result.errors.append(Problem(position, str(exc)))
            continue
        spec.position = position
        spec.tags = sorted({*tags, *([category] if category else [])})
        result.questions.append(spec)
    return result


class GiftError(Exception):
    pass


def _question(block: str) -> QuestionSpec:
    text = block.strip()
    name = ""
    if text.startswith("::"):
        end = _find_seq(text, "::", 2)
        if end < 0:
            raise GiftError(_("The question title is not closed with '::'."))
        name = unescape(text[2:end]).strip()
        text = text[end + 2 :].strip()
    if text.startswith("["):
        fmt_end = text.find("]")
        fmt = text[1:fmt_end].lower() if fmt_end > 0 else ""
        if fmt not in ("html", "moodle", "plain", "markdown"):
            raise GiftError(_("Unknown text format '%(fmt)s'.", fmt=fmt))
        text = text[fmt_end + 1 :].lstrip()
    open_ = _find(text, "{")
    if open_ < 0:
        raise GiftError(
            _("Unsupported question type: %(kind)s.", kind=_("description (no answer block)"))
        )
    close = _find(text, "}", open_ + 1)
    if close < 0:
        raise GiftError(_("The answer block is not closed with '}'."))
    if _find(text, "{", close + 1) >= 0:
        raise GiftError(_("A GIFT question can hold only one answer block."))
    before = unescape(text[:open_]).strip()
    after = unescape(text[close + 1 :]).strip()
    stem = f"{before} _____ {after}".strip() if after else before
    body = text[open_ + 1 : close].strip()
    general = ""
    gf = _find_seq(body, "####")
    if gf >= 0:
        general = unescape(body[gf + 4 :]).strip()
        body = body[:gf].strip()
    spec = _answers(body)
    spec.stem, spec.name, spec.feedback = stem, name, general
    return spec


def _answers(body: str) -> QuestionSpec:
    if not body:
        return QuestionSpec("essay", "")
    if body.startswith("#"):
        return _numerical(body[1:])
    head, _fb = _feedback(body)
    if head.upper() in _TRUE | _FALSE:
        parts = [unescape(p).strip() for p in body.split("#")[1:]]
        data = {"answer": head.upper() in _TRUE}
        if parts:
            data["feedback_wrong"] = parts[0]
        if len(parts) > 1:
            data["feedback_right"] = parts[1]
        return QuestionSpec("truefalse", "", data)
    parts = _split(body, "=~")
    if not parts or unescape(body[: _find(body, "=~")]).strip():
        raise GiftError(_("Answers must start with '=' or '~'."))
    if all(m == "=" for m, _b in parts) and any("->" in b for _m, b in parts):
        pairs = []
        for _m, b in parts:
            if "->" not in b:
                raise GiftError(_("Every matching answer needs '->'."))
            left, right = b.split("->", 1)
            pairs.append({"left": unescape(left).strip(), "right": unescape(right).strip()})
        if len([p for p in pairs if p["left"]]) < 2:
            raise GiftError(_("A matching question needs at least two pairs."))
        return QuestionSpec("matching", "", {"pairs": pairs})
    if all(m == "=" for m, _b in parts):
        answers = []
        for _m, b in parts:
            weight, b = _weight(b, 1.0)
            text, fb = _feedback(b)
            answers.append({"text": text, "fraction": weight, "feedback": fb})
        return QuestionSpec("short", "", {"answers": answers, "case_sensitive": False})
    choices = []
    weighted = False
    for i, (m, b) in enumerate(parts):
        default = 1.0 if m == "=" else 0.0
        if _PERCENT.match(b.strip()):
            weighted = True
        weight, b = _weight(b, default)
        text, fb = _feedback(b)
        choices.append({"id": f"c{i + 1}", "text": text, "fraction": weight, "feedback": fb})
    if not any(c["fraction"] > 0 for c in choices):
        raise GiftError(_("No answer earns any credit."))
    single = any(m == "=" for m, _b in parts) or (
        weighted
        and max(c["fraction"] for c in choices) >= 1.0
        and sum(1 for c in choices if c["fraction"] > 0) == 1
    )
    return QuestionSpec("single" if single else "multiple", "", {"choices": choices})


def _num(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise GiftError(_("'%(value)s' is not a number.", value=text.strip())) from None


def _num_answer(text: str, weight: float) -> dict:
    text, fb = _feedback(text)
    if ".." in text:
        lo, hi = (_num(x) for x in text.split("..", 1))
        return {
            "value": (lo + hi) / 2,
            "tolerance": abs(hi - lo) / 2,
            "fraction": weight,
            "feedback": fb,
        }
    if ":" in text:
        value, tol = text.split(":", 1)
        return {
            "value": _num(value),
            "tolerance": abs(_num(tol)),
            "fraction": weight,
            "feedback": fb,
        }
    return {"value": _num(text), "tolerance": 0.0, "fraction": weight, "feedback": fb}


def _numerical(body: str) -> QuestionSpec:
    # GIFT escapes ':' nowhere inside numbers; undo the escaping used for text parts only.
    body = body.replace("\\:", ":")
    parts = _split(body, "=~")
    if not parts:
        return QuestionSpec("numerical", "", {"answers": [_num_answer(body, 1.0)]})
    answers = []
    for m, b in parts:
        weight, b = _weight(b, 1.0 if m == "=" else 0.0)
        answers.append(_num_answer(b, weight))
    return QuestionSpec("numerical", "", {"answers": answers})


# ------------------------------------------------------------------------------- writing


def _fmt_num(value: float) -> str:
    return repr(float(value)).removesuffix(".0") if float(value) == int(value) else repr(value)


def _fb(text: str) -> str:
    return f" #{escape(text)}" if text else ""


def _w(frac: float, plain: float) -> str:
    return "" if frac == plain else f"%{percent(frac)}%"


def write_one(spec: QuestionSpec) -> str:
    """One question as GIFT; raises ``GiftError`` for types GIFT cannot express."""
    d = spec.data
    q = spec.qtype
    if q == "essay":
        body = ""
    elif q == "truefalse":
        body = "TRUE" if d.get("answer") else "FALSE"
        if d.get("feedback_wrong") or d.get("feedback_right"):
            body += f"#{escape(d.get('feedback_wrong', ''))}"
            if d.get("feedback_right"):
                body += f"#{escape(d['feedback_right'])}"
    elif q in ("single", "multiple"):
        items = []
        for c in d["choices"]:
            if q == "single" and c["fraction"] == 1:
                items.append(f"={escape(c['text'])}{_fb(c.get('feedback', ''))}")
            else:
                items.append(
                    f"~{_w(c['fraction'], 0.0)}{escape(c['text'])}{_fb(c.get('feedback', ''))}"
                )
        body = "\n    " + "\n    ".join(items) + "\n"
    elif q == "short":
        items = [
            f"={_w(a['fraction'], 1.0)}{escape(a['text'])}{_fb(a.get('feedback', ''))}"
            for a in d["answers"]
        ]
        body = " ".join(items)
    elif q == "numerical":
        items = [
            f"={_w(a['fraction'], 1.0)}{_fmt_num(a['value'])}:{_fmt_num(a['tolerance'])}"
            f"{_fb(a.get('feedback', ''))}"
            for a in d["answers"]
        ]
        body = "#" + " ".join(items)
    elif q == "matching":
        body = " ".join(f"={escape(p['left'])} -> {escape(p['right'])}" for p in d["pairs"])
    else:
        raise GiftError(_("GIFT cannot express questions of type %(type)s.", type=q))
    if spec.feedback:
        body += f"####{escape(spec.feedback)}"
    stem = escape(spec.stem)
    if "_____" in spec.stem and q in ("single", "short"):
        before, after = spec.stem.split("_____", 1)
        head = f"{escape(before.strip())} {{{body}}} {escape(after.strip())}"
    else:
        head = f"{stem} {{{body}}}"
    title = f"::{escape(spec.name)}::" if spec.name else ""
    tags = "".join(f"// [tag:{t}]\n" for t in spec.tags)
    return f"{tags}{title}{head}\n"


def write(specs: list[QuestionSpec]) -> tuple[str, list[Problem]]:
    """A GIFT document of every question GIFT can express, and a problem per other one."""
    out, problems = [], []
    for i, spec in enumerate(specs, 1):
        try:
            out.append(write_one(spec))
        except GiftError as exc:
            problems.append(Problem(_("question %(n)s", n=i), str(exc)))
    return "\n".join(out), problems
