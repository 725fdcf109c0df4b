"""Agreements and the recognition workflow: Guangxi → Manila, with hour-converted credits
and the Philippines' inverted grade."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.errors import Conflict, PermissionDenied, ValidationError
from lms.core.extensions import db
from lms.core.models import AuditEvent, OutboxMessage
from lms.credits import agreements, ledger, recognition
from tests.credits.conftest import complete_course, make_course


@pytest.fixture
def scene(make, world, percent_source):
    """A Vietnamese student completes two Guangxi courses (88 % and 72 %)."""
    gx, ph = world["gx"], world["ph"]
    student = make.user(
        "student",
        gx,
        country="VN",
        locale="vi",
        name_native="Nguyễn Thị Hoa",
        name_latin="Nguyen Thi Hoa",
    )
    auto = make_course(gx, "GX-AUTO-101", credits="3", hours=48)
    log = make_course(gx, "GX-LOG-201", credits="2", hours=32)
    complete_course(make, auto, student, percent_source, percent=Decimal("88"))
    complete_course(make, log, student, percent_source, percent=Decimal("72"))
    agreement = agreements.create_agreement(
        world["ph_registrar"],
        ph,
        source=gx,
        code="GX-PH-2027",
        valid_from=date(2020, 1, 1),
        valid_to=date(2099, 12, 31),
        equivalences=[
            {
                "source_code": "GX-AUTO-101",
                "target_code": "AUTO 110",
                "target_title": "Automotive I",
            }
        ],
        max_credits="10",
        min_percent="60",
    )
    records = {r.course_code: r for r in ledger.standing(student)}
    return {**world, "student": student, "agreement": agreement, "records": records}


def test_agreements_are_kept_by_the_receiving_registrar(scene):
    with pytest.raises(PermissionDenied):
        agreements.create_agreement(
            scene["registrar"],  # Guangxi's registrar cannot bind Manila
            scene["ph"],
            source=scene["gx"],
            code="X-1",
            valid_from=date(2027, 1, 1),
            valid_to=date(2028, 1, 1),
        )
    with pytest.raises(ValidationError) as err:
        agreements.create_agreement(
            scene["ph_registrar"],
            scene["ph"],
            source=scene["gx"],
            code="X-2",
            valid_from=date(2028, 1, 1),
            valid_to=date(2027, 1, 1),
            min_percent="150",
        )
    assert {e["field"] for e in err.value.errors} == {"valid_to", "min_percent"}
    changed = agreements.update_agreement(
        scene["ph_registrar"], scene["agreement"], max_credits="3"
    )
    assert changed.max_credits == Decimal("3")
    assert db.session.scalar(sa.select(AuditEvent).filter_by(action="agreement.updated"))


def test_a_guangxi_course_is_recognised_in_manila(scene):
    student, ph = scene["student"], scene["ph"]
    source = scene["records"]["GX-AUTO-101"]
    req = recognition.submit(student, ph, [source], now=utcnow())
    assert req.status == "submitted" and req.items[0].agreement_id == scene["agreement"].id
    [item] = recognition.review(scene["ph_registrar"], req)
    assert req.status == "under_review"
    s = item.suggestion
    # 3 学分 × 16 h = 48 h → 48 / 18 = 2.67 units, rounded half-up to the 0.5 step
    assert s.credits == Decimal("2.5") and s.hours == Decimal("48")
    # 88 % is B in China; in the Philippines (1.00 best … 5.00 fail) it is 1.75
    assert (s.grade, s.target_code, s.eligible) == ("1.75", "AUTO 110", True)
    recognition.decide(scene["ph_registrar"], req, {item.item.id: True}, now=utcnow())
    assert req.status == "approved"
    history = ledger.history(student)
    earned = [r for r in history if r.kind == "earned" and r.course_code == "GX-AUTO-101"]
    recognised = [r for r in history if r.kind == "recognised"]
    assert len(earned) == 1 and len(recognised) == 1
    rec = recognised[0]
    assert rec.source_record_id == earned[0].id and rec.institution_id == ph.id
    assert (rec.course_code, rec.credits, rec.grade) == ("AUTO 110", Decimal("2.5"), "1.75")
    assert (rec.credit_system, rec.grade_scale) == ("PH-CREDIT", "PH-5")
    assert earned[0].grade == "B" and earned[0].credits == Decimal("3")
    mail = db.session.scalar(sa.select(OutboxMessage).filter_by(to_address=student.email))
    assert mail.locale == "vi" and "AUTO 110" in mail.body and "1.75" in mail.body
    assert db.session.scalar(
        sa.select(AuditEvent).filter_by(action="recognition.approved", object_id=str(req.id))
    )


def test_grade_conversion_can_go_through_the_grade(scene):
    agreements.update_agreement(scene["ph_registrar"], scene["agreement"], conversion="grade")
    s = agreements.suggest(scene["agreement"], scene["records"]["GX-AUTO-101"], scene["ph"])
    assert s.grade == "2.00"  # B stands for 85 %, which is 2.00 in the Philippines


def test_partly_approved_needs_a_reason_and_only_the_student_may_ask(scene):
    student, ph = scene["student"], scene["ph"]
    with pytest.raises(PermissionDenied):
        recognition.submit(scene["teacher"], ph, list(scene["records"].values()), now=utcnow())
    req = recognition.submit(student, ph, list(scene["records"].values()), now=utcnow())
    with pytest.raises(ValidationError):  # asked twice
        recognition.submit(student, ph, [scene["records"]["GX-LOG-201"]], now=utcnow())
    with pytest.raises(PermissionDenied):
        recognition.review(scene["registrar"], req)  # Guangxi does not decide for Manila
    items = {i.source_record.course_code: i.id for i in req.items}
    decisions = {items["GX-AUTO-101"]: True, items["GX-LOG-201"]: False}
    with pytest.raises(ValidationError):
        recognition.decide(scene["ph_registrar"], req, decisions, now=utcnow())
    recognition.decide(
        scene["ph_registrar"], req, decisions, reason="No equivalent course", now=utcnow()
    )
    assert req.status == "partly_approved"
    assert [r.kind for r in ledger.history(student, ph)] == ["recognised"]
    with pytest.raises(Conflict):
        recognition.decide(scene["ph_registrar"], req, decisions, reason="x", now=utcnow())


def test_limits_of_the_agreement_are_enforced(scene):
    agreements.update_agreement(scene["ph_registrar"], scene["agreement"], min_percent="80")
    s = agreements.suggest(scene["agreement"], scene["records"]["GX-LOG-201"], scene["ph"])
    assert not s.eligible  # 72 % is below the agreement's minimum
    # elective credit when the table has no line: 32 h → 1.78 → 2.0 units
    assert s.target_code == "" and s.credits == Decimal("2")
    agreements.update_agreement(scene["ph_registrar"], scene["agreement"], min_percent=None)
    agreements.update_agreement(scene["ph_registrar"], scene["agreement"], max_credits="3")
    req = recognition.submit(
        scene["student"], scene["ph"], list(scene["records"].values()), now=utcnow()
    )
    approvals = {i.id: True for i in req.items}
    with pytest.raises(ValidationError):  # 2.5 + 2 > 3
        recognition.decide(scene["ph_registrar"], req, approvals, now=utcnow())


def test_without_an_agreement_nothing_can_be_approved(make, scene):
    other = make.institution("th-college", country="TH")
    registrar = make.user("registrar", other)
    req = recognition.submit(
        scene["student"], other, [scene["records"]["GX-AUTO-101"]], now=utcnow()
    )
    [item] = recognition.review(registrar, req)
    assert not item.suggestion.eligible
    with pytest.raises(ValidationError):
        recognition.decide(registrar, req, {item.item.id: True}, now=utcnow())
    recognition.decide(registrar, req, {item.item.id: False}, reason="No agreement", now=utcnow())
    assert req.status == "rejected" and ledger.history(scene["student"], other) == []
