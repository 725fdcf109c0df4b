"""Pinyin as ruby annotations over the Chinese of sanitised lesson HTML (a learning aid for
中文+ courses, on request)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from pypinyin import Style, pinyin

_TAG_SPLIT = re.compile(r"(<[^>]*>)")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def annotate(html: Markup | str, terms: dict[str, str]) -> Markup:
    """Wrap every run of Han characters in ``<ruby>`` with tone-marked pinyin.

    Glossary terms are annotated as whole words with their (teacher-edited) pinyin; other
    characters get pinyin chosen by pypinyin in the context of their run. Only text between
    tags is touched, and text inside existing ``<ruby>``, ``<code>`` and ``<pre>`` is left
    alone, so the sanitised structure is kept."""
    parts = _TAG_SPLIT.split(str(html))
    out: list[str] = []
    skip = 0
    longest_first = sorted(terms, key=len, reverse=True)
    for part in parts:
        if part.startswith("<"):
            name = part.strip("</ >").split()[0].lower() if part.strip("</ >") else ""
            if name in ("ruby", "code", "pre"):
                skip += -1 if part.startswith("</") else 1
            out.append(part)
        elif skip > 0:
            out.append(part)
        else:
            out.append(_HAN.sub(lambda m: _ruby_run(m.group(0), terms, longest_first), part))
    return Markup("".join(out))


def _ruby_run(run: str, terms: dict[str, str], ordered: list[str]) -> str:
    pieces: list[str] = []
    i = 0
    plain_start = 0
    while i < len(run):
        term = next((t for t in ordered if t and run.startswith(t, i)), None)
        if term:
            if plain_start < i:
                pieces.append(_plain(run[plain_start:i]))
            pieces.append(_one(term, terms[term]))
            i += len(term)
            plain_start = i
        else:
            i += 1
    if plain_start < len(run):
        pieces.append(_plain(run[plain_start:]))
    return "".join(pieces)


def _plain(chars: str) -> str:
    readings = pinyin(chars, style=Style.TONE, heteronym=False)
    return "".join(_one(ch, reading[0]) for ch, reading in zip(chars, readings, strict=True))


def _one(base: str, reading: str) -> str:
    return f"<ruby>{escape(base)}<rp>(</rp><rt>{escape(reading)}</rt><rp>)</rp></ruby>"


def gloss(html: Markup | str, terms: dict[str, tuple[str, str]]) -> Markup:
    """Mark glossary terms in sanitised lesson HTML with a pop-up of their pinyin and
    meaning that works without JavaScript (shown on hover and on keyboard focus).

    ``terms`` maps a Chinese term to ``(pinyin, meaning in the reader's language)``. Text
    inside links, code and existing annotations is left alone."""
    if not terms:
        return Markup(html)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    parts = _TAG_SPLIT.split(str(html))
    out: list[str] = []
    skip = 0
    for part in parts:
        if part.startswith("<"):
            name = part.strip("</ >").split()[0].lower() if part.strip("</ >") else ""
            if name in ("ruby", "code", "pre", "a"):
                skip += -1 if part.startswith("</") else 1
            out.append(part)
        elif skip > 0:
            out.append(part)
        else:
            out.append(pattern.sub(lambda m: _popup(m.group(0), *terms[m.group(0)]), part))
    return Markup("".join(out))


def _popup(term: str, reading: str, meaning: str) -> str:
    note = f"{reading} — {meaning}" if meaning else reading
    return (
        f'<span class="term" tabindex="0">{escape(term)}'
        f'<span class="term-pop" role="tooltip">{escape(note)}</span></span>'
    )
