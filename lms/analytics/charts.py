"""Charts drawn on the server as accessible SVG: no JavaScript, no chart library to
download, a few kilobytes inline in the page.

Each chart is ``role="img"`` with a ``<title>`` and a ``<desc>`` (``aria-labelledby`` both),
its axis labels in the reader's language and every number formatted by Babel in the
reader's locale. Each bar or point carries its own ``<title>`` (label, series, value) and
its raw value in ``data-value``; the page shows the same table beside the chart."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from lms.analytics.tables import Column, Table, show
from lms.core.text import truncate

SVG_NS = "http://www.w3.org/2000/svg"
#: Okabe–Ito colours: distinguishable with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
WIDTH = 640
#: a chart draws at most this many rows (the table beside it has them all)
MAX_ROWS = 24
FONT = "12"


def _nice_max(value: float, whole: bool) -> tuple[float, float]:
    """(axis maximum, tick step) with 1-2-5 steps and about five ticks; whole-number steps
    for counts."""
    if value <= 0:
        return (1.0, 1.0) if whole else (1.0, 0.25)
    raw = value / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(step, 1)
    return step * math.ceil(value / step), step


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    node = ET.SubElement(parent, tag, {k.replace("_", "-"): str(v) for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def _number(value: Any) -> float:
    return float(value) if value is not None else 0.0


def render(table: Table, locale: str, uid: str) -> Markup:
    """The SVG of ``table.chart`` (empty markup when the table has no chart or no rows)."""
    chart = table.chart
    if chart is None or not table.rows:
        return Markup("")
    rows = table.rows[:MAX_ROWS]
    label_col = table.column(chart.label)
    series = [table.column(key) for key in chart.series]
    if chart.kind == "line":
        svg = _line(table, rows, label_col, series, locale, uid)
    else:
        svg = _bars(table, rows, label_col, series, locale, uid)
    return Markup(ET.tostring(svg, encoding="unicode", short_empty_elements=True))


def _root(table: Table, width: int, height: int, uid: str, shown: int) -> ET.Element:
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "role": "img",
            "aria-labelledby": f"{uid}-title {uid}-desc",
            "viewBox": f"0 0 {width} {height}",
            "width": "100%",
            "class": "chart",
            "font-size": FONT,
        },
    )
    _el(svg, "title", table.title, id=f"{uid}-title")
    desc = table.description
    if shown < len(table.rows):
        desc += " " + _(
            "The chart shows the first %(shown)s of %(total)s rows; the table lists all.",
            shown=shown,
            total=len(table.rows),
        )
    _el(svg, "desc", desc, id=f"{uid}-desc")
    return svg


def _legend(svg: ET.Element, series: list[Column], x: int, y: int) -> None:
    if len(series) < 2:
        return
    for i, col in enumerate(series):
        _el(svg, "rect", x=x, y=y - 9, width=10, height=10, fill=PALETTE[i % len(PALETTE)])
        _el(svg, "text", col.label, x=x + 14, y=y)
        x += 24 + _text_width(col.label)


def _text_width(text: str) -> int:
    """A rough width in pixels at the chart's font size (wide CJK and Hangul characters)."""
    return sum(12 if ord(ch) >= 0x2E80 else 7 for ch in text)


def _bars(table, rows, label_col, series, locale, uid) -> ET.Element:
    left, right, top = 190, 70, 34
    band = 8 + 16 * len(series)
    plot_w = WIDTH - left - right
    height = top + band * len(rows) + 56
    svg = _root(table, WIDTH, height, uid, len(rows))
    _legend(svg, series, left, 16)
    top_value = max((_number(r[c.key]) for r in rows for c in series), default=0)
    axis_max, step = _nice_max(top_value, series[0].kind == "int")
    scale = plot_w / axis_max
    axis_y = top + band * len(rows)
    tick_col = series[0]
    ticks = _el(svg, "g", aria_hidden="true")
    n_ticks = round(axis_max / step)
    for i in range(n_ticks + 1):
        v = step * i
        x = left + v * scale
        _el(ticks, "line", x1=f"{x:.1f}", y1=top, x2=f"{x:.1f}", y2=axis_y, stroke="#ddd")
        _el(
            ticks, "text", show(_tick(v, tick_col), tick_col, locale),
            x=f"{x:.1f}", y=axis_y + 16, text_anchor="middle",
        )  # fmt: skip
    _el(svg, "line", x1=left, y1=top, x2=left, y2=axis_y, stroke="#333")
    _el(svg, "line", x1=left, y1=axis_y, x2=WIDTH - right, y2=axis_y, stroke="#333")
    _el(svg, "text", table.chart.x_label, x=left + plot_w / 2, y=height - 8, text_anchor="middle")
    _el(
        svg, "text", table.chart.y_label, x=14, y=top + (axis_y - top) / 2,
        text_anchor="middle", transform=f"rotate(-90 14 {top + (axis_y - top) / 2:.1f})",
    )  # fmt: skip
    for i, row in enumerate(rows):
        y0 = top + band * i + 4
        label = show(row[label_col.key], label_col, locale)
        _el(svg, "text", truncate(label, 28), x=left - 6, y=y0 + band / 2, text_anchor="end")
        group = _el(svg, "g", data_label=str(row[label_col.key]))
        for j, col in enumerate(series):
            value = row[col.key]
            w = _number(value) * scale
            y = y0 + 16 * j
            bar = _el(
                group, "rect", x=left, y=y, width=f"{w:.1f}", height=14,
                fill=PALETTE[j % len(PALETTE)], data_series=col.key,
                data_value="" if value is None else value,
            )  # fmt: skip
            shown = show(value, col, locale)
            _el(bar, "title", f"{label} — {col.label}: {shown}")
            _el(group, "text", shown, x=f"{left + w + 4:.1f}", y=y + 11, aria_hidden="true")
    return svg


def _tick(value: float, column: Column) -> Any:
    return int(value) if column.kind == "int" and float(value).is_integer() else value


def _line(table, rows, label_col, series, locale, uid) -> ET.Element:
    left, right, top, bottom = 70, 40, 34, 64
    height = 300
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    svg = _root(table, WIDTH, height, uid, len(rows))
    _legend(svg, series, left, 16)
    top_value = max((_number(r[c.key]) for r in rows for c in series), default=0)
    axis_max, step = _nice_max(top_value, series[0].kind == "int")
    axis_y = top + plot_h
    tick_col = series[0]
    ticks = _el(svg, "g", aria_hidden="true")
    for i in range(round(axis_max / step) + 1):
        v = step * i
        y = axis_y - v / axis_max * plot_h
        _el(ticks, "line", x1=left, y1=f"{y:.1f}", x2=WIDTH - right, y2=f"{y:.1f}", stroke="#ddd")
        _el(
            ticks, "text", show(_tick(v, tick_col), tick_col, locale),
            x=left - 6, y=f"{y + 4:.1f}", text_anchor="end",
        )  # fmt: skip
    _el(svg, "line", x1=left, y1=top, x2=left, y2=axis_y, stroke="#333")
    _el(svg, "line", x1=left, y1=axis_y, x2=WIDTH - right, y2=axis_y, stroke="#333")
    _el(svg, "text", table.chart.x_label, x=left + plot_w / 2, y=height - 8, text_anchor="middle")
    _el(
        svg, "text", table.chart.y_label, x=14, y=top + plot_h / 2, text_anchor="middle",
        transform=f"rotate(-90 14 {top + plot_h / 2:.1f})",
    )  # fmt: skip
    n = len(rows)
    gap = plot_w / max(1, n - 1) if n > 1 else 0
    every = max(1, math.ceil(n / 8))  # at most about eight labels under the axis
    xs = [left + (gap * i if n > 1 else plot_w / 2) for i in range(n)]
    for i, row in enumerate(rows):
        if i % every == 0 or i == n - 1:
            label = show(row[label_col.key], label_col, locale)
            anchor = "end" if i == n - 1 and n > 1 else "middle"
            _el(
                svg, "text", truncate(label, 12), x=f"{xs[i]:.1f}", y=axis_y + 16,
                text_anchor=anchor, aria_hidden="true",
            )  # fmt: skip
    for j, col in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        points = [
            (xs[i], axis_y - _number(row[col.key]) / axis_max * plot_h)
            for i, row in enumerate(rows)
        ]
        _el(
            svg, "polyline", points=" ".join(f"{x:.1f},{y:.1f}" for x, y in points),
            fill="none", stroke=colour, stroke_width=2,
        )  # fmt: skip
        group = _el(svg, "g", data_series=col.key)
        for (x, y), row in zip(points, rows, strict=True):
            value = row[col.key]
            dot = _el(
                group, "circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r=4, fill=colour,
                data_label=str(row[label_col.key]), data_value="" if value is None else value,
            )  # fmt: skip
            label = show(row[label_col.key], label_col, locale)
            _el(dot, "title", f"{label} — {col.label}: {show(value, col, locale)}")
    return svg
