"""The credits API over HTTP: lists, one scale, conversion, credit systems, writes with
located problem+json errors, and the OpenAPI document that describes them."""

import pytest
from sqlalchemy import func, select

from lms.credits.models import GradeScale
from tests.conftest import bearer
from tests.credits.conftest import FIVE_LEVEL, band_rows


def test_list_grade_scales(client, seeded):
    resp = client.get("/api/v1/grade-scales?per_page=100")
    assert resp.status_code == 200
    body = resp.json
    assert body["total"] == 12 and body["page"] == 1
    refs = {s["ref"] for s in body["items"]}
    assert {"CN-100", "PH-5", "TL-100"} <= refs
    only_ph = client.get("/api/v1/grade-scales?country=PH").json
    assert [s["code"] for s in only_ph["items"]] == ["PH-5"]


def test_one_scale_in_the_readers_language(client, seeded):
    resp = client.get("/api/v1/grade-scales/CN-100?lang=zh_Hans")
    assert resp.status_code == 200
    body = resp.json
    assert body["name"] == "中国：百分制（五级制）" and body["name_locale"] == "zh_Hans"
    assert body["direction"] == "higher_better" and body["pass_mark"] == "60.00"
    assert body["institution"] is None
    first = body["bands"][0]
    assert first == {
        "label": "A",
        "name": "优秀",
        "name_locale": "zh_Hans",
        "names": {"zh_Hans": "优秀", "en": "Excellent"},
        "min_percent": "90.00",
        "max_percent": "100.00",
        "points": "4.00",
        "passing": True,
    }
    ph = client.get("/api/v1/grade-scales/PH-5").json
    assert ph["direction"] == "lower_better"
    assert [b["label"] for b in ph["bands"]][-2:] == ["3.00", "5.00"]


def test_unknown_scale_is_a_404_problem(client, seeded):
    resp = client.get("/api/v1/grade-scales/NOPE-1")
    assert resp.status_code == 404 and resp.content_type == "application/problem+json"
    assert resp.json["type"].endswith("/not-found")


def test_convert_85_percent_from_china_to_the_philippines(client, seeded):
    resp = client.post(
        "/api/v1/grade-scales/convert", json={"from": "CN-100", "to": "PH-5", "percent": 85}
    )
    assert resp.status_code == 200
    body = resp.json
    assert body["from"]["grade"] == "B" and body["from"]["points"] == "3.00"
    assert body["to"] == {
        "scale": "PH-5",
        "grade": "2.00",
        "points": "2.00",
        "passing": True,
        "min_percent": "85.00",
        "max_percent": "88.00",
    }
    assert body["percent"] == "85.00" and body["passing"] and not body["adjusted"]


def test_convert_a_grade_keeps_pass_and_fail(client, seeded):
    resp = client.post(
        "/api/v1/grade-scales/convert", json={"from": "CN-100", "to": "PH-5", "grade": "D"}
    )
    body = resp.json
    assert resp.status_code == 200
    assert body["percent"] == "65.00"  # the middle of D's 60-70
    assert body["to"]["grade"] == "3.00" and body["passing"] and body["adjusted"]
    resp = client.post(
        "/api/v1/grade-scales/convert", json={"from": "PH-5", "to": "CN-100", "grade": "5.00"}
    )
    assert resp.json["to"]["grade"] == "F" and resp.json["passing"] is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({"from": "CN-100", "to": "PH-5", "percent": 101}, "percent"),
        ({"from": "CN-100", "to": "PH-5", "grade": "Z"}, "grade"),
        ({"from": "CN-100", "to": "PH-5"}, "percent"),
        ({"from": "CN-100", "percent": 50}, "to"),
        ({"from": "CN-100", "to": "PH-5", "percent": "NaN"}, "percent"),
    ],
)
def test_bad_conversion_requests_are_422_problems(client, seeded, body, field):
    resp = client.post("/api/v1/grade-scales/convert", json=body)
    assert resp.status_code == 422, resp.json
    assert resp.content_type == "application/problem+json"
    assert field in [e["field"] for e in resp.json["errors"]]


def test_credit_systems_list_and_convert(client, seeded):
    body = client.get("/api/v1/credit-systems?per_page=100").json
    assert body["total"] == 12
    cn = next(s for s in body["items"] if s["ref"] == "CN-CREDIT")
    assert cn["hours_per_credit"] == "16.00" and cn["rounding_mode"] == "half_up"
    assert cn["rounding_step"] == "0.50"
    resp = client.post("/api/v1/credit-systems/convert", json={"to": "CN-CREDIT", "hours": 48})
    assert resp.json == {"to": "CN-CREDIT", "hours": "48.00", "credits": "3.00"}
    resp = client.post(
        "/api/v1/credit-systems/convert",
        json={"from": "CN-CREDIT", "to": "PH-CREDIT", "credits": 3},
    )
    assert resp.json == {"to": "PH-CREDIT", "hours": "48.00", "credits": "2.50"}
    resp = client.post("/api/v1/credit-systems/convert", json={"to": "CN-CREDIT", "credits": 3})
    assert resp.status_code == 422


def test_registrar_creates_a_scale_and_errors_are_located(client, world, db_session):
    headers = bearer(client, world["registrar"])
    payload = {
        "institution": "gx",
        "code": "gx-100",
        "names": {"en": "GX", "zh_Hans": "广西"},
        "direction": "higher_better",
        "pass_mark": "60",
        "bands": FIVE_LEVEL,
    }
    resp = client.post("/api/v1/grade-scales", json=payload, headers=headers)
    assert resp.status_code == 201, resp.json
    assert resp.json["ref"] == "gx:GX-100" and resp.json["institution"] == "gx"
    assert client.get("/api/v1/grade-scales/gx:GX-100").status_code == 200
    listed = client.get("/api/v1/grade-scales?institution=gx&per_page=100").json
    assert listed["total"] == 13

    count = db_session.scalar(select(func.count()).select_from(GradeScale))
    broken = dict(
        payload,
        code="GX-2",
        pass_mark=65,
        bands=band_rows(("A", 85, 100, 4), ("B", 60, 80, 3), ("F", 0, 60, 0)),
    )
    resp = client.post("/api/v1/grade-scales", json=broken, headers=headers)
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert resp.json["type"].endswith("/validation-error")
    fields = {e["field"] for e in resp.json["errors"]}
    assert {"bands.0.min_percent", "pass_mark"} <= fields
    assert db_session.scalar(select(func.count()).select_from(GradeScale)) == count


def test_openapi_document_describes_the_credits_endpoints(client):
    """(tests/api validates the whole document against OpenAPI 3.1.)"""
    doc = client.get("/api/v1/openapi.json").json
    for path, method in (
        ("/api/v1/grade-scales", "get"),
        ("/api/v1/grade-scales", "post"),
        ("/api/v1/grade-scales/{ref}", "get"),
        ("/api/v1/grade-scales/{ref}", "patch"),
        ("/api/v1/grade-scales/convert", "post"),
        ("/api/v1/credit-systems", "get"),
        ("/api/v1/credit-systems/convert", "post"),
    ):
        assert method in doc["paths"][path], (path, method)
    convert = doc["paths"]["/api/v1/grade-scales/convert"]["post"]
    schema_ref = convert["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"from", "to", "percent", "grade"} <= set(schema["properties"])
