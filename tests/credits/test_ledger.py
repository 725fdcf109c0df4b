"""The credit ledger: ``earned`` on completion, corrections, and append-only records."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.core.errors import Conflict, PermissionDenied, ValidationError
from lms.core.extensions import db
from lms.core.models import AuditEvent
from lms.credits import ledger
from lms.credits.models import CreditRecord
from tests.credits.conftest import complete_course, make_course


def test_completion_writes_an_earned_record_in_the_offering_scale(make, world, percent_source):
    course = make_course(world["gx"], "GX-AUTO-1", credits="3", hours=48)
    student = make.user("student", world["gx"], country="VN", name_native="Nguyễn Văn An")
    enrolment = complete_course(make, course, student, percent_source, percent=Decimal("88"))
    [rec] = ledger.history(student)
    assert (rec.kind, rec.course_code, rec.institution_id) == (
        "earned",
        "GX-AUTO-1",
        world["gx"].id,
    )
    assert rec.credits == Decimal("3") and rec.hours == Decimal("48")
    assert (rec.grade, rec.percent, rec.grade_scale) == ("B", Decimal("88"), "CN-100")
    assert rec.credit_system == "CN-CREDIT" and rec.grade_source == "percent"
    assert rec.completed_on == enrolment.finished_at.date()
    assert db.session.scalar(
        sa.select(AuditEvent).filter_by(action="credit_record.earned", object_id=str(rec.id))
    )
    # the receiver is idempotent per enrolment
    assert ledger.record_earned(enrolment).id == rec.id
    assert len(ledger.history(student)) == 1


def test_the_result_comes_from_the_gradebook(make, world):
    """Without any other source, the earned record carries the gradebook's final
    percentage, converted in the offering institution's scale."""
    from lms.assessment import gradebook

    course = make_course(world["gx"], "GX-AUTO-9")
    student = make.user("student", world["gx"])
    gradebook.record_manual_grade(
        None,
        course,
        student,
        "assignments",
        "Workshop task",
        Decimal("88"),
        Decimal("100"),
        check=False,
    )
    complete_course(make, course, student)
    [rec] = ledger.history(student)
    assert (rec.percent, rec.grade, rec.grade_source) == (Decimal("88"), "B", "percent")


def test_without_a_result_the_record_says_pass_only(make, world):
    course = make_course(world["gx"], "GX-AUTO-2")
    student = make.user("student", world["gx"])
    complete_course(make, course, student)
    [rec] = ledger.history(student)
    assert (rec.grade, rec.percent, rec.grade_source) == ("pass", None, "pass_only")
    assert rec.credits == Decimal("3")


def test_a_failing_result_earns_no_credit(make, world, percent_source):
    course = make_course(world["gx"], "GX-AUTO-3")
    student = make.user("student", world["gx"])
    complete_course(make, course, student, percent_source, percent=Decimal("41"))
    [rec] = ledger.history(student)
    assert rec.grade == "F" and not rec.passed and rec.credits == 0
    assert ledger.standing(student) == []


def test_records_are_never_updated_or_deleted(make, world):
    course = make_course(world["gx"], "GX-AUTO-4")
    student = make.user("student", world["gx"])
    complete_course(make, course, student)
    [rec] = ledger.history(student)
    rec.credits = Decimal("30")
    with pytest.raises(Conflict):
        db.session.flush()
    db.session.expire(rec)
    db.session.delete(rec)
    with pytest.raises(Conflict):
        db.session.flush()


@pytest.mark.backend("postgresql")
def test_the_database_refuses_changes_on_postgresql(app, make, world):
    """The trigger is PostgreSQL's; on SQLite the service-layer guard above stands alone."""
    course = make_course(world["gx"], "GX-AUTO-5")
    student = make.user("student", world["gx"])
    complete_course(make, course, student)
    [rec] = ledger.history(student)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(
            sa.text("UPDATE credit_records SET credits = 9 WHERE id = :id"), {"id": rec.id}
        )
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text("DELETE FROM credit_records WHERE id = :id"), {"id": rec.id})


def test_a_correction_is_a_compensating_record(make, world):
    course = make_course(world["gx"], "GX-AUTO-6")
    student = make.user("student", world["gx"])
    complete_course(make, course, student)
    [rec] = ledger.history(student)
    with pytest.raises(PermissionDenied):
        ledger.correct(world["teacher"], rec, credits="2", reason="wrong credits")
    with pytest.raises(ValidationError):
        ledger.correct(world["registrar"], rec, credits="2", reason=" ")
    fixed = ledger.correct(world["registrar"], rec, credits="2", grade="A", reason="typo")
    assert (fixed.kind, fixed.corrects_id, fixed.credits, fixed.grade) == (
        "corrected",
        rec.id,
        Decimal("2"),
        "A",
    )
    assert [r.id for r in ledger.history(student)] == [rec.id, fixed.id]
    assert [r.id for r in ledger.standing(student)] == [fixed.id]
    assert db.session.get(CreditRecord, rec.id).credits == Decimal("3")  # untouched
    with pytest.raises(Conflict):
        ledger.correct(world["registrar"], rec, credits="1", reason="again")
    withdrawn = ledger.correct(world["registrar"], fixed, credits="0", reason="withdrawn")
    assert ledger.standing(student) == [] and withdrawn.corrects_id == fixed.id
