"""Vocational qualifications: 1+X and national skill certificates mapped to AQRF levels,
recorded in the ledger and recognised like courses."""

from datetime import date
from decimal import Decimal

import pytest

from lms.core.db import utcnow
from lms.core.errors import Conflict, PermissionDenied, ValidationError
from lms.credits import agreements, ledger, qualifications, recognition


@pytest.fixture
def ev_mid(world):
    return qualifications.create_qualification(
        world["platform"],
        code="1X-NEV-MID",
        framework="1+X",
        level="intermediate",
        names={"zh_Hans": "新能源汽车检测与维修（中级）", "en": "NEV inspection and repair"},
        hours=64,
        awarding_body="1+X training evaluation organisation",
    )


def test_levels_map_to_aqrf(world, ev_mid):
    assert ev_mid.aqrf_level == 4
    assert qualifications.aqrf_for("national", "3") == 4  # 高级工
    with pytest.raises(PermissionDenied):
        qualifications.create_qualification(
            world["registrar"], code="Q-1", framework="1+X", level="junior", names={}, hours=10
        )
    with pytest.raises(ValidationError) as err:
        qualifications.create_qualification(
            None, code="Q-2", framework="1+X", level="master", names={}, hours=-1
        )
    assert {e["field"] for e in err.value.errors} == {"level", "hours"}


def test_a_certificate_is_recorded_and_recognised(make, world, ev_mid):
    student = make.user("student", world["gx"], country="VN", locale="vi")
    rec = qualifications.award(
        world["registrar"],
        student,
        ev_mid,
        world["gx"],
        awarded_on=date(2027, 6, 30),
        certificate_number="NEV-2027-000123",
    )
    # 64 h at 16 h per credit
    assert (rec.kind, rec.credits, rec.grade, rec.grade_source) == (
        "earned",
        Decimal("4"),
        "pass",
        "qualification",
    )
    assert "AQRF 4" in rec.title
    with pytest.raises(Conflict):
        qualifications.award(
            world["registrar"],
            student,
            ev_mid,
            world["gx"],
            awarded_on=date(2027, 6, 30),
            certificate_number="again",
        )
    with pytest.raises(PermissionDenied):
        qualifications.award(
            world["teacher"],
            student,
            ev_mid,
            world["gx"],
            awarded_on=date(2027, 6, 30),
            certificate_number="x",
        )
    agreements.create_agreement(
        None,
        world["ph"],
        source=world["gx"],
        code="GX-PH-Q",
        valid_from=date(2020, 1, 1),
        valid_to=date(2099, 1, 1),
        equivalences=[{"source_code": "1X-NEV-MID", "target_code": "AUTO 220"}],
    )
    req = recognition.submit(student, world["ph"], [rec], now=utcnow())
    [review] = recognition.review(world["ph_registrar"], req)
    # 64 h at 18 h per unit = 3.56, half-up to 3.5
    assert (review.suggestion.credits, review.suggestion.grade) == (Decimal("3.5"), "pass")
    recognition.decide(world["ph_registrar"], req, {review.item.id: True}, now=utcnow())
    [recognised] = ledger.history(student, world["ph"])
    assert (recognised.course_code, recognised.source_record_id) == ("AUTO 220", rec.id)


def test_qualifications_api(client, make, world):
    from tests.conftest import bearer

    body = {"code": "NAT-WELD-3", "framework": "national", "level": "3", "hours": 120}
    denied = client.post(
        "/api/v1/qualifications", json=body, headers=bearer(client, world["registrar"])
    )
    assert denied.status_code == 403
    created = client.post(
        "/api/v1/qualifications", json=body, headers=bearer(client, world["platform"])
    )
    assert created.status_code == 201 and created.json["aqrf_level"] == 4
    assert [q["code"] for q in client.get("/api/v1/qualifications").json["items"]] == ["NAT-WELD-3"]
    student = make.user("student", world["gx"])
    award = {
        "student": student.email,
        "institution": "gx",
        "awarded_on": "2027-07-01",
        "certificate_number": "GX-W-1",
    }
    made = client.post(
        "/api/v1/qualifications/NAT-WELD-3/awards",
        json=award,
        headers=bearer(client, world["registrar"]),
    )
    assert made.status_code == 201 and made.json["credits"] == "7.50"  # 120 h / 16
