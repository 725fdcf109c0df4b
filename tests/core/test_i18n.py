"""Every locale renders in its own language; the locale and time zone are chosen in the
documented order; every catalogue is complete and up to date with the source."""

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from lms.core import catalogs
from lms.core.i18n import LANGUAGES, fallback_chain, normalise_locale, percent, pick, when
from tests.conftest import PASSWORD, login

ROOT = Path(__file__).resolve().parents[2]
HEADLINE = "Learn a language and a trade, across borders"


def _translation(locale: str, msgid: str) -> str:
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh)[msgid].string


@pytest.mark.parametrize("locale", list(LANGUAGES))
def test_home_page_renders_in_each_locale(client, locale):
    resp = client.get(f"/?lang={locale}")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f'<html lang="{LANGUAGES[locale][1]}"' in page
    expected = _translation(locale, HEADLINE)
    assert expected and expected in page
    if locale != "en":
        assert HEADLINE not in page


@pytest.mark.parametrize("locale", list(LANGUAGES))
def test_catalogue_is_complete(locale):
    assert catalogs.problems(locale) == []


def test_catalogue_template_matches_the_source(tmp_path):
    """Every marked string in the code is in messages.pot (so in every catalogue)."""
    out = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "ngettext:1,2",
            "-k",
            "pgettext:1c,2",
            "-o",
            str(out),
            ".",
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    with out.open("rb") as fh:
        fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with (ROOT / "translations" / "messages.pot").open("rb") as fh:
        shipped = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert len(fresh) > 100, "the extraction found (almost) nothing: check babel.cfg"
    assert fresh - shipped == set(), "new strings: run `make i18n` and translate them"


def test_language_switcher_names_each_language_in_its_own_script(client):
    page = client.get("/?lang=en").get_data(as_text=True)
    for name in ("简体中文", "Tiếng Việt", "ไทย", "ខ្មែរ", "ລາວ", "မြန်မာ", "தமிழ்"):
        assert name in page


def test_switcher_sets_cookie_and_signed_in_users_setting(client, make, db_session):
    resp = client.post("/language", data={"lang": "th", "next": "/register"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/register"
    assert 'lang="th"' in client.get("/").get_data(as_text=True)
    user = make.user(locale="en")
    login(client, user)
    client.post("/language", data={"lang": "km", "next": "/"})
    db_session.refresh(user)
    assert user.locale == "km"
    assert 'lang="km"' in client.get("/").get_data(as_text=True)


def _csrf_token(page: str) -> str:
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def test_a_visitor_switches_without_a_token_a_signed_in_reader_needs_one(client, make, csrf):
    """A visitor's switch only sets a cookie (so visitors' pages need no session); a signed-in
    reader's changes their profile and is refused without the form's token."""
    resp = client.post("/language", data={"lang": "vi", "next": "/"})
    assert resp.status_code == 302 and "lang=vi" in resp.headers["Set-Cookie"]
    user = make.user(locale="en")
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    refused = client.post("/language", data={"lang": "km", "next": "/"})
    assert refused.status_code == 400
    token = _csrf_token(client.get("/").get_data(as_text=True))
    done = client.post("/language", data={"lang": "km", "next": "/", "csrf_token": token})
    assert done.status_code == 302


def test_switcher_refuses_foreign_redirects(client):
    resp = client.post("/language", data={"lang": "vi", "next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"


def test_locale_order_user_then_query_then_cookie_then_header(client, make):
    assert 'lang="vi"' in client.get("/", headers={"Accept-Language": "vi,en;q=0.5"}).text
    assert 'lang="zh-Hans"' in client.get("/", headers={"Accept-Language": "zh-CN"}).text
    assert 'lang="fil"' in client.get("/", headers={"Accept-Language": "tl-PH"}).text
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "de-DE"}).text
    client.set_cookie("lang", "lo")
    assert 'lang="lo"' in client.get("/", headers={"Accept-Language": "vi"}).text
    assert 'lang="my"' in client.get("/?lang=my").text
    login(client, make.user(locale="ta"))
    assert 'lang="ta"' in client.get("/?lang=my").text


def test_time_zone_user_then_institution_then_utc(client, make):
    inst = make.institution(timezone="Asia/Yangon")
    user = make.user("student", inst)
    login(client, user)
    assert "Asia/Yangon" in client.get("/profile").text
    client.post(
        "/profile",
        data={"display_name": "X", "timezone": "Asia/Jakarta", "locale": "", "country": ""},
    )
    assert "Asia/Jakarta" in client.get("/profile").text


def test_normalise_locale():
    assert normalise_locale("zh-Hant-TW") == "zh_Hans"
    assert normalise_locale("th_TH") == "th"
    assert normalise_locale("pt-TL") == "pt"
    assert normalise_locale("xx") is None and normalise_locale("") is None


def test_content_fallback_chain():
    assert fallback_chain("ms", "zh_Hans") == ["ms", "id", "zh_Hans", "en"]
    assert pick({"id": "Kursus", "en": "Course"}, "ms") == ("Kursus", "id")
    assert pick({"zh_Hans": "课程"}, "th", "zh_Hans") == ("课程", "zh_Hans")
    assert pick({}, "th") == ("", None)


@pytest.mark.parametrize(
    "locale, zone, shown",
    [
        ("th", "Asia/Yangon", "1 มี.ค. 2027 09:00:00 (เวลาพม่า)"),
        ("en", "Asia/Jakarta", "Mar 1, 2027, 9:30:00\u202fAM (Western Indonesia Time)"),
        ("zh_Hans", "Asia/Makassar", "2027年3月1日 10:30:00 (印度尼西亚中部时间)"),
        ("vi", "Asia/Ho_Chi_Minh", "09:30:00 1 thg 3, 2027 (Giờ Đông Dương)"),
    ],
)
def test_times_show_in_the_readers_zone_with_its_name(app, monkeypatch, locale, zone, shown):
    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", zone)  # an anonymous reader's zone
    with app.test_request_context(f"/?lang={locale}"):
        assert when(datetime(2027, 3, 1, 2, 30, tzinfo=UTC)) == shown


@pytest.mark.parametrize(
    "locale, value, places, shown",
    [
        ("en", 85.67, 1, "85.7%"),
        ("vi", "85.5", 1, "85,5%"),
        ("pt", 100, 1, "100%"),
        ("th", 0, 0, "0%"),
        ("en", None, 1, ""),
    ],
)
def test_percentages_in_the_readers_locale(app, locale, value, places, shown):
    with app.test_request_context(f"/?lang={locale}"):
        assert percent(value, places) == shown
