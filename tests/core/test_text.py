import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.core import text


@given(st.text())
def test_display_text_is_nfc_and_idempotent(value):
    once = text.display(value)
    assert unicodedata.is_normalized("NFC", once)
    assert text.display(once) == once


@given(st.text(min_size=1))
def test_identifiers_never_contain_invisible_characters(value):
    try:
        cleaned = text.identifier(value)
    except text.TextError:
        return
    assert not any(ch in text.BIDI_CONTROLS | text.ZERO_WIDTH for ch in cleaned)


@pytest.mark.parametrize("bad", ["ad\u202emin", "a\u200bb", "x\u2066y", "\ufeffabc"])
def test_identifier_refuses_bidi_and_zero_width(bad):
    with pytest.raises(text.TextError):
        text.identifier(bad)


def test_display_keeps_joiners_but_drops_overrides():
    thai = "สมชาย\u200bใจดี"
    assert text.display(thai) == thai
    assert text.display("ក\u200dខ") == "ក\u200dខ"
    assert text.display("abc\u202edef") == "abcdef"
    assert text.display("a\x00b") == "ab"


def test_decomposed_vietnamese_becomes_nfc():
    decomposed = unicodedata.normalize("NFD", "Nguyễn")
    assert text.display(decomposed) == "Nguyễn"


@given(st.text(), st.integers(min_value=1, max_value=50))
def test_truncate_never_splits_a_grapheme(value, limit):
    out = text.truncate(value, limit)
    if out != value:
        assert out.endswith("…")
        assert value.startswith(out[:-1])


def test_truncate_keeps_khmer_clusters_whole():
    word = "ស្រ្តី"  # one cluster with a subscript
    assert text.truncate(word * 3, 2) == word + "…"


def test_email_normalisation():
    assert text.email(" An@Example.ORG ") == "an@example.org"
    assert text.email("an@xn--i-kia818t.vn") == text.email("an@đại.vn") == "an@đại.vn"
    with pytest.raises(text.TextError):
        text.email("not an address")


def test_script_language_and_runs_for_lang_attributes():
    from lms.core.text import language_runs, script_language

    assert script_language("南宁职业技术学院") == "zh"
    assert script_language("សុភា ចាន់") == "km"
    assert script_language("成绩单 Transcript of records") == "zh"
    assert script_language("Somchai") is None
    assert script_language("ไทย 中文") is None  # two scripts: unknown
    assert language_runs("សញ្ញាបត្រ (高职专科)", "km") == [
        ("សញ្ញាបត្រ (", None),
        ("高职专科", "zh"),
        (")", None),
    ]
    assert language_runs("ผ่าน: 南宁 学院, ok", "th") == [
        ("ผ่าน: ", None),
        ("南宁 学院", "zh"),
        (", ok", None),
    ]
    assert language_runs("中文 only", "zh-Hans") == [("中文 only", None)]
