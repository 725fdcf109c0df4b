"""Who may keep grade scales and credit systems: the owner institution's registrars and
administrators; national defaults only platform administrators. Pages and API alike."""

import pytest
from sqlalchemy import select

from lms.core.errors import PermissionDenied
from lms.credits import services
from lms.credits.models import GradeScale
from tests.conftest import bearer, login
from tests.credits.conftest import FIVE_LEVEL


@pytest.fixture
def gx_scale(world):
    return services.create_scale(
        world["registrar"],
        world["gx"],
        code="GX",
        names={"en": "GX marks"},
        direction="higher_better",
        pass_mark=60,
        bands=FIVE_LEVEL,
    )


def _scale_form(pass_mark="50"):
    data = {
        "name_en": "Changed",
        "country": "CN",
        "direction": "higher_better",
        "pass_mark": pass_mark,
        "notes": "",
    }
    rows = [("P", "50", "100", "1"), ("F", "0", "50", "0")]
    for i, (label, lo, hi, points) in enumerate(rows):
        data |= {
            f"bands-{i}-label": label,
            f"bands-{i}-min_percent": lo,
            f"bands-{i}-max_percent": hi,
            f"bands-{i}-points": points,
        }
    return data


@pytest.mark.parametrize("who", ["teacher", "student", "ph_registrar"])
def test_others_cannot_edit_a_scale_on_pages(client, world, gx_scale, who, db_session):
    login(client, world[who])
    assert client.get("/credits/scales/gx:GX/edit").status_code == 403
    assert client.post("/credits/scales/gx:GX/edit", data=_scale_form()).status_code == 403
    assert client.get("/credits/scales/new?institution=gx").status_code == 403
    assert client.get("/credits/institutions/gx/settings").status_code == 403
    db_session.expire_all()
    assert gx_scale.pass_mark == 60


@pytest.mark.parametrize("who", ["teacher", "ph_registrar"])
def test_others_cannot_edit_a_scale_on_the_api(client, world, gx_scale, who, db_session):
    headers = bearer(client, world[who])
    resp = client.patch("/api/v1/grade-scales/gx:GX", json={"pass_mark": 50}, headers=headers)
    assert resp.status_code == 403 and resp.content_type == "application/problem+json"
    resp = client.post(
        "/api/v1/grade-scales",
        json={
            "institution": "gx",
            "code": "MINE",
            "names": {"en": "Mine"},
            "direction": "higher_better",
            "pass_mark": 60,
            "bands": FIVE_LEVEL,
        },
        headers=headers,
    )
    assert resp.status_code == 403
    assert db_session.scalar(select(GradeScale).filter_by(code="MINE")) is None
    db_session.expire_all()
    assert gx_scale.pass_mark == 60


def test_registrar_and_admin_of_the_owner_may_edit(client, world, gx_scale, db_session):
    login(client, world["registrar"])
    resp = client.post("/credits/scales/gx:GX/edit", data=_scale_form())
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    db_session.expire_all()
    assert gx_scale.pass_mark == 50 and gx_scale.names["en"] == "Changed"
    headers = bearer(client, world["admin"])
    resp = client.patch("/api/v1/grade-scales/gx:GX", json={"notes": "checked"}, headers=headers)
    assert resp.status_code == 200 and resp.json["notes"] == "checked"


def test_national_defaults_are_kept_by_platform_administrators_only(client, world, db_session):
    for who in ("registrar", "admin"):
        with pytest.raises(PermissionDenied):
            services.update_scale(world[who], services.get_scale("CN-100"), notes="x")
        headers = bearer(client, world[who])
        resp = client.patch(
            "/api/v1/credit-systems/CN-CREDIT", json={"hours_per_credit": 18}, headers=headers
        )
        assert resp.status_code == 403
    headers = bearer(client, world["platform"])
    resp = client.patch(
        "/api/v1/credit-systems/CN-CREDIT", json={"hours_per_credit": 18}, headers=headers
    )
    assert resp.status_code == 200 and resp.json["hours_per_credit"] == "18.00"


def test_anonymous_may_read_but_not_write(client, world, gx_scale):
    assert client.get("/credits/scales/gx:GX").status_code == 200
    assert client.get("/api/v1/grade-scales/gx:GX").status_code == 200
    resp = client.patch("/api/v1/grade-scales/gx:GX", json={"notes": "x"})
    assert resp.status_code == 401
    resp = client.get("/credits/scales/gx:GX/edit")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
