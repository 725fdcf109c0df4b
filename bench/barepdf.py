"""The transcript-issuance baseline: the printable transcript's layout rendered by bare fpdf2
(the same fonts, fallback fonts, HarfBuzz shaping, table and QR code as
``lms/transcripts/pdf.py``) from a ready-made document — no database, no signing, no
snapshot, no translation look-ups, no post-processing.

``document`` is plain JSON (made by ``bench/scenarios.py`` from a real snapshot, with every
label already in its languages): ``title_lines``, ``heading``, ``facts`` ([label, value]),
``headings``, ``rows`` (five cells each), ``total``, ``verify_text``, ``url`` and
``code_line``. ``fonts`` is a list of [family, path, collection index]."""

from __future__ import annotations

import io
from typing import Any

import segno
from fpdf import FPDF
from fpdf.fonts import FontFace


def render(document: dict[str, Any], fonts: list[list[Any]]) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for family, path, index in fonts:
        pdf.add_font(family, "", path, collection_font_number=index)
    pdf.set_fallback_fonts([f[0] for f in fonts[1:]], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(16, 16, 16)
    pdf.set_title(document["title"])
    pdf.set_author(document["author"])
    pdf.add_page()
    width = pdf.epw
    pdf.set_font(fonts[0][0], size=15)
    for line in document["title_lines"]:
        pdf.multi_cell(width, 7, line, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(2)
    pdf.set_font(fonts[0][0], size=13)
    pdf.multi_cell(width, 7, document["heading"], new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(3)
    pdf.set_font(fonts[0][0], size=10)
    for name, value in document["facts"]:
        pdf.multi_cell(width, 6, f"{name}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(fonts[0][0], size=8)
    with pdf.table(
        col_widths=(16, 40, 12, 14, 30),
        text_align="LEFT",
        headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235)),
    ) as table:
        for cells in [document["headings"], *document["rows"]]:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(3)
    pdf.set_font(fonts[0][0], size=10)
    pdf.multi_cell(width, 6, document["total"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    top = pdf.get_y()
    if top > pdf.h - 60:
        pdf.add_page()
        top = pdf.get_y()
    qr = io.BytesIO()
    segno.make(document["url"], error="m").save(qr, kind="png", scale=6, border=4)
    qr.seek(0)
    pdf.image(qr, x=pdf.l_margin, y=top, w=36, h=36)
    pdf.set_xy(pdf.l_margin + 40, top)
    pdf.multi_cell(width - 40, 6, document["verify_text"], new_x="LMARGIN", new_y="NEXT")
    for line in (document["url"], document["code_line"]):
        pdf.set_x(pdf.l_margin + 40)
        pdf.multi_cell(width - 40, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
