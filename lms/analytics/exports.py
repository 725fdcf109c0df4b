"""CSV and XLSX downloads of every analytics table, safe to open in a spreadsheet: text
cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …) are
neutralised in both formats."""

from __future__ import annotations

import io
import re

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import TYPE_STRING

from lms.analytics.tables import Table, export_value
from lms.core.export import csv_response, safe_cell

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def _header(table: Table) -> list[str]:
    return [c.label for c in table.columns]


def _rows(table: Table, locale: str) -> list[list[object]]:
    return [[export_value(row[c.key], c, locale) for c in table.columns] for row in table.rows]


def filename(stem: str, table: Table, fmt: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "analytics"
    return f"{safe}-{table.key}.{fmt}"


def csv_download(table: Table, locale: str, stem: str) -> Response:
    return csv_response(_header(table), _rows(table, locale), filename(stem, table, "csv"))


def xlsx_bytes(table: Table, locale: str) -> bytes:
    """One worksheet: the header, then the rows. Numbers stay numbers; every text cell is
    passed through ``safe_cell`` and stored as a string, never as a formula."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=table.key[:31])
    for values in [_header(table), *_rows(table, locale)]:
        sheet.append([_cell(sheet, v) for v in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = safe_cell(value)
        cell.data_type = TYPE_STRING  # a string, even if it looks like a formula
        return cell
    return value


def xlsx_download(table: Table, locale: str, stem: str) -> Response:
    return Response(
        xlsx_bytes(table, locale),
        mimetype=XLSX_MIME,
        headers={"Content-Disposition": f'attachment; filename="{filename(stem, table, "xlsx")}"'},
    )


def download(table: Table, fmt: str, locale: str, stem: str) -> Response:
    return (
        xlsx_download(table, locale, stem) if fmt == "xlsx" else csv_download(table, locale, stem)
    )
