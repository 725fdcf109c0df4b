"""The ledger page with the recognition request, and the registrar's review page."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from lms.core.extensions import db
from lms.credits import agreements
from lms.credits.models import RecognitionRequest
from tests.conftest import login
from tests.credits.conftest import complete_course, make_course


def test_student_asks_and_registrar_decides_in_pages(app, client, make, world, percent_source):
    student = make.user("student", world["gx"])
    course = make_course(world["gx"], "GX-AUTO-101", credits="3", hours=48)
    complete_course(make, course, student, percent_source, percent=Decimal("88"))
    agreements.create_agreement(
        None,
        world["ph"],
        source=world["gx"],
        code="GX-PH",
        valid_from=date(2020, 1, 1),
        valid_to=date(2099, 1, 1),
    )
    login(client, student)
    page = client.get("/credits/ledger")
    assert page.status_code == 200 and "GX-AUTO-101" in page.text
    record_id = page.text.split('name="records" value="')[1].split('"')[0]
    sent = client.post("/credits/ledger", data={"target": "ph", "records": record_id})
    assert sent.status_code == 302
    req = db.session.scalars(sa.select(RecognitionRequest)).one()
    assert client.get(f"/credits/recognition/{req.id}").status_code == 403
    client.post("/logout")
    login(client, world["ph_registrar"])
    queue = client.get("/credits/institutions/ph/recognition")
    assert queue.status_code == 200 and student.email in queue.text
    review = client.get(f"/credits/recognition/{req.id}")
    assert review.status_code == 200 and "1.75" in review.text and "2.5" in review.text
    missing_reason = client.post(f"/credits/recognition/{req.id}", data={})
    assert missing_reason.status_code == 200 and req.status == "under_review"
    item = req.items[0].id
    done = client.post(f"/credits/recognition/{req.id}", data={"approve": str(item)})
    assert done.status_code == 302 and req.status == "approved"
