"""The ledger, agreement and recognition API; no endpoint edits a ledger record."""

from decimal import Decimal

from tests.conftest import bearer
from tests.credits.conftest import complete_course, make_course


def test_recognition_through_the_api(client, make, world, percent_source):
    student = make.user("student", world["gx"], country="VN", locale="vi")
    course = make_course(world["gx"], "GX-AUTO-101", credits="3", hours=48)
    complete_course(make, course, student, percent_source, percent=Decimal("88"))
    ph_reg = bearer(client, world["ph_registrar"])
    me = bearer(client, student)
    body = {
        "code": "GX-PH",
        "source": "gx",
        "target": "ph",
        "valid_from": "2020-01-01",
        "valid_to": "2099-12-31",
        "equivalences": [{"source_code": "GX-AUTO-101", "target_code": "AUTO 110"}],
    }
    denied = client.post("/api/v1/agreements", json=body, headers=bearer(client, world["teacher"]))
    assert denied.status_code == 403
    assert denied.headers["Content-Type"].startswith("application/problem+json")
    created = client.post("/api/v1/agreements", json=body, headers=ph_reg)
    assert created.status_code == 201, created.json
    ledger = client.get("/api/v1/credit-records", headers=me).json
    [earned] = ledger["items"]
    assert (earned["kind"], earned["grade"], earned["credits"]) == ("earned", "B", "3.00")
    req = client.post(
        "/api/v1/recognition-requests",
        json={"target": "ph", "records": [earned["id"]]},
        headers=me,
    )
    assert req.status_code == 201, req.json
    rid = req.json["id"]
    review = client.get(f"/api/v1/recognition-requests/{rid}", headers=ph_reg).json
    assert review["request"]["status"] == "under_review"
    [suggestion] = review["suggestions"].values()
    assert (suggestion["grade"], suggestion["credits"]) == ("1.75", "2.50")
    item = review["request"]["items"][0]["id"]
    decided = client.post(
        f"/api/v1/recognition-requests/{rid}/decision", json={"approve": [item]}, headers=ph_reg
    )
    assert decided.status_code == 200 and decided.json["status"] == "approved"
    result = decided.json["items"][0]["result"]
    assert (result["kind"], result["source_record_id"]) == ("recognised", earned["id"])
    kinds = [r["kind"] for r in client.get("/api/v1/credit-records", headers=me).json["items"]]
    assert kinds == ["earned", "recognised"]
    # another student cannot read this ledger
    other = bearer(client, make.user("student", world["gx"]))
    assert client.get(f"/api/v1/credit-records/{earned['id']}", headers=other).status_code == 403


def test_no_endpoint_edits_a_ledger_record(client, make, world):
    student = make.user("student", world["gx"])
    complete_course(make, make_course(world["gx"], "GX-X-1"), student)
    me = bearer(client, student)
    [rec] = client.get("/api/v1/credit-records", headers=me).json["items"]
    url = f"/api/v1/credit-records/{rec['id']}"
    for method in ("put", "patch", "delete"):
        resp = getattr(client, method)(url, json={"credits": "9"}, headers=me)
        assert resp.status_code == 405, method
    spec = client.get("/api/v1/openapi.json").json
    for path, operations in spec["paths"].items():
        if "credit-records" in path:
            assert set(operations) - {"parameters"} <= {"get", "post"}, path
            if "post" in operations:
                assert path.endswith("/corrections")
    reg = bearer(client, world["registrar"])
    fixed = client.post(f"{url}/corrections", json={"credits": "2", "reason": "typo"}, headers=reg)
    assert fixed.status_code == 201 and fixed.json["corrects_id"] == rec["id"]
    assert client.get(url, headers=me).json["credits"] == "3.00"
