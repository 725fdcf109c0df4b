"""Export of xAPI statements: the JSON API (who sees what, filters, pages) and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from tests.analytics import xapi_spec
from tests.analytics.conftest import statements
from tests.conftest import bearer

URL = "/api/v1/xapi/statements"


@pytest.fixture
def world(make, gx, course, course_factory, teacher):
    """Statements in two courses of two institutions."""
    vn = make.institution("vn", country="VN", timezone="Asia/Ho_Chi_Minh", default_locale="vi")
    vn_teacher = make.user("teacher", vn)
    other = course_factory(
        "VN-XAPI",
        titles={"vi": "Sửa xe", "en": "Car repair"},
        institution=vn,
        teachers=[vn_teacher.email],
        source="vi",
        langs=["vi", "en"],
    )
    gx_student = make.user("student", gx)
    vn_student = make.user("student", vn)
    enrolment.enrol(gx_student, course, now=utcnow())
    enrolment.enrol(vn_student, other, now=utcnow())
    lesson = course.modules[0].lessons[0]
    enrolment.complete_lesson(gx_student, lesson, now=utcnow())
    return {
        "vn": vn,
        "other": other,
        "vn_teacher": vn_teacher,
        "gx_student": gx_student,
    }


def _ids(resp):
    assert resp.status_code == 200, resp.json
    return {s["object"]["id"].split("/courses/")[1].split("/")[0] for s in resp.json["items"]}


def test_who_may_export_what(client, make, gx, teacher, course, world):
    everyone = {
        "platform admin": (make.user("admin"), {"GX-XAPI", "VN-XAPI"}),
        "gx admin": (make.user("admin", gx), {"GX-XAPI"}),
        "gx registrar": (make.user("registrar", gx), {"GX-XAPI"}),
        "gx teacher of the course": (teacher, {"GX-XAPI"}),
        "vn teacher": (world["vn_teacher"], {"VN-XAPI"}),
        "vn admin": (make.user("admin", world["vn"]), {"VN-XAPI"}),
    }
    for who, (user, expected) in everyone.items():
        assert _ids(client.get(URL, headers=bearer(client, user))) == expected, who
    # a student, and a teacher of no course, may export nothing
    for user in (world["gx_student"], make.user("teacher", gx)):
        resp = client.get(URL, headers=bearer(client, user))
        assert resp.status_code == 403
        assert resp.headers["Content-Type"].startswith("application/problem+json")
    # a course outside one's reach is refused, not silently empty
    vn_admin = everyone["vn admin"][0]
    resp = client.get(URL, query_string={"course": "GX-XAPI"}, headers=bearer(client, vn_admin))
    assert resp.status_code == 403
    assert client.get(URL).status_code == 401


def test_filters_and_pages(client, make, gx, course, world):
    auth = bearer(client, make.user("admin"))
    everything = client.get(URL, headers=auth).json
    total = everything["total"]
    assert total == len(statements()) == 4  # 2 registered, a lesson, the course's progress
    for item in everything["items"]:
        xapi_spec.validate(item)

    by_verb = client.get(URL, query_string={"verb": "registered"}, headers=auth).json
    assert by_verb["total"] == 2
    iri = "http://adlnet.gov/expapi/verbs/completed"
    assert client.get(URL, query_string={"verb": iri}, headers=auth).json["total"] == 1
    unknown = client.get(URL, query_string={"verb": "danced"}, headers=auth)
    assert unknown.status_code == 422

    by_course = client.get(URL, query_string={"course": "VN-XAPI"}, headers=auth).json
    assert by_course["total"] == 1
    assert client.get(URL, query_string={"course": "NOPE"}, headers=auth).status_code == 404

    stored = sorted(s.stored for s in statements())
    since = client.get(URL, query_string={"since": stored[1].isoformat()}, headers=auth).json
    assert since["total"] == sum(1 for s in stored if s > stored[1]) < total
    future = (utcnow() + timedelta(days=1)).isoformat()
    assert client.get(URL, query_string={"since": future}, headers=auth).json["total"] == 0
    assert client.get(URL, query_string={"until": future}, headers=auth).json["total"] == total

    pages = []
    for page in (1, 2, 3):
        body = client.get(URL, query_string={"per_page": 2, "page": page}, headers=auth).json
        assert body["per_page"] == 2 and body["total"] == total
        pages += [s["id"] for s in body["items"]]
    assert pages == [s["id"] for s in everything["items"]][:6]
    assert client.get(URL, query_string={"per_page": 1000}, headers=auth).status_code == 422


def test_the_endpoint_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    operation = doc["paths"]["/api/v1/xapi/statements"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"since", "until", "verb", "course", "page", "per_page"} <= names
    assert operation["security"] == [{"bearerAuth": []}]


def test_cli_export(runner, make, gx, teacher, course, world):
    result = runner.invoke(args=["lms", "xapi", "export"])
    assert result.exit_code == 0, result.output
    exported = json.loads(result.output)
    assert [s["id"] for s in exported] == [s.id for s in statements()]
    for item in exported:
        xapi_spec.validate(item)

    result = runner.invoke(
        args=["lms", "xapi", "export", "--verb", "registered", "--course", "VN-XAPI"]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 1

    future = (utcnow() + timedelta(days=1)).date().isoformat()
    result = runner.invoke(args=["lms", "xapi", "export", "--since", future])
    assert json.loads(result.output) == []

    # --as limits the export to what that user may see
    result = runner.invoke(args=["lms", "xapi", "export", "--as", teacher.email])
    assert {
        s["object"]["id"].split("/courses/")[1].split("/")[0] for s in json.loads(result.output)
    } == {"GX-XAPI"}
    result = runner.invoke(args=["lms", "xapi", "export", "--as", world["gx_student"].email])
    assert result.exit_code != 0
    result = runner.invoke(args=["lms", "xapi", "export", "--since", "yesterday"])
    assert result.exit_code != 0 and "RFC 3339" in result.output
