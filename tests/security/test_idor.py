"""Object-level access (IDOR) and field-level checks (issue #12, DESIGN §9).

A student asks for the other student's things by id, through pages and the API; a teacher
reaches into another institution; a registrar acts for another institution; extra JSON
fields try to set what only staff may. Every refusal must change nothing and leak nothing
of the victim (e-mail, names, ids in the body)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.core.extensions import db
from tests.security.roles import (
    INST_ADMIN,
    OTHER_REGISTRAR,
    REGISTRAR,
    STUDENT,
    TEACHER,
    World,
    world,  # noqa: F401  (fixture)
)

REFUSED = (401, 403, 404)


def _leaks(world: World, body: bytes) -> list[str]:  # noqa: F811
    text = body.decode("utf-8", "replace")
    marks = [world.ids["victim"], "Victim Two", world.ids["victim_credential"]["id"]]
    return [m for m in marks if m in text]


def _refused(world: World, role, method, url, *, api, body=None):  # noqa: F811
    probe = world.probe(role, method, url, api=api, body=body)
    assert probe.status in REFUSED, (method, url, role, probe.status, probe.body[:300])
    assert not probe.writes, (method, url, role, probe.writes)
    assert not _leaks(world, probe.body), (method, url, role)
    return probe


# ---------------------------------------------------------------------------- a student


@pytest.mark.parametrize(
    ("method", "path", "api", "body"),
    [
        ("GET", "/attempts/{victim_attempt}", False, None),
        ("POST", "/attempts/{victim_attempt}", False, None),
        ("GET", "/api/v1/attempts/{victim_attempt}", True, None),
        ("GET", "/api/v1/attempts/{victim_attempt}/result", True, None),
        ("PUT", "/api/v1/attempts/{victim_attempt}/answers", True, {"answers": {}}),
        ("POST", "/api/v1/attempts/{victim_attempt}/submit", True, None),
        ("GET", "/teach/responses/{victim_response}/files/0", False, None),
        ("POST", "/teach/responses/{victim_response}/grade", False, {"score": "10"}),
        (
            "POST",
            "/api/v1/responses/{victim_response}/grade",
            True,
            {"score": "10", "feedback": "x"},
        ),
        ("GET", "/api/v1/courses/{course}/gradebook", True, None),
        ("GET", "/teach/courses/{course}/gradebook", False, None),
        ("GET", "/api/v1/transcripts/{victim_transcript}", True, None),
        ("GET", "/api/v1/transcripts/{victim_transcript}/credential", True, None),
        ("GET", "/api/v1/transcripts/{victim_transcript}/pdf", True, None),
        ("POST", "/api/v1/transcripts/{victim_transcript}/revoke", True, {"reason": "mine now"}),
        ("GET", "/api/v1/credit-records/{victim_record}", True, None),
        (
            "POST",
            "/api/v1/credit-records/{victim_record}/corrections",
            True,
            {"credits": "9", "reason": "mine now"},
        ),
        ("GET", "/api/v1/recognition-requests/{victim_request}", True, None),
        (
            "POST",
            "/api/v1/recognition-requests/{victim_request}/decision",
            True,
            {"approve": [], "reject": []},
        ),
        ("GET", "/credits/recognition/{victim_request}", False, None),
        ("POST", "/teach/enrolments/{victim_enrolment}/withdraw", False, None),
        ("POST", "/teach/enrolments/{victim_enrolment}/decide", False, None),
        ("GET", "/users/{victim_id}", False, None),
        ("GET", "/media/{asset}", False, None),
        ("GET", "/api/v1/media/{asset}", True, None),
        ("GET", "/media/uploads/{upload}", False, None),
        ("GET", "/api/v1/media/uploads/{upload}", True, None),
        ("GET", "/teach/courses/{course}/roster", False, None),
        ("GET", "/transcripts/{victim_transcript}", False, None),
        ("GET", "/transcripts/{victim_transcript}/transcript.pdf", False, None),
        ("GET", "/transcripts/{victim_transcript}/credential.json", False, None),
        ("POST", "/transcripts/{victim_transcript}/reissue", False, None),
        ("POST", "/transcripts/{victim_transcript}/revoke", False, {"reason": "mine now"}),
        ("GET", "/users/{victim_id}/data.json", False, None),
        ("GET", "/api/v1/users/{victim_id}/personal-data", True, None),
        ("POST", "/admin/users/{victim_id}/erase", False, {"confirm_email": "victim@gx.example"}),
        (
            "POST",
            "/api/v1/users/{victim_id}/erasure",
            True,
            {"confirm_email": "victim@gx.example"},
        ),
        ("GET", "/analytics/courses/{course}", False, None),
        ("GET", "/api/v1/xapi/statements?course={course}", True, None),
    ],
)
def test_student_cannot_reach_another_students_things(world, method, path, api, body):  # noqa: F811
    _refused(world, STUDENT, method, path.format(**world.ids), api=api, body=body)


def test_student_lists_show_only_their_own(world):  # noqa: F811
    for url in (
        "/api/v1/transcripts",
        "/api/v1/credit-records",
        "/api/v1/me/enrolments",
        f"/api/v1/courses/{world.ids['course']}/gradebook/me",
    ):
        probe = world.probe(STUDENT, "GET", url, api=True)
        assert probe.status == 200, url
        assert not _leaks(world, probe.body), url
    for url in ("/credits/ledger", "/me/courses", f"/courses/{world.ids['course']}/grades"):
        probe = world.probe(STUDENT, "GET", url, api=False)
        assert probe.status == 200, url
        assert not _leaks(world, probe.body), url


def test_the_attempt_owner_and_the_teacher_do_see_it(world):  # noqa: F811
    """The refusals above are about ownership, not a broken endpoint."""
    own = world.probe(STUDENT, "GET", f"/api/v1/attempts/{world.ids['attempt']}", api=True)
    assert own.status == 200
    staff = world.probe(TEACHER, "GET", f"/api/v1/attempts/{world.ids['victim_attempt']}", api=True)
    assert staff.status == 200
    transcript = world.probe(
        STUDENT, "GET", f"/api/v1/transcripts/{world.ids['transcript']}", api=True
    )
    assert transcript.status == 200


# ---------------------------------------------------------------------------- mass assignment


def test_extra_profile_fields_cannot_raise_privileges(world):  # noqa: F811
    from lms.accounts.models import Membership, User

    body = {
        "display_name": "Still a student",
        "is_platform_admin": True,
        "active": True,
        "email": "admin@gx.example",
        "auth_version": 99,
        "memberships": [{"institution": "gx", "role": "admin", "status": "active"}],
    }
    probe = world.probe(STUDENT, "PATCH", "/api/v1/me", api=True, body=body)
    assert probe.status in (400, 422), probe.status
    assert not probe.writes
    user = db.session.get(User, world.ids["student_id"])
    assert not user.is_platform_admin and user.email == "student@gx.example"
    admins = db.session.scalar(
        select(func.count()).select_from(Membership).filter_by(user_id=user.id, role="admin")
    )
    assert admins == 0


def test_a_student_cannot_grade_through_extra_fields(world):  # noqa: F811
    from lms.assessment.models import Attempt

    attempt_id = world.ids["attempt"]
    before = db.session.get(Attempt, attempt_id)
    score, status = before.score, before.status
    for url, method, body in (
        (
            f"/api/v1/attempts/{attempt_id}/answers",
            "PUT",
            {"answers": {}, "score": 100, "status": "graded", "percent": 100},
        ),
        (f"/api/v1/attempts/{attempt_id}/submit", "POST", {"score": 100, "percent": 100}),
    ):
        probe = world.probe(STUDENT, method, url, api=True, body=body)
        assert probe.status in (400, 409, 422) or probe.status < 300, probe.status
        if probe.status < 300:
            assert b'"score": 100' not in probe.body and b'"percent": "100' not in probe.body
    db.session.expire_all()
    after = db.session.get(Attempt, attempt_id)
    assert (after.score, after.status) == (score, status)
    # the student's own response is not theirs to grade
    _refused(
        world,
        STUDENT,
        "POST",
        f"/api/v1/responses/{world.ids['response']}/grade",
        api=True,
        body={"score": "10", "feedback": "self-graded"},
    )
    _refused(
        world,
        STUDENT,
        "POST",
        f"/api/v1/courses/{world.ids['course']}/gradebook/grades",
        api=True,
        body={
            "student_id": world.ids["student_id"],
            "category": "quizzes",
            "title": "Bonus",
            "score": "100",
            "max_score": "100",
        },
    )


# ---------------------------------------------------------------------------- teachers


def test_a_teacher_cannot_edit_another_institutions_course(world):  # noqa: F811
    code = world.ids["ph_course"]
    _refused(world, TEACHER, "PATCH", f"/api/v1/courses/{code}", api=True, body={"credits": 9})
    _refused(world, TEACHER, "POST", f"/teach/courses/{code}/edit", api=False)
    _refused(world, TEACHER, "POST", f"/api/v1/courses/{code}/modules", api=True)
    _refused(world, TEACHER, "POST", f"/teach/courses/{code}/submit", api=False)
    _refused(world, TEACHER, "POST", "/teach/institutions/ph/courses/new", api=False)
    _refused(
        world,
        TEACHER,
        "POST",
        "/api/v1/courses",
        api=True,
        body={
            "code": "PH-HIJACK",
            "institution": "ph",
            "track": "vocational",
            "industry": "automotive",
            "instruction_languages": ["en"],
            "source_locale": "en",
            "texts": {"en": {"title": "Hijack"}},
        },
    )


def test_a_teacher_cannot_reach_another_institutions_media(world):  # noqa: F811
    _refused(world, TEACHER, "GET", f"/api/v1/media/{world.ids['ph_asset']}", api=True)
    _refused(world, TEACHER, "GET", f"/media/{world.ids['ph_asset']}", api=False)


@pytest.mark.parametrize(
    ("slug", "role"), [("gx", "admin"), ("gx", "registrar"), ("ph", "teacher"), ("ph", "admin")]
)
def test_a_teacher_cannot_grant_themselves_a_role(world, slug, role):  # noqa: F811
    from lms.accounts.models import Membership

    body = {"email": "teacher@gx.example", "role": role}
    _refused(
        world, TEACHER, "POST", f"/api/v1/institutions/{slug}/memberships", api=True, body=body
    )
    _refused(world, TEACHER, "POST", f"/admin/institutions/{slug}/members", api=False, body=body)
    held = db.session.scalars(
        select(Membership.role).join(Membership.user).filter_by(email="teacher@gx.example")
    ).all()
    assert held == ["teacher"]


def test_an_institution_admin_cannot_act_on_another_institution(world):  # noqa: F811
    body = {"email": "admin@gx.example", "role": "admin"}
    _refused(world, INST_ADMIN, "POST", "/api/v1/institutions/ph/memberships", api=True, body=body)
    _refused(world, INST_ADMIN, "POST", "/admin/institutions/ph/edit", api=False)
    # a student of ph only: gx's administrator cannot lock them out
    _refused(
        world,
        INST_ADMIN,
        "POST",
        f"/users/{world.ids['ph_student_id']}/active",
        api=False,
        body={"active": "0"},
    )


# ---------------------------------------------------------------------------- registrars


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/recognition-requests/{request}/decision", {"approve": [], "reject": []}),
        ("GET", "/api/v1/recognition-requests/{request}", None),
        ("POST", "/credits/recognition/{request}", {"decision": "approve"}),
        ("POST", "/api/v1/transcripts/{transcript}/revoke", {"reason": "not ours"}),
        ("GET", "/api/v1/transcripts/{transcript}", None),
        ("POST", "/api/v1/transcripts", {"student": "student@gx.example", "institution": "gx"}),
        ("PATCH", "/api/v1/agreements/{agreement}", {"notes": "changed by ph"}),
        ("PATCH", "/api/v1/grade-scales/{scale}", {"notes": "changed by ph"}),
        ("PATCH", "/api/v1/credit-systems/{system}", {"notes": "changed by ph"}),
        ("POST", "/credits/institutions/gx/settings", {}),
        ("POST", "/admin/institutions/gx/keys", {}),
        ("POST", "/admin/memberships/{pending_membership}/approve", {}),
        ("GET", "/credits/institutions/gx/recognition", None),
        ("GET", "/users/{student_id}", None),
        ("GET", "/transcripts/{transcript}", None),
        ("POST", "/transcripts/{transcript}/revoke", {"reason": "not ours"}),
        ("POST", "/transcripts/{transcript}/reissue", None),
        ("POST", "/institutions/gx/transcripts", {"student": "student@gx.example"}),
        ("GET", "/credits/institutions/gx/agreements", None),
        ("GET", "/analytics/institutions/gx", None),
        ("GET", "/api/v1/analytics/institutions/gx", None),
        ("GET", "/api/v1/users/{student_id}/personal-data", None),
        ("POST", "/admin/users/{student_id}/erase", {"confirm_email": "student@gx.example"}),
    ],
)
def test_a_registrar_cannot_act_for_another_institution(world, method, path, body):  # noqa: F811
    url = path.format(**world.ids)
    _refused(world, OTHER_REGISTRAR, method, url, api=url.startswith("/api/"), body=body)


def test_the_registrar_of_the_institution_can(world):  # noqa: F811
    """The same requests succeed for gx's own registrar (the refusals are not accidents)."""
    url = f"/api/v1/transcripts/{world.ids['transcript']}/revoke"
    probe = world.probe(REGISTRAR, "POST", url, api=True, body={"reason": "issued in error"})
    assert probe.status == 200
    assert any("audit_events" in w for w in probe.writes)
    review = world.probe(
        REGISTRAR, "GET", f"/api/v1/recognition-requests/{world.ids['request']}", api=True
    )
    assert review.status == 200
