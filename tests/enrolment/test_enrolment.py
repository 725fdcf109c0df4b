from datetime import date, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from lms.core.db import utcnow
from lms.core.errors import Conflict, PermissionDenied, ValidationError
from lms.core.models import OutboxMessage
from lms.enrolment import services
from lms.enrolment.models import SeatPool
from tests.conftest import bearer, login
from tests.enrolment.conftest import student_of


def test_enrol_until_full_then_waitlist(course, gx, make, db_session):
    a, b, c = (student_of(make, gx) for _ in range(3))
    now = utcnow()
    assert services.enrol(a, course, now=now).status == "enrolled"
    assert services.enrol(b, course, now=now).status == "enrolled"
    result = services.enrol(c, course, now=now)
    assert result.status == "waitlisted" and "waiting list" in result.message
    assert db_session.scalar(select(SeatPool.taken).filter_by(course_id=course.id)) == 2
    with pytest.raises(Conflict):
        services.enrol(a, course, now=now)  # never twice


def test_withdrawal_promotes_the_first_waitlisted_with_mail_in_their_language(
    course, gx, make, db_session
):
    a, b = student_of(make, gx), student_of(make, gx)
    first = student_of(make, gx, locale="th")
    second = student_of(make, gx, locale="vi")
    now = utcnow()
    services.enrol(a, course, now=now)
    services.enrol(b, course, now=now)
    services.enrol(first, course, now=now + timedelta(seconds=1))
    services.enrol(second, course, now=now + timedelta(seconds=2))
    services.withdraw(a, services.find_enrolment(a, course), now=now + timedelta(minutes=1))
    assert services.find_enrolment(first, course).status == "enrolled"
    assert services.find_enrolment(second, course).status == "waitlisted"
    message = db_session.scalar(select(OutboxMessage).filter_by(to_address=first.email))
    assert message.locale == "th" and message.kind == "enrolment.waitlist_promotion"
    with force_locale("th"):
        thai = gettext("A place is yours: %(course)s", course="汽车维修")
    assert message.subject == thai != "A place is yours: 汽车维修"  # in Thai; the title
    assert "คลาวด์อาชีวศึกษาจีน" in message.body  # (only in zh/en) falls back to Chinese


def test_partner_student_enrols_through_an_agreement(client, course, gx, vn, make, db_session):
    registrar = make.user("registrar", gx)
    services.create_agreement(
        registrar,
        gx,
        vn,
        term="2027 spring",
        valid_from=date.today() - timedelta(days=1),
        valid_to=date.today() + timedelta(days=90),
        quota=5,
        courses=[course],
    )
    viet = student_of(make, vn, locale="vi")
    outsider = student_of(make, make.institution("th-school", country="TH"))
    resp = client.post("/api/v1/courses/GX-ENR/enrolments", json={}, headers=bearer(client, viet))
    assert resp.status_code == 201 and resp.json["status"] == "enrolled"
    enrolment = services.find_enrolment(viet, course)
    assert enrolment.source == "agreement" and enrolment.agreement.partner_id == vn.id
    refused = client.post(
        "/api/v1/courses/GX-ENR/enrolments", json={}, headers=bearer(client, outsider)
    )
    assert refused.status_code == 403
    assert "agreement" in refused.json["detail"]
    # both sides' registrars see the cross-institution enrolment
    login(client, registrar)
    assert viet.email in client.get("/admin/institutions/gx/selection").get_data(as_text=True)
    client.post("/logout")
    login(client, make.user("registrar", vn))
    assert viet.email in client.get("/admin/institutions/vn-college/selection").get_data(
        as_text=True
    )


def test_expired_agreement_admits_nobody(course, gx, vn, make):
    registrar = make.user("registrar", gx)
    services.create_agreement(
        registrar,
        gx,
        vn,
        term="old",
        valid_from=date(2020, 1, 1),
        valid_to=date(2020, 6, 30),
        quota=5,
        courses=[course],
    )
    with pytest.raises(PermissionDenied):
        services.enrol(student_of(make, vn), course, now=utcnow())


def test_quota_is_enforced_like_capacity(course_factory, gx, vn, make):
    roomy = course_factory("GX-BIG", capacity=100)
    registrar = make.user("registrar", gx)
    services.create_agreement(
        registrar,
        gx,
        vn,
        term="t",
        valid_from=date.today(),
        valid_to=date.today() + timedelta(days=9),
        quota=1,
        courses=[roomy],
    )
    first, second = student_of(make, vn), student_of(make, vn)
    assert services.enrol(first, roomy, now=utcnow()).status == "enrolled"
    assert services.enrol(second, roomy, now=utcnow()).status == "waitlisted"
    # a home student is not blocked by the partner's quota
    assert services.enrol(student_of(make, gx), roomy, now=utcnow()).status == "enrolled"


def test_pending_students_and_teachers_cannot_enrol_directly(course, gx, make):
    from lms.accounts import services as accounts

    newcomer = accounts.register(
        accounts.Registration(
            email="new@example.org",
            password="long-password-1",
            display_name="New",
            institution_slug="gx",
        )
    )
    with pytest.raises(PermissionDenied):
        services.enrol(newcomer, course, now=utcnow())


def test_modes_window_and_prerequisites(course_factory, gx, make, db_session):
    teacher = make.user("teacher", gx)
    base = course_factory("GX-BASE")
    course = course_factory("GX-NEXT", teachers=[teacher.email], prerequisites=["GX-BASE"])
    student = student_of(make, gx)
    now = utcnow()
    with pytest.raises(Conflict) as err:
        services.enrol(student, course, now=now)
    assert err.value.slug == "prerequisites-unmet" and "Car repair" in err.value.message
    base_enrolment = services.enrol(student, base, now=now).enrolment
    base_enrolment.status = "completed"
    services.set_policy(
        teacher, course, mode="invitation", audience="institution", invitation_code="LIUZHOU-2027"
    )
    with pytest.raises(ValidationError):
        services.enrol(student, course, now=now, invitation_code="guess")
    assert (
        services.enrol(student, course, now=now, invitation_code=" LIUZHOU-2027").status
        == "enrolled"
    )
    services.set_policy(teacher, course, mode="closed", audience="institution")
    with pytest.raises(Conflict):
        services.enrol(student_of(make, gx), course, now=now)
    services.set_policy(teacher, course, mode="open", audience="public")
    course.enrol_closes_at = now - timedelta(hours=1)
    with pytest.raises(Conflict) as err:
        services.enrol(make.user(), course, now=now)
    assert err.value.slug == "enrolment-closed"


def test_approval_mode(course, gx, make, db_session):
    teacher = make.user("teacher", gx)
    course.teachers.append(teacher)
    services.set_policy(teacher, course, mode="approval", audience="institution")
    student = student_of(make, gx, locale="km")
    result = services.enrol(student, course, now=utcnow())
    assert result.status == "pending"
    assert db_session.scalar(select(func.coalesce(func.sum(SeatPool.taken), 0))) == 0
    other_teacher = make.user("teacher", make.institution())
    with pytest.raises(PermissionDenied):
        services.decide(other_teacher, result.enrolment, approve=True, now=utcnow())
    services.decide(teacher, result.enrolment, approve=True, note="Welcome", now=utcnow())
    assert result.enrolment.status == "enrolled"
    message = db_session.scalar(select(OutboxMessage).filter_by(to_address=student.email))
    assert message.locale == "km" and "Welcome" in message.body


def test_withdraw_and_reenrol(course, gx, make):
    student = student_of(make, gx)
    enrolment = services.enrol(student, course, now=utcnow()).enrolment
    services.withdraw(student, enrolment, now=utcnow())
    assert enrolment.status == "withdrawn" and services.seats_taken(course) == 0
    again = services.enrol(student, course, now=utcnow())
    assert again.enrolment.id == enrolment.id and again.status == "enrolled"


def test_a_request_whose_twin_was_stored_first_gets_409_and_gives_its_seat_back(
    course, gx, make, monkeypatch
):
    student, other = student_of(make, gx), student_of(make, gx)
    services.enrol(student, course, now=utcnow())
    # the twin request's checks ran before the first was stored: they saw no enrolment
    monkeypatch.setattr(services, "find_enrolment", lambda *_args: None)
    with pytest.raises(Conflict):
        services.enrol(student, course, now=utcnow())
    assert services.seats_taken(course) == 1  # the seat it took is back in the pool
    monkeypatch.undo()
    assert services.enrol(other, course, now=utcnow()).status == "enrolled"


def test_a_reenrolment_that_lost_the_race_gets_409_and_gives_its_seat_back(
    course, gx, make, monkeypatch
):
    student = student_of(make, gx)
    enrolment = services.enrol(student, course, now=utcnow()).enrolment
    services.withdraw(student, enrolment, now=utcnow())
    services.enrol(student, course, now=utcnow())  # enrolled again by the first request
    # the second request read the row while it still said "withdrawn"
    set_committed_value(enrolment, "status", "withdrawn")
    monkeypatch.setattr(services, "find_enrolment", lambda *_args: enrolment)
    with pytest.raises(Conflict):
        services.enrol(student, course, now=utcnow())
    assert services.seats_taken(course) == 1
    monkeypatch.undo()
    assert services.find_enrolment(student, course).status == "enrolled"


def test_an_enrolment_is_committed_before_its_answer_is_built(
    client, course, gx, make, monkeypatch
):
    """The seat's row lock (PostgreSQL) or the writer's turn (SQLite) is given back before
    the response is serialised."""
    from lms.core.extensions import db
    from lms.enrolment import api

    student = student_of(make, gx)
    auth = bearer(client, student)
    seen = []
    dump = api.EnrolResponse.dump

    def watch(schema, obj, *args, **kwargs):
        seen.append(db.session().in_transaction())
        return dump(schema, obj, *args, **kwargs)

    monkeypatch.setattr(api.EnrolResponse, "dump", watch)
    done = client.post(f"/api/v1/courses/{course.code}/enrolments", json={}, headers=auth)
    assert done.status_code == 201, done.json
    assert seen == [False]
    assert services.find_enrolment(student, course).status == "enrolled"


def test_a_student_cannot_withdraw_someone_else(client, course, gx, make):
    a, b = student_of(make, gx), student_of(make, gx)
    enrolment = services.enrol(a, course, now=utcnow()).enrolment
    login(client, b)
    assert client.post(f"/teach/enrolments/{enrolment.id}/withdraw").status_code == 403


def test_pages_enrol_and_study(client, course, gx, make, db_session):
    student = student_of(make, gx)
    assert client.get("/courses/GX-ENR/lessons/l1").status_code == 401  # sign in first
    login(client, student)
    assert client.get("/courses/GX-ENR/lessons/l1").status_code == 403  # enrol first
    assert client.post("/courses/GX-ENR/enrol").status_code == 302
    assert client.get("/courses/GX-ENR/lessons/l1").status_code == 200
    resp = client.post("/courses/GX-ENR/lessons/l1/complete")
    assert resp.headers["Location"].endswith("/courses/GX-ENR/lessons/l2")
    client.post("/courses/GX-ENR/lessons/l2/complete")
    enrolment = services.find_enrolment(student, course)
    assert enrolment.status == "completed" and enrolment.finished_at is not None
    page = client.get("/me/courses").get_data(as_text=True)
    assert "GX-ENR" in page and "100" in page
