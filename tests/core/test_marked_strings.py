"""Every user-visible string is marked for translation (rule 3): templates carry no bare
words, and Python hands users only translated messages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "lms").rglob("templates/**/*.html"))
PYTHON = sorted(p for p in (ROOT / "lms").rglob("*.py"))

_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_SKIP_BLOCKS = re.compile(r"<(script|style|code|pre)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_ATTR = re.compile(r'\b(placeholder|title|alt|aria-label|value)="([^"{]*)"', re.I)
#: words that are the same in every language (codes, the product's API, sample formats)
_ALLOWED = {"API", "CSV", "JSON", "PDF", "SRT", "WebVTT", "HLS", "MP4", "AQRF", "DID", "URL"}


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in _ALLOWED]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_unmarked_text(path):
    source = path.read_text()
    without_jinja = _JINJA.sub(" ", source)
    bare_attrs = [
        f'{name}="{value}"'
        for name, value in _ATTR.findall(without_jinja)
        if _words(value) and name.lower() != "value"
    ]
    text = _TAG.sub(" ", _SKIP_BLOCKS.sub(" ", without_jinja))
    bare = _words(text)
    assert not bare and not bare_attrs, f"unmarked text in {path.name}: {bare[:10]} {bare_attrs}"


_MESSAGE_CALLS = {
    "flash",
    "field_error",
    "ValidationError",
    "NotFound",
    "PermissionDenied",
    "Conflict",
    "NotAuthenticated",
    "DomainError",
}


def _literal(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_words(node.value))
    )


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_shows_users_only_translated_messages(path):
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in _MESSAGE_CALLS:
            continue
        # field_error(field, message): the first argument is a field name, not a message
        args = node.args[1:] if name == "field_error" else node.args[:1]
        found += [ast.unparse(a) for a in args if _literal(a)]
        found += [
            ast.unparse(k.value)
            for k in node.keywords
            if k.arg in ("message", "detail") and _literal(k.value)
        ]
    assert not found, f"untranslated messages in {path.name}: {found}"
