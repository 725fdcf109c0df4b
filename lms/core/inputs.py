"""Hostile request input refused at the door, once for every page and endpoint (DESIGN §9:
bad input gets a clear, translated error and changes nothing).

- Query strings and URL-encoded form fields must be UTF-8: Werkzeug would silently turn
  bad bytes into U+FFFD and store them; here they are a 400 instead. Multipart text fields
  arrive already decoded, so a U+FFFD there (the trace of bytes that were not UTF-8) is
  refused too; uploaded files are checked by the domain that reads them.
- The path, query strings and form fields hold no NUL character (PostgreSQL refuses it
  in text, so it would otherwise surface as a 500 from the first query that uses it).
- JSON bodies: at most ``MAX_JSON_BYTES`` (413), UTF-8, nested at most ``MAX_JSON_DEPTH``
  deep, and without lone surrogates (``"\\ud800"``), which no database or hash can encode,
  or NUL (``"\\u0000"``).
  Python's own parser would raise ``RecursionError`` on deep input: the depth is measured
  on the raw text first, without recursion.
- Integers: in URLs (``<int:id>``) they fit the 32-bit INTEGER id columns, so a huge id is
  a 404, not an overflow inside the database driver; in JSON they stay within ±(2**53 − 1),
  the range every JSON implementation reads exactly (RFC 7493, I-JSON)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from lms.core.errors import DomainError

MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 64
#: ids are INTEGER columns (32-bit on PostgreSQL)
ID_MAX = 2**31 - 1
#: the largest integer every JSON reader holds exactly (RFC 7493 §2.2)
JSON_INT_MAX = 2**53 - 1


class InputRefused(DomainError):
    status = 400
    slug = "invalid-input"
    title = _l("The request could not be understood")


class BodyTooLarge(DomainError):
    status = 413
    slug = "payload-too-large"
    title = _l("The upload is too large")


class BoundedInt(IntegerConverter):
    """``<int:…>`` that matches only what an id column can hold (larger: 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, ID_MAX if max is None else max, signed)


def _not_utf8() -> InputRefused:
    return InputRefused(_("The request contains text that is not valid UTF-8."))


def _has_nul() -> InputRefused:
    return InputRefused(_("The request contains a NUL character, which text may not hold."))


def _strict_bytes(raw: bytes) -> None:
    if b"\x00" in raw:
        raise _has_nul()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8() from None


def _strict_pairs(raw: bytes) -> None:
    """``a=b&c=d`` bytes (query string or URL-encoded body) must decode as UTF-8, without
    NUL (which PostgreSQL refuses in text)."""
    for pair in raw.replace(b";", b"&").split(b"&"):
        for part in pair.split(b"=", 1):
            _strict_bytes(unquote_to_bytes(part.replace(b"+", b" ")))


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_LONG_NUMBER = re.compile(r"\d{16,}")
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON text, counted without parsing (and so
    without recursion); brackets inside strings do not count."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def bad_text(value: Any) -> str | None:
    """``"surrogate"`` or ``"nul"`` if a string anywhere in the parsed JSON ``value`` holds a
    lone surrogate (no encoding can store it) or NUL (PostgreSQL refuses it), else None.
    Iterative, so no nesting exhausts the stack."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return "nul"
            if not node.isascii():
                try:
                    node.encode("utf-8")
                except UnicodeEncodeError:
                    return "surrogate"
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


class _TooLarge(Exception):
    pass


def _bounded_int(digits: str) -> int:
    value = int(digits)
    if abs(value) > JSON_INT_MAX:
        raise _TooLarge
    return value


def check_json(raw: bytes) -> None:
    """Refuse a JSON body that would hurt the server (see the module's docstring); what is
    merely invalid JSON is left to the endpoint's own validation."""
    if len(raw) > MAX_JSON_BYTES:
        raise BodyTooLarge(
            _("The request body is larger than %(size)s.", size=f"{MAX_JSON_BYTES // 1024} KiB")
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRefused(_("The request body is not valid UTF-8.")) from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InputRefused(
            _("The request body is nested too deeply (at most %(n)d levels).", n=MAX_JSON_DEPTH)
        )
    long_numbers = _LONG_NUMBER.search(_STRING.sub("", text)) is not None
    if "\\u" not in text.lower() and not long_numbers:
        return  # a lone surrogate or a NUL can only arrive as an escape
    try:
        value = json.loads(text, parse_int=_bounded_int)
    except _TooLarge:
        raise InputRefused(
            _("A number in the request is too large (at most %(n)s).", n=JSON_INT_MAX)
        ) from None
    except ValueError:
        return
    problem = bad_text(value)
    if problem == "surrogate":
        raise InputRefused(_("The request contains text that is not valid Unicode."))
    if problem == "nul":
        raise _has_nul()


def _guard() -> None:
    # PATH_INFO carries the percent-decoded path bytes as Latin-1 (PEP 3333)
    _strict_bytes(request.environ.get("PATH_INFO", "").encode("latin-1", "replace"))
    _strict_pairs(request.query_string)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "lms_reads_own_body", False):
        return
    mimetype = request.mimetype
    if request.is_json:
        length = request.content_length
        if length is not None and length > MAX_JSON_BYTES:
            raise BodyTooLarge(
                _(
                    "The request body is larger than %(size)s.",
                    size=f"{MAX_JSON_BYTES // 1024} KiB",
                )
            )
        check_json(request.get_data(cache=True))
    elif mimetype == "application/x-www-form-urlencoded":
        _strict_pairs(request.get_data(cache=True))
    elif mimetype == "multipart/form-data":
        for values in request.form.listvalues():
            if any("\ufffd" in v for v in values):
                raise _not_utf8()
            if any("\x00" in v for v in values):
                raise _has_nul()


def reads_own_body(view: Callable) -> Callable:
    """Mark a view that reads and checks its raw body itself (with stricter rules and its
    own problem types): the guard then leaves the body alone (the query string is still
    checked). Put it right below the route decorator."""
    view.lms_reads_own_body = True
    return view


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_guard)
