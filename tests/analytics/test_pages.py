"""The pages: every chart is valid SVG with a title and description and shows the numbers
of the table beside it; tables download as CSV and XLSX without formula injection; who may
see what."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from defusedxml import ElementTree
from flask_babel import force_locale
from openpyxl import load_workbook

from lms.analytics import services
from lms.analytics.services import Filters
from lms.analytics.tables import show
from lms.core.extensions import db
from tests.analytics.conftest import NOW
from tests.conftest import bearer, login

SVG = "{http://www.w3.org/2000/svg}"


def _svgs(page: str) -> dict[str, ElementTree.Element]:
    found = {}
    for match in re.finditer(r"<svg .*?</svg>", page, re.S):
        root = ElementTree.fromstring(match.group(0))  # well-formed XML, or this raises
        title = root.find(f"{SVG}title")
        found[title.get("id").removeprefix("chart-").removesuffix("-title")] = root
    return found


def _html_table(page: str, key: str) -> list[list[str]]:
    block = re.search(rf'<table class="table" data-table="{key}">(.*?)</table>', page, re.S)
    assert block, key
    body = block.group(1).split("<tbody>")[1]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([html.unescape(c).strip() for c in cells])
    return rows


def _check_page(page: str, tables, locale: str) -> int:
    with force_locale(locale):
        return _check_tables(page, tables, locale)


def _check_tables(page: str, tables, locale: str) -> int:
    svgs = _svgs(page)
    charted = 0
    for table in tables:
        if not table.rows:
            continue
        expected = [[show(row[c.key], c, locale) for c in table.columns] for row in table.rows]
        assert _html_table(page, table.key) == expected, table.key
        if table.chart is None:
            assert table.key not in svgs
            continue
        svg = svgs[table.key]
        charted += 1
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"chart-{table.key}-title chart-{table.key}-desc"
        assert svg.find(f"{SVG}title").text == table.title
        assert svg.find(f"{SVG}desc").text.startswith(table.description)
        texts = [t.text for t in svg.iter(f"{SVG}text")]
        assert table.chart.x_label in texts and table.chart.y_label in texts
        for key in table.chart.series:
            marks = [
                m
                for m in svg.iter()
                if m.get("data-series") == key and m.get("data-value") is not None
            ] or [
                m
                for g in svg.iter(f"{SVG}g")
                if g.get("data-series") == key
                for m in g.iter(f"{SVG}circle")
            ]
            shown = [m.get("data-value") for m in marks]
            assert shown == ["" if v is None else str(v) for v in table.values(key)], key
            column = table.column(key)
            for mark, value in zip(marks, table.values(key), strict=True):
                assert mark.find(f"{SVG}title").text.endswith(show(value, column, locale))
    return charted


@pytest.mark.parametrize("locale", ["en", "id", "zh_Hans"])
def test_course_page_charts_match_their_tables(client, seed, locale):
    login(client, seed.teacher)
    cohort = seed.cohorts[0].id
    page = client.get(f"/analytics/courses/GX-AUTO?cohort={cohort}&lang={locale}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    with force_locale(locale):
        board = services.course_dashboard(seed.course, Filters(cohort_id=cohort), locale)
    assert _check_page(text, board.tables, locale) == 7
    main = text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<script" not in main  # the charts need no script (the layout's are site-wide)


def test_statistics_page_charts_match_their_tables(client, seed, make):
    login(client, make.user("admin"))  # a platform administrator
    page = client.get("/analytics/platform?lang=id")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    with force_locale("id"):
        result = services.statistics(None, Filters(), "id", now=NOW)
    assert _check_page(text, result.tables, "id") == 5
    assert (
        'data-figure="enrolments">'
        + show(result.figures["enrolments"], result.tables[0].column("enrolments"), "id")
        in text
    )


def test_numbers_follow_the_reader_locale(seed):
    column = services.video_engagement(seed.course, Filters(), "en").column("avg_seconds")
    assert show(1234.5, column, "en") == "1,234.5"
    assert show(1234.5, column, "id") == "1.234,5"
    assert (
        show("2027-03", services.enrolments_over_time(seed.course, Filters()).columns[0], "zh_Hans")
        == "2027年3月"
    )


def test_csv_and_xlsx_exports_match_the_table_and_neutralise_formulas(client, seed):
    brakes = seed.modules[1].translations[0]
    brakes.title = '=HYPERLINK("http://evil.example","x")'
    db.session.flush()
    login(client, seed.teacher)
    table = services.completion_funnel(seed.course, Filters(), "en")

    resp = client.get("/analytics/courses/GX-AUTO/funnel.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [c.label for c in table.columns]
    assert rows[2][0] == "'" + brakes.title
    assert [r[1:3] for r in rows[1:]] == [
        [str(r["started"]), str(r["completed"])] for r in table.rows
    ]

    resp = client.get("/analytics/courses/GX-AUTO/funnel.xlsx")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].endswith('GX-AUTO-funnel.xlsx"')
    sheet = load_workbook(io.BytesIO(resp.data)).active
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == [c.label for c in table.columns]
    assert cells[2][0] == "'" + brakes.title
    assert sheet.cell(row=3, column=1).data_type == "s"  # text, never a formula
    assert [list(r[1:3]) for r in cells[1:]] == [[r["started"], r["completed"]] for r in table.rows]

    assert client.get("/analytics/courses/GX-AUTO/nothing.csv").status_code == 404
    assert client.get("/analytics/courses/GX-AUTO/funnel.pdf").status_code == 404


def test_every_table_downloads(client, seed, make):
    login(client, make.user("admin"))
    for table in services.course_dashboard(seed.course, Filters(), "en").tables:
        for fmt in ("csv", "xlsx"):
            assert client.get(f"/analytics/courses/GX-AUTO/{table.key}.{fmt}").status_code == 200
    for table in services.statistics(seed.gx, Filters(), "en", now=NOW).tables:
        for fmt in ("csv", "xlsx"):
            resp = client.get(f"/analytics/institutions/gx/{table.key}.{fmt}?country=VN")
            assert resp.status_code == 200, (table.key, fmt)
            assert client.get(f"/analytics/platform/{table.key}.{fmt}").status_code == 200


# ---------------------------------------------------------------------------- permissions


def _status(client, user, url) -> int:
    client.post("/logout")
    if user is not None:
        login(client, user)
    return client.get(url).status_code


def test_who_sees_which_page(client, seed, make):
    platform_admin = make.user("admin")
    registrar = make.user("registrar", seed.gx)
    course, other = "/analytics/courses/GX-AUTO", "/analytics/courses/GX-OTHER"
    gx, vn, platform = (
        "/analytics/institutions/gx",
        "/analytics/institutions/vn",
        "/analytics/platform",
    )
    export = "/analytics/courses/GX-AUTO/enrolments.csv"
    matrix = {
        seed.teacher: {course: 200, export: 200, other: 403, gx: 403, platform: 403},
        seed.other_teacher: {course: 403, export: 403, other: 200},
        seed.admin: {course: 200, other: 200, gx: 200, vn: 403, platform: 403},
        registrar: {gx: 200, vn: 403, course: 403, platform: 403},
        seed.vn_admin: {
            vn: 200,
            gx: 403,
            course: 403,
            "/analytics/institutions/vn/credits.csv": 200,
        },
        seed.student: {course: 403, export: 403, gx: 403, platform: 403, "/analytics/": 403},
        platform_admin: {course: 200, gx: 200, vn: 200, platform: 200, "/analytics/": 200},
    }
    for user, urls in matrix.items():
        for url, status in urls.items():
            assert _status(client, user, url) == status, (user.email, url)
    client.post("/logout")
    assert client.get(course).status_code == 302  # to the sign-in page


def test_navigation_and_course_panel(client, seed):
    login(client, seed.teacher)
    home = client.get("/analytics/").get_data(as_text=True)
    assert "/analytics/courses/GX-AUTO" in home and "/analytics/courses/GX-OTHER" not in home
    course_page = client.get("/courses/GX-AUTO").get_data(as_text=True)
    assert 'href="/analytics/courses/GX-AUTO"' in course_page
    assert 'href="/analytics/"' in course_page  # the main navigation
    client.post("/logout")
    login(client, seed.student)
    student_page = client.get("/courses/GX-AUTO").get_data(as_text=True)
    assert "/analytics/" not in student_page


def test_api(client, seed, make):
    headers = bearer(client, seed.teacher)
    resp = client.get(
        f"/api/v1/analytics/courses/GX-AUTO?country=VN&assessment={seed.assessment.id}",
        headers=headers,
    )
    assert resp.status_code == 200, resp.json
    body = resp.json
    board = services.course_dashboard(seed.course, Filters(country="VN"), "en")
    assert body["learners"] == board.learners and body["filters"] == {
        "cohort": None,
        "country": "VN",
    }
    assert [t["key"] for t in body["tables"]] == [t.key for t in board.tables]
    for got, table in zip(body["tables"], board.tables, strict=True):
        assert got["rows"] == table.rows
    assert client.get("/api/v1/analytics/courses/GX-OTHER", headers=headers).status_code == 403
    assert client.get("/api/v1/analytics/platform", headers=headers).status_code == 403
    assert (
        client.get("/api/v1/analytics/courses/GX-AUTO?country=vietnam", headers=headers).status_code
        == 422
    )
    assert client.get("/api/v1/analytics/courses/GX-AUTO").status_code == 401

    admin = bearer(client, seed.admin)
    resp = client.get("/api/v1/analytics/institutions/gx", headers=admin)
    assert resp.status_code == 200
    assert resp.json["figures"] == services.statistics(seed.gx, Filters(), "en", now=NOW).figures
    assert client.get("/api/v1/analytics/institutions/vn", headers=admin).status_code == 403
    student = bearer(client, seed.student)
    assert client.get("/api/v1/analytics/courses/GX-AUTO", headers=student).status_code == 403
    root = bearer(client, make.user("admin"))
    assert client.get("/api/v1/analytics/platform", headers=root).status_code == 200
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/analytics/courses/{code}" in spec["paths"]
