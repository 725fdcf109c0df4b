"""The PDF transcript: shaped native names extract intact, and the QR code decodes to the
verification URL (the QR image is taken out of the PDF and decoded with zxing-cpp)."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from lms.transcripts import issuance, pdf
from tests.conftest import need
from tests.credits.conftest import (  # noqa: F401  (fixtures)
    complete_course,
    make_course,
    percent_source,
    seeded,
    world,
)

NAMES = {
    "th": ("สมชาย ใจดี", "Somchai Jaidee"),
    "km": ("សុខ ស្រីពៅ", "Sok Sreypov"),
    "my": ("အောင်ကျော်မြင့်", "Aung Kyaw Myint"),
}


@pytest.fixture
def course(world):  # noqa: F811
    return make_course(
        world["gx"], "GX-TOUR-1", credits="2", hours=32, titles={"zh_Hans": "中文+旅游服务"}
    )


@pytest.mark.parametrize("locale", sorted(NAMES))
def test_native_names_and_the_qr_code(make, world, course, percent_source, public_host, locale):  # noqa: F811
    native, latin = NAMES[locale]
    student = make.user("student", world["gx"], name_native=native, name_latin=latin, locale=locale)
    complete_course(make, course, student, percent_source, percent=Decimal("93"))
    transcript = issuance.issue(world["registrar"], student, world["gx"])
    data = pdf.render(transcript)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert native in text and latin in text
    assert "中文+旅游服务" in text and "GX-TOUR-1" in text
    assert issuance.format_code(transcript.verification_code) in text
    zxingcpp = _zxing()
    images = [image.image for page in reader.pages for image in page.images]
    decoded = [r.text for img in images for r in zxingcpp.read_barcodes(img)]
    assert decoded == [pdf.verification_url(transcript)]
    assert decoded[0].endswith("/verify/" + issuance.format_code(transcript.verification_code))


def _zxing():
    try:
        import zxingcpp
    except ImportError:
        zxingcpp = None
    need(zxingcpp is not None, "zxing-cpp (pip install zxing-cpp) to decode QR codes")
    return zxingcpp


def test_a_missing_font_is_a_clear_error(app, make, world, course, public_host, tmp_path):  # noqa: F811
    student = make.user("student", world["gx"], name_native="Nguyễn Văn An")
    complete_course(make, course, student)
    transcript = issuance.issue(None, student, world["gx"])
    before = app.config["FONT_DIRS"]
    app.config["FONT_DIRS"] = str(tmp_path)
    try:
        with pytest.raises(pdf.FontMissing, match=r"NotoSans-Regular\.ttf"):
            pdf.render(transcript)
    finally:
        app.config["FONT_DIRS"] = before
