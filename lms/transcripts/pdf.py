"""The printable transcript: a PDF rendered from an issued transcript's frozen snapshot.

Labels are bilingual — Chinese and English, plus the student's language where different —
and names appear in native script and in Latin letters. Text is shaped with HarfBuzz
(fpdf2 with ``uharfbuzz``), so Thai and Lao marks, Khmer subscripts, Burmese medials and
Tamil render correctly; fonts are Noto families found in ``LMS_FONT_DIRS``. A QR code and a
printed code lead to the public verification page. The PDF is a view of the signed
credential, which remains the authoritative record."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import segno
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import FontFace
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from lms.core.errors import DomainError
from lms.transcripts import issuance
from lms.transcripts.did import public_host
from lms.transcripts.models import Transcript


class FontMissing(DomainError):
    status = 500
    slug = "font-missing"


@dataclass(frozen=True)
class FontSpec:
    family: str
    file: str
    collection_index: int = 0


#: the main font (Latin, Vietnamese) first, then the fallbacks for the other scripts
FONTS = (
    FontSpec("NotoSans", "NotoSans-Regular.ttf"),
    FontSpec("NotoSansCJK", "NotoSansCJK-Regular.ttc", 2),  # index 2: Simplified Chinese
    FontSpec("NotoSansThai", "NotoSansThai-Regular.ttf"),
    FontSpec("NotoSansLao", "NotoSansLao-Regular.ttf"),
    FontSpec("NotoSansKhmer", "NotoSansKhmer-Regular.ttf"),
    FontSpec("NotoSansMyanmar", "NotoSansMyanmar-Regular.ttf"),
    FontSpec("NotoSansTamil", "NotoSansTamil-Regular.ttf"),
)


def font_dirs() -> list[Path]:
    raw = current_app.config.get("FONT_DIRS") or ""
    return [Path(p) for p in raw.split(os.pathsep) if p.strip()]


def find_font(name: str) -> Path:
    """The font file ``name`` in the first folder of ``LMS_FONT_DIRS`` that has it."""
    for folder in font_dirs():
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FontMissing(
        _(
            "The font %(font)s is missing; install the Noto fonts or set LMS_FONT_DIRS "
            "(searched: %(dirs)s).",
            font=name,
            dirs=", ".join(str(d) for d in font_dirs()) or "—",
        )
    )


def verification_url(transcript: Transcript) -> str:
    """Where the QR code and the printed code lead."""
    code = issuance.format_code(transcript.verification_code)
    return f"https://{public_host()}/verify/{code}"


def _label_locales(student_locale: str) -> list[str]:
    out = ["zh_Hans", "en"]
    if student_locale and student_locale not in out:
        out.append(student_locale)
    return out


def _multilingual(locales: list[str], make: Callable[[], str]) -> str:
    """One label in each locale, repeated translations dropped, joined by " / "."""
    seen: list[str] = []
    for locale in locales:
        with force_locale(locale):
            text = make()
        if text not in seen:
            seen.append(text)
    return " / ".join(seen)


class _Document(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        for spec in FONTS:
            self.add_font(
                spec.family,
                "",
                str(find_font(spec.file)),
                collection_font_number=spec.collection_index,
            )
        self.set_fallback_fonts([spec.family for spec in FONTS[1:]], exact_match=False)
        self.set_text_shaping(True)
        self.set_auto_page_break(True, margin=18)
        self.set_margins(16, 16, 16)


def _qr_png(url: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=6, border=4)
    out.seek(0)
    return out


def _credits(value: str) -> str:
    number = Decimal(value)
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}"


def render(transcript: Transcript) -> bytes:
    """The PDF of an issued transcript (from its frozen snapshot, never from live data)."""
    snap: dict[str, Any] = transcript.snapshot
    student, institution = snap["student"], snap["institution"]
    locales = _label_locales(student.get("locale") or "")

    def label(make: Callable[[], str]) -> str:
        return _multilingual(locales, make)

    pdf = _Document()
    pdf.set_title(f"{issuance.TITLE} — {student['name_latin']}")
    pdf.set_author(institution["name"])
    pdf.add_page()
    width = pdf.epw
    names = institution.get("names") or {}
    pdf.set_font("NotoSans", size=15)
    for line in dict.fromkeys(
        n for n in (names.get("zh_Hans"), names.get("en"), institution["name"]) if n
    ):
        pdf.multi_cell(width, 7, line, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(2)
    pdf.set_font("NotoSans", size=13)
    pdf.multi_cell(
        width,
        7,
        label(lambda: _("Transcript of records")),
        new_x="LMARGIN",
        new_y="NEXT",
        align="C",
    )
    pdf.ln(3)
    pdf.set_font("NotoSans", size=10)
    facts = [
        (label(lambda: _("Name in the student's own script")), student["name_native"]),
        (label(lambda: _("Name in Latin letters")), student["name_latin"]),
        (label(lambda: _("Credit system")), snap.get("credit_system") or "—"),
        (
            label(lambda: _("Issued")),
            f"{transcript.issued_at:%Y-%m-%d} (v{transcript.version})",
        ),
    ]
    for name, value in facts:
        pdf.multi_cell(width, 6, f"{name}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    headings = (
        label(lambda: _("Code")),
        label(lambda: _("Course")),
        label(lambda: _("Credits earned")),
        label(lambda: _("Grade")),
        label(lambda: _("Earned at")),
    )
    pdf.set_font("NotoSans", size=8)
    with pdf.table(
        col_widths=(16, 40, 12, 14, 30),
        text_align="LEFT",
        headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235)),
    ) as table:
        row = table.row()
        for heading in headings:
            row.cell(heading)
        for item in snap["results"]:
            source = item.get("source")
            earned_at = institution["name"]
            if source:
                earned_at = (
                    f"{source['institution']}: {source['code']}, "
                    f"{_credits(source['credits'])} {source['credit_system']}, {source['grade']}"
                )
            row = table.row()
            row.cell(item["code"])
            row.cell(item["title"])
            row.cell(f"{_credits(item['credits'])} {item['credit_system']}")
            row.cell(
                f"{item['grade']} ({item['grade_scale']})" if item["grade_scale"] else item["grade"]
            )
            row.cell(earned_at)
    pdf.ln(3)
    pdf.set_font("NotoSans", size=10)
    pdf.multi_cell(
        width,
        6,
        f"{label(lambda: _('Total credits'))}: {_credits(snap['total_credits'])}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    url = verification_url(transcript)
    pdf.ln(4)
    top = pdf.get_y()
    if top > pdf.h - 60:
        pdf.add_page()
        top = pdf.get_y()
    pdf.image(_qr_png(url), x=pdf.l_margin, y=top, w=36, h=36)
    pdf.set_xy(pdf.l_margin + 40, top)
    code = issuance.format_code(transcript.verification_code)
    text_width = width - 40
    pdf.multi_cell(
        text_width,
        6,
        label(lambda: _("Verify this transcript at the address below or with its code.")),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for line in (url, f"{label(lambda: _('Verification code'))}: {code}"):
        pdf.set_x(pdf.l_margin + 40)
        pdf.multi_cell(text_width, 6, line, new_x="LMARGIN", new_y="NEXT")
    return _searchable(bytes(pdf.output()))


_MAPPED = re.compile(rb"^<([0-9A-Fa-f]{4})> <", flags=re.M)


def _searchable(data: bytes) -> bytes:
    """Make the text layer read back exactly as written (copy, search, extraction).

    HarfBuzz turns one cluster of Khmer, Burmese or Thai into several glyphs; fpdf2 maps
    the cluster's text to its first glyph and leaves the others without a ToUnicode entry,
    which readers then turn into stray control characters. Those glyphs are mapped to the
    empty string here. fpdf2 also gives CFF-based CJK fonts an inline CMap dictionary as
    ``/Encoding``; it is the identity, so it becomes ``/Identity-H``, which every reader
    decodes as two-byte codes."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    done: set[int] = set()
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            if id(font) in done or font.get("/Subtype") != "/Type0":
                continue
            done.add(id(font))
            if not isinstance(font.get("/Encoding"), NameObject):
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
            _map_silent_glyphs(font)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _map_silent_glyphs(font: Any) -> None:
    descendant = font["/DescendantFonts"][0].get_object()
    descriptor = descendant["/FontDescriptor"].get_object()
    to_unicode = font.get("/ToUnicode")
    if to_unicode is None:
        return
    stream = to_unicode.get_object()
    cmap = stream.get_data()
    if "/FontFile2" in descriptor:  # TrueType outlines
        data = descriptor["/FontFile2"].get_object().get_data()
        glyphs = TTFont(io.BytesIO(data))["maxp"].numGlyphs
    elif "/FontFile3" in descriptor:  # CFF outlines (the CJK fonts)
        glyphs = _cff_glyph_count(descriptor["/FontFile3"].get_object().get_data())
    else:
        return
    mapped = {int(code, 16) for code in _MAPPED.findall(cmap)}
    silent = [code for code in range(1, glyphs) if code not in mapped]
    if not silent:
        return
    blocks = b""
    for start in range(0, len(silent), 100):  # at most 100 entries per block
        chunk = silent[start : start + 100]
        blocks += b"%d beginbfchar\n" % len(chunk)
        blocks += b"".join(b"<%04X> <>\n" % code for code in chunk)
        blocks += b"endbfchar\n"
    stream.set_data(cmap.replace(b"endcmap", blocks + b"endcmap", 1))


def _cff_glyph_count(data: bytes) -> int:
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(data), None)
    return len(cff[cff.fontNames[0]].charset)
