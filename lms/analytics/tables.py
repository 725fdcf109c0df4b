"""The shape every dashboard figure takes: a ``Table`` of typed columns and rows (what the
API returns and the exports write), the chart drawn from it, and how a cell is shown in the
reader's language (Babel, never ``str()`` on a number)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent

#: column kinds: how a value is shown; numbers stay numbers in exports and the API
KINDS = ("text", "int", "decimal", "percent", "month", "country", "code")


@dataclass
class Column:
    key: str
    label: str
    kind: str = "int"
    #: for ``code`` columns: value → translated label
    labels: dict[str, Any] | None = None


@dataclass
class Chart:
    """How to draw a table: ``kind`` "bar" (horizontal bars, one group per row) or "line"
    (one point per row), the values of ``series`` (column keys) against column ``label``."""

    kind: str
    label: str
    series: list[str]
    x_label: str
    y_label: str


@dataclass
class Table:
    key: str
    title: str
    description: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    chart: Chart | None = None

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def values(self, key: str) -> list[Any]:
        return [row[key] for row in self.rows]


def show(value: Any, column: Column, locale: str) -> str:
    """A cell as the reader sees it."""
    if value is None:
        return "—"
    kind = column.kind
    if kind == "int":
        return format_decimal(value, format="#,##0", locale=locale)
    if kind == "decimal":
        return format_decimal(value, format="#,##0.##", locale=locale)
    if kind == "percent":
        return format_percent(value, format="#,##0.#%", locale=locale)
    if kind == "month":
        year, month = (int(p) for p in str(value).split("-")[:2])
        return format_skeleton("yMMM", date(year, month, 1), locale=locale)
    if kind == "country":
        return Locale.parse(locale).territories.get(value, value) if value else "—"
    if kind == "code" and column.labels is not None:
        return str(column.labels.get(value, value))
    return str(value)


def export_value(value: Any, column: Column, locale: str) -> Any:
    """A cell of a CSV / XLSX export: numbers as numbers, codes as their labels."""
    if value is None:
        return ""
    if column.kind in ("int", "decimal", "percent"):
        return value
    if column.kind in ("country", "code"):
        return show(value, column, locale)
    return str(value)
