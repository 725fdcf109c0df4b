"""Recognition agreements in the browser: the receiving institution's registrar records one
with its equivalences, sees line-numbered errors with nothing saved, changes it later; the
partner's registrar reads it; nobody else does."""

from datetime import date

from lms.core.extensions import db
from lms.core.models import AuditEvent
from lms.credits.models import Agreement
from tests.conftest import login
from tests.credits.conftest import world  # noqa: F401  (fixtures)

GOOD = {
    "partner": "gx",
    "code": "GX-PH-2027",
    "valid_from": "2027-01-01",
    "valid_to": "2029-12-31",
    "max_credits": "30",
    "min_percent": "70",
    "conversion": "percent",
    "equivalences": "GX-AUTO-101; AUTO 110; Automotive basics\n\nGX-ELEC-201; ELEC 210; Circuits",
    "notes": "Signed in Nanning",
}


def test_registrar_records_and_changes_an_agreement(client, world):  # noqa: F811
    login(client, world["ph_registrar"])
    assert "/credits/institutions/ph/agreements" in client.get("/admin/").text
    bad = client.post(
        "/credits/institutions/ph/agreements",
        data={**GOOD, "valid_to": "2026-01-01", "equivalences": "GX-1; A\nGX-1; B"},
    )
    assert bad.status_code == 200
    assert "The agreement must end after it starts." in bad.text
    assert "Line 2: This course is listed twice." in bad.text
    assert db.session.query(Agreement).count() == 0
    created = client.post("/credits/institutions/ph/agreements", data=GOOD)
    assert created.status_code == 302
    agreement = db.session.query(Agreement).one()
    assert agreement.target.slug == "ph" and agreement.source.slug == "gx"
    assert [(e.source_code, e.target_code) for e in agreement.equivalences] == [
        ("GX-AUTO-101", "AUTO 110"),
        ("GX-ELEC-201", "ELEC 210"),
    ]
    page = client.get("/credits/agreements/GX-PH-2027").text
    assert "Automotive basics" in page and "70%" in page
    changed = client.post(
        "/credits/agreements/GX-PH-2027",
        data={**GOOD, "valid_to": "2030-06-30", "equivalences": "GX-AUTO-101; AUTO 111; Cars"},
    )
    assert changed.status_code == 302
    db.session.refresh(agreement)
    assert agreement.valid_to == date(2030, 6, 30)
    assert [e.target_code for e in agreement.equivalences] == ["AUTO 111"]
    actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-2:] == ["agreement.created", "agreement.updated"]


def test_partner_reads_others_are_refused(client, world, make):  # noqa: F811
    login(client, world["ph_registrar"])
    client.post("/credits/institutions/ph/agreements", data=GOOD)
    client.post("/logout")
    login(client, world["registrar"])  # the partner's (gx) registrar
    page = client.get("/credits/agreements/GX-PH-2027")
    assert page.status_code == 200 and "Change the agreement" not in page.text
    denied = client.post("/credits/agreements/GX-PH-2027", data={**GOOD, "valid_to": "2031-01-01"})
    assert db.session.query(Agreement).one().valid_to == date(2029, 12, 31)
    assert denied.status_code == 403
    assert "New agreement" in client.get("/credits/institutions/gx/agreements").text  # its own
    for user in (world["student"], world["teacher"]):
        client.post("/logout")
        login(client, user)
        assert client.get("/credits/agreements/GX-PH-2027").status_code == 403
        assert client.get("/credits/institutions/ph/agreements").status_code == 403
