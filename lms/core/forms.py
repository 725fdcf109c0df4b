"""Showing a service's validation errors on an HTML form: the one way views do it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import flash
from wtforms.fields.choices import SelectChoice

from lms.core.errors import ValidationError


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """A select field's choices from (value, label) pairs. wtforms takes ``SelectChoice``
    objects (plain tuples are deprecated and go in 3.4); a label may be a lazy string, read
    when the field is rendered in the reader's language."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def _field(form: Any, path: str) -> Any:
    """The form field a service's error path names (``email``, ``bands.2.points``,
    ``name_en``), or None."""
    target: Any = form
    for part in path.split("."):
        if part.isdigit() and hasattr(target, "entries"):  # a FieldList row
            index = int(part)
            if index >= len(target.entries):
                return None
            target = target.entries[index]
            target = getattr(target, "form", target)
        else:
            target = getattr(target, part, None)
        if target is None:
            return None
    return target if isinstance(getattr(target, "errors", None), list) else None


def show_errors(form: Any, exc: ValidationError) -> None:
    """Put each field error beside its field; what has no field becomes a message."""
    for err in exc.errors:
        field = _field(form, err["field"])
        if field is not None:
            field.errors = [*field.errors, err["message"]]
        else:
            flash(err["message"], "error")
    if not exc.errors:
        flash(exc.message, "error")
