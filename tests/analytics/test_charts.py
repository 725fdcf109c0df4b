"""The SVG charts on their own: well-formed, titled, readable ticks, long tables cut with a
note, numbers in the reader's locale."""

from __future__ import annotations

from defusedxml import ElementTree

from lms.analytics import charts
from lms.analytics.tables import Chart, Column, Table

SVG = "{http://www.w3.org/2000/svg}"


def _table(n: int, kind: str = "bar", top: int = 2) -> Table:
    return Table(
        "demo",
        "Demo <&> chart",
        "Counts per item.",
        [
            Column("item", "Item", "text"),
            Column("count", "Count"),
            Column("share", "Share", "percent"),
        ],
        [{"item": f"=item {i}", "count": i % (top + 1), "share": i / max(1, n)} for i in range(n)],
        Chart(kind, "item", ["count"], "Count", "Item"),
    )


def test_counts_get_whole_number_ticks(app):
    with app.test_request_context("/?lang=en"):
        root = ElementTree.fromstring(str(charts.render(_table(3), "en", "c1")))
    ticks = [t.text for g in root.iter(f"{SVG}g") if g.get("aria-hidden") for t in g]
    ticks = [t for t in ticks if t is not None]
    assert ticks == ["0", "1", "2"]
    assert root.find(f"{SVG}title").text == "Demo <&> chart"  # escaped in the markup


def test_long_tables_are_cut_and_say_so(app):
    table = _table(40, "line", top=1500)
    table.rows[0]["count"] = 1500
    with app.test_request_context("/?lang=id"):
        markup = str(charts.render(table, "id", "c2"))
    root = ElementTree.fromstring(markup)
    assert len(list(root.iter(f"{SVG}circle"))) == charts.MAX_ROWS
    assert "24" in root.find(f"{SVG}desc").text and "40" in root.find(f"{SVG}desc").text
    assert "1.500" in markup  # Indonesian grouping


def test_no_rows_no_chart(app):
    table = _table(0)
    with app.test_request_context("/"):
        assert str(charts.render(table, "en", "c3")) == ""
