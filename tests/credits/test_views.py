"""The registrar's pages: lists, a scale with its bands and converter, editing with errors
beside the fields, and the institution's credit settings."""

from sqlalchemy import select

from lms.credits import services
from lms.credits.models import GradeScale, InstitutionCreditSettings
from tests.conftest import login


def test_scale_list_and_page_with_the_converter(client, seeded):
    page = client.get("/credits/scales?lang=en").get_data(as_text=True)
    assert "Philippines: 1.00–5.00 (1.00 is best)" in page and "CN-100" in page
    resp = client.get("/credits/scales/CN-100?lang=en&percent=85&to=PH-5")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "(Excellent)" in page and "90 to 100" in page and "80 to under 90" in page
    assert "优秀" in client.get("/credits/scales/CN-100?lang=zh_Hans").get_data(as_text=True)
    assert "85% is B here (Pass)." in page  # Babel: no space in English
    assert "it is 2.00, 2.00 grade points (Pass)." in page
    resp = client.get("/credits/scales/CN-100?lang=en&percent=65&to=PH-5")
    page = resp.get_data(as_text=True)
    assert "it is 3.00, 3.00 grade points (Pass)." in page
    assert "the nearest grade that keeps the result was taken" in page


def test_converter_shows_the_error_beside_the_field(client, seeded):
    resp = client.get("/credits/scales/CN-100?lang=en&percent=120")
    assert resp.status_code == 422
    assert "Enter a percentage between 0 and 100." in resp.get_data(as_text=True)


def test_pages_speak_the_readers_language(client, seeded):
    en = client.get("/credits/scales/PH-5?lang=en").get_data(as_text=True)
    assert "Lower grade points are better (1.00 is best)" in en
    assert client.get("/credits/systems?lang=vi").status_code == 200


def test_registrar_creates_a_scale_on_the_page(client, world, db_session):
    login(client, world["registrar"])
    assert client.get("/credits/scales/new?institution=gx").status_code == 200
    data = {
        "code": "gx-pf",
        "name_en": "Pass or fail",
        "country": "CN",
        "direction": "higher_better",
        "pass_mark": "60",
        "notes": "",
        "bands-0-label": "P",
        "bands-0-min_percent": "60",
        "bands-0-max_percent": "100",
        "bands-0-points": "1",
        "bands-1-label": "F",
        "bands-1-min_percent": "0",
        "bands-1-max_percent": "60",
        "bands-1-points": "0",
        "bands-2-label": "",
        "bands-2-min_percent": "",
        "bands-2-max_percent": "",
        "bands-2-points": "",
    }
    resp = client.post("/credits/scales/new?institution=gx", data=data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/credits/scales/gx:GX-PF")
    scale = db_session.scalar(select(GradeScale).filter_by(code="GX-PF"))
    assert scale.institution_id == world["gx"].id and len(scale.bands) == 2


def test_edit_page_shows_errors_beside_the_band_and_saves_nothing(client, world, db_session):
    login(client, world["registrar"])
    services.create_scale(
        world["registrar"],
        world["gx"],
        code="GX",
        names={"en": "GX"},
        direction="higher_better",
        pass_mark=60,
        bands=[
            {"label": "P", "min_percent": 60, "max_percent": 100, "points": 1},
            {"label": "F", "min_percent": 0, "max_percent": 60, "points": 0},
        ],
    )
    form = client.get("/credits/scales/gx:GX/edit?lang=en").get_data(as_text=True)
    assert 'value="60"' in form and 'name="bands-1-label"' in form
    data = {
        "name_en": "GX",
        "country": "CN",
        "direction": "higher_better",
        "pass_mark": "60",
        "notes": "",
        "bands-0-label": "P",
        "bands-0-min_percent": "55",
        "bands-0-max_percent": "100",
        "bands-0-points": "1",
        "bands-1-label": "F",
        "bands-1-min_percent": "0",
        "bands-1-max_percent": "60",
        "bands-1-points": "0",
    }
    resp = client.post("/credits/scales/gx:GX/edit?lang=en", data=data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "This band overlaps the band F." in page
    db_session.expire_all()
    scale = services.get_scale("gx:GX")
    assert [b.min_percent for b in scale.bands] == [60, 0]


def test_credit_system_pages(client, world, db_session):
    login(client, world["registrar"])
    assert client.get("/credits/systems/new?institution=gx").status_code == 200
    resp = client.post(
        "/credits/systems/new?institution=gx",
        data={
            "code": "GX-CREDIT",
            "name_zh_Hans": "学分",
            "country": "CN",
            "hours_per_credit": "18",
            "rounding_step": "0.5",
            "rounding_mode": "down",
            "notes": "",
        },
    )
    assert resp.status_code == 302
    system = services.get_credit_system("gx:GX-CREDIT")
    assert system.hours_per_credit == 18 and system.rounding_mode == "down"
    resp = client.post(
        "/credits/systems/gx:GX-CREDIT/edit?lang=en",
        data={
            "name_zh_Hans": "学分",
            "country": "CN",
            "hours_per_credit": "-3",
            "rounding_step": "0.5",
            "rounding_mode": "down",
            "notes": "",
        },
    )
    assert resp.status_code == 422
    assert "Hours per credit must be more than 0 and at most 1000." in resp.get_data(as_text=True)


def test_registrar_chooses_the_institution_settings(client, world, db_session):
    login(client, world["registrar"])
    page = client.get("/credits/institutions/gx/settings?lang=en").get_data(as_text=True)
    assert "China: 100-point marks, five levels" in page and "National default" in page
    resp = client.post(
        "/credits/institutions/gx/settings", data={"credit_system": "", "grade_scale": "PH-5"}
    )
    assert resp.status_code == 302
    row = db_session.scalar(
        select(InstitutionCreditSettings).filter_by(institution_id=world["gx"].id)
    )
    assert row.grade_scale.code == "PH-5" and row.credit_system is None
    assert services.settings_for(world["gx"]).grade_scale.code == "PH-5"
