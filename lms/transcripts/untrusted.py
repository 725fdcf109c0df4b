"""Reading a credential that came from outside (an upload, an API body, a file), before
anything else touches it: a size limit, strict UTF-8, strict JSON (no duplicate members, no
NaN or infinity, no lone surrogates) and a nesting limit. Each refusal is a ``DomainError``
with a translated message, so pages and the API answer 4xx, never 500."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.core.errors import DomainError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64


class CredentialTooLarge(DomainError):
    status = 413
    slug = "credential-too-large"
    title = _l("The credential is too large")


class CredentialUnreadable(DomainError):
    status = 400
    slug = "credential-unreadable"
    title = _l("The credential cannot be read")


def too_large() -> CredentialTooLarge:
    """The error for a credential over ``MAX_BYTES``."""
    return CredentialTooLarge(
        _("The credential is larger than %(size)s.", size=f"{MAX_BYTES // 1024} KiB")
    )


class _Duplicate(ValueError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise _Duplicate(name)
        out[name] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth_and_text_ok(value: Any) -> tuple[int, bool]:
    """The nesting depth of a parsed JSON value, and whether all its strings are valid
    Unicode (no lone surrogates); iterative, so no input can exhaust the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not node.isascii():
                try:
                    node.encode("utf-8")
                except UnicodeEncodeError:
                    return deepest, False
            continue
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest, True
            items = node.items() if isinstance(node, dict) else ((None, v) for v in node)
            for key, item in items:
                if key is not None:
                    stack.append((key, depth))
                stack.append((item, depth + 1))
    return deepest, True


def parse_untrusted(raw: bytes) -> dict[str, Any]:
    """A credential from outside, as a dict; bad input raises ``CredentialTooLarge`` (413)
    or ``CredentialUnreadable`` (400) with a translated message saying what is wrong."""
    if len(raw) > MAX_BYTES:
        raise too_large()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialUnreadable(_("The credential is not valid UTF-8 text.")) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CredentialUnreadable(_("The credential is empty."))
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except RecursionError:
        raise CredentialUnreadable(_("The credential is nested too deeply.")) from None
    except _Duplicate as exc:
        raise CredentialUnreadable(
            _("The credential has the member “%(name)s” more than once.", name=exc.name[:80])
        ) from None
    except ValueError:
        raise CredentialUnreadable(_("The credential is not valid JSON.")) from None
    depth, text_ok = _depth_and_text_ok(value)
    if depth > MAX_DEPTH:
        raise CredentialUnreadable(_("The credential is nested too deeply."))
    if not text_ok:
        raise CredentialUnreadable(_("The credential contains text that is not valid Unicode."))
    if not isinstance(value, dict):
        raise CredentialUnreadable(_("A credential is a JSON object, not a list or a value."))
    return value
