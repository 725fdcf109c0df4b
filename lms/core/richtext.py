"""Markdown in, sanitised HTML out: the one way rich text reaches a page (DESIGN §9)."""

from __future__ import annotations

from functools import lru_cache

import markdown as _markdown
import nh3
from markupsafe import Markup

_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "blockquote",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
    "ruby",
    "rt",
    "rp",
    "span",
    "abbr",
}
_ATTRIBUTES = {
    "a": {"href", "title", "lang"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "abbr": {"title"},
    "th": {"scope"},
    "span": {"lang"},
    "*": {"lang"},
}


#: sources up to this many characters are remembered (question stems, feedback, short
#: lesson texts that every attempt and page view renders again)
_MEMO_CHARS = 4096


def render(source: str) -> Markup:
    """Render Markdown and sanitise the result with an allow-list: no scripts, styles,
    event handlers or foreign schemes survive; links get ``rel="noopener noreferrer"``;
    headings start at h2 (the page owns h1).

    The result depends on the text alone, so short texts are memoised in the process (a
    pure function of its input: nothing a second web node would need to share)."""
    source = source or ""
    if len(source) <= _MEMO_CHARS:
        return Markup(_render_memo(source))
    return Markup(_render(source))


@lru_cache(maxsize=4096)
def _render_memo(source: str) -> str:
    return _render(source)


def _render(source: str) -> str:
    html = _markdown.markdown(
        source, extensions=["tables", "sane_lists", "fenced_code"], output_format="html"
    )
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return clean.replace("<img ", '<img loading="lazy" ')
