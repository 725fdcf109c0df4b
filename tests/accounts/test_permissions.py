"""Roles are checked against the object's institution, on pages and on the API."""

import pytest
from sqlalchemy import select

from lms.accounts.models import Membership
from lms.core.models import AuditEvent
from lms.core.security import can, registered_actions
from tests.conftest import bearer, login


@pytest.fixture
def world(make):
    gx = make.institution("gx", country="CN")
    vn = make.institution("vn", country="VN", timezone="Asia/Ho_Chi_Minh")
    return {
        "gx": gx,
        "vn": vn,
        "student": make.user("student", gx),
        "teacher": make.user("teacher", gx),
        "registrar": make.user("registrar", gx),
        "admin": make.user("admin", gx),
        "vn_admin": make.user("admin", vn),
        "platform": make.user("admin"),
    }


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/institutions/gx/members",
        "/admin/institutions/gx/edit",
        "/admin/institutions/new",
    ],
)
def test_student_cannot_open_admin_pages(client, world, path):
    login(client, world["student"])
    assert client.get(path).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, world):
    resp = client.get("/admin/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_student_cannot_open_another_users_profile(client, world):
    login(client, world["student"])
    assert client.get(f"/users/{world['teacher'].id}").status_code == 403
    assert client.get(f"/users/{world['student'].id}").status_code == 200


def test_registrar_sees_their_students_but_not_other_institutions(client, world):
    login(client, world["registrar"])
    assert client.get(f"/users/{world['student'].id}").status_code == 200
    assert client.get(f"/users/{world['vn_admin'].id}").status_code == 403
    assert client.get("/admin/institutions/vn/members").status_code == 403


def test_teacher_cannot_grant_roles_on_pages(client, world, db_session):
    login(client, world["teacher"])
    resp = client.post(
        "/admin/institutions/gx/members", data={"email": world["teacher"].email, "role": "admin"}
    )
    assert resp.status_code == 403
    assert not world["teacher"].has_role(world["gx"].id, "admin")


def test_teacher_cannot_grant_roles_on_api(client, world, db_session):
    headers = bearer(client, world["teacher"])
    resp = client.post(
        "/api/v1/institutions/gx/memberships",
        json={"email": world["teacher"].email, "role": "admin"},
        headers=headers,
    )
    assert resp.status_code == 403
    assert resp.content_type == "application/problem+json"
    assert (
        db_session.scalar(select(Membership).filter_by(user_id=world["teacher"].id, role="admin"))
        is None
    )


def test_admin_grants_roles_at_own_institution_only(client, world, db_session):
    headers = bearer(client, world["admin"])
    ok = client.post(
        "/api/v1/institutions/gx/memberships",
        json={"email": world["student"].email, "role": "teacher"},
        headers=headers,
    )
    assert ok.status_code == 201 and ok.json["role"] == "teacher"
    other = client.post(
        "/api/v1/institutions/vn/memberships",
        json={"email": world["student"].email, "role": "teacher"},
        headers=headers,
    )
    assert other.status_code == 403
    event = db_session.scalar(
        select(AuditEvent).filter_by(action="membership.granted").order_by(AuditEvent.id.desc())
    )
    assert event.actor_id == world["admin"].id and event.after["role"] == "teacher"


def test_nobody_raises_their_own_role(client, world):
    login(client, world["admin"])
    resp = client.post(
        "/admin/institutions/gx/members", data={"email": world["admin"].email, "role": "registrar"}
    )
    assert resp.status_code == 409


def test_admin_page_grants_and_revokes(client, world, db_session):
    login(client, world["admin"])
    resp = client.post(
        "/admin/institutions/gx/members", data={"email": world["student"].email, "role": "teacher"}
    )
    assert resp.status_code == 302
    m = db_session.scalar(select(Membership).filter_by(user_id=world["student"].id, role="teacher"))
    membership_id = m.id
    assert client.post(f"/admin/memberships/{membership_id}/revoke").status_code == 302
    assert db_session.scalar(select(Membership.id).filter_by(id=membership_id)) is None


def test_registrar_confirms_a_pending_student(client, world, make, db_session):
    from lms.accounts import services

    newcomer = services.register(
        services.Registration(
            email="new@example.org",
            password="long-enough-pass",
            display_name="New",
            institution_slug="gx",
        )
    )
    pending = db_session.scalar(select(Membership).filter_by(user_id=newcomer.id))
    login(client, world["registrar"])
    assert client.post(f"/admin/memberships/{pending.id}/approve").status_code == 302
    db_session.refresh(pending)
    assert pending.status == "active"


def test_platform_admin_creates_institutions(client, world, db_session):
    login(client, world["platform"])
    resp = client.post(
        "/admin/institutions/new",
        data={
            "slug": "kl-poly",
            "name_ms": "Politeknik Kuala Lumpur",
            "country": "MY",
            "kind": "vocational_college",
            "timezone": "Asia/Kuala_Lumpur",
            "default_locale": "ms",
            "website": "",
        },
    )
    assert resp.status_code == 302
    client.post("/logout")
    login(client, world["admin"])
    assert client.post("/admin/institutions/new", data={"slug": "x"}).status_code == 403


def test_every_action_has_a_rule():
    # a forgotten rule must fail loudly, never allow
    with pytest.raises(LookupError):
        can(object(), "no.such.action")
    assert {"institution.manage_members", "user.view", "admin.access"} <= registered_actions()
