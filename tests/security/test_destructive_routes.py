"""What the access matrix cannot see from status codes alone (issue #12, DESIGN §9).

* The destructive rows of the matrix (erase a person, revoke or re-issue a transcript) really
  act inside their request, and are rolled back with its savepoint: the world the later rows
  use is unchanged, the people acted on can still sign in.
* A partner's registrar reads a recognition agreement; a POST from them is refused (403)
  and changes nothing (only the receiving institution edits it).
* The xAPI export gives each role the statements of the courses in its reach, no more."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from lms.core.extensions import db
from tests.security.roles import (
    INST_ADMIN,
    OTHER_REGISTRAR,
    OTHER_TEACHER,
    PLATFORM,
    REGISTRAR,
    STUDENT,
    TEACHER,
    World,
    world,  # noqa: F401  (fixture)
)


def _state(world: World) -> dict:  # noqa: F811
    from lms.accounts.models import ApiToken, User
    from lms.transcripts.models import StatusListEntry, Transcript

    db.session.expire_all()
    people = {}
    for key in ("victim_id", "student_id", "inst_admin_id"):
        user = db.session.get(User, world.ids[key])
        people[key] = (user.email, user.active, user.erased_at, user.auth_version)
    transcript = db.session.scalar(select(Transcript).filter_by(public_id=world.ids["transcript"]))
    entry = db.session.scalar(
        select(StatusListEntry).filter_by(credential_id=transcript.credential_id)
    )
    return {
        "people": people,
        "transcript": (transcript.status, transcript.revoked_at, entry.set_at),
        "transcripts": db.session.scalar(select(func.count()).select_from(Transcript)),
        "live_tokens": db.session.scalar(
            select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))
        ),
    }


@pytest.mark.parametrize(
    ("role", "method", "path", "api", "body", "status", "wrote"),
    [
        (
            INST_ADMIN,
            "POST",
            "/admin/users/{victim_id}/erase",
            False,
            {"confirm_email": "victim@gx.example"},
            302,
            "UPDATE users",
        ),
        (
            INST_ADMIN,
            "POST",
            "/admin/users/{student_id}/erase",
            False,
            {"confirm_email": "student@gx.example"},
            302,
            "UPDATE users",
        ),
        (
            INST_ADMIN,
            "POST",
            "/api/v1/users/{victim_id}/erasure",
            True,
            {"confirm_email": "victim@gx.example"},
            204,
            "UPDATE users",
        ),
        (
            PLATFORM,
            "POST",
            "/admin/users/{inst_admin_id}/erase",
            False,
            {"confirm_email": "admin@gx.example"},
            302,
            "UPDATE users",
        ),
        (
            REGISTRAR,
            "POST",
            "/transcripts/{transcript}/revoke",
            False,
            {"reason": "issued in error"},
            302,
            "UPDATE transcripts",
        ),
        (
            REGISTRAR,
            "POST",
            "/transcripts/{transcript}/reissue",
            False,
            None,
            302,
            "INSERT INTO transcripts",
        ),
        (
            REGISTRAR,
            "POST",
            "/institutions/gx/transcripts",
            False,
            {"student": "student@gx.example"},
            302,
            "INSERT INTO transcripts",
        ),
    ],
)
def test_destructive_requests_act_and_are_rolled_back(
    world,  # noqa: F811
    role,
    method,
    path,
    api,
    body,
    status,
    wrote,
):
    before = _state(world)
    probe = world.probe(role, method, path.format(**world.ids), api=api, body=body)
    assert probe.status == status, probe.body[:300]
    assert any(w.startswith(wrote) for w in probe.writes), probe.writes
    assert _state(world) == before
    # the people acted on still use the platform with the same session and token
    page = world.probe(STUDENT, "GET", f"/transcripts/{world.ids['transcript']}", api=False)
    assert page.status == 200
    assert world.probe(STUDENT, "GET", "/api/v1/me/personal-data", api=True).status == 200
    assert world.probe(INST_ADMIN, "GET", "/admin/audit", api=False).status == 200


AGREEMENT_EDIT = {
    "valid_from": "2020-01-01",
    "valid_to": "2099-12-31",
    "conversion": "grade",
    "notes": "changed by the partner",
    "equivalences": "PH-SEC-101; GX-EQ-9; Hijacked",
}


def test_the_partner_reads_an_agreement_but_cannot_change_it(world):  # noqa: F811
    from lms.credits.models import Agreement

    url = f"/credits/agreements/{world.ids['agreement']}"
    partner = world.probe(OTHER_REGISTRAR, "POST", url, api=False, body=AGREEMENT_EDIT)
    assert partner.status == 403
    assert not partner.writes, partner.writes
    assert b"changed by the partner" not in partner.body
    # the same body is a valid edit for the receiving institution
    own = world.probe(REGISTRAR, "POST", url, api=False, body=AGREEMENT_EDIT)
    assert own.status == 302, own.body[:300]
    assert any(w.startswith("UPDATE") for w in own.writes), own.writes
    db.session.expire_all()
    item = db.session.scalar(select(Agreement).filter_by(code=world.ids["agreement"]))
    assert item.notes != "changed by the partner" and item.conversion != "grade"


def _course_ids(codes: list[str]) -> set[int]:
    from lms.catalog.models import Course

    return set(db.session.scalars(select(Course.id).where(Course.code.in_(codes))))


@pytest.mark.parametrize(
    ("role", "courses"),
    [
        (TEACHER, ["GX-SEC-101"]),
        (OTHER_TEACHER, ["GX-SEC-201"]),
        (OTHER_REGISTRAR, ["PH-SEC-101"]),
        (REGISTRAR, ["GX-SEC-101", "GX-SEC-201", "GX-SEC-301", "GX-SEC-401"]),
        (INST_ADMIN, ["GX-SEC-101", "GX-SEC-201", "GX-SEC-301", "GX-SEC-401"]),
        (PLATFORM, None),
    ],
)
def test_the_xapi_export_is_scoped_to_the_courses_in_reach(world, role, courses):  # noqa: F811
    from lms.analytics.models import XapiStatement

    stmt = select(XapiStatement.id)
    if courses is not None:
        stmt = stmt.where(XapiStatement.course_id.in_(_course_ids(courses)))
    expected = set(db.session.scalars(stmt))
    everything = db.session.scalar(select(func.count()).select_from(XapiStatement))
    assert everything > 0, "the world records no learning statements"
    seen: set[str] = set()
    page = 1
    while True:
        probe = world.probe(role, "GET", f"/api/v1/xapi/statements?page={page}", api=True)
        assert probe.status == 200, probe.body[:300]
        data = json.loads(probe.body)
        seen |= {item["id"] for item in data["items"]}
        if page * data["per_page"] >= data["total"]:
            break
        page += 1
    assert seen == expected


def test_offline_operations_are_checked_as_their_user(world):  # noqa: F811
    """A batch replayed through the sync endpoint cannot reach another person's attempt or a
    course the user may not read: each operation is rejected, and changes nothing."""
    from lms.assessment.models import Attempt, Response
    from lms.catalog.models import Course

    db.session.expire_all()
    draft_lesson = db.session.scalar(select(Course).filter_by(code=world.ids["draft"]))
    draft_lesson = draft_lesson.modules[0].lessons[0].id

    def snapshot():
        db.session.expire_all()
        rows = []
        for key in ("attempt", "victim_attempt"):
            attempt = db.session.get(Attempt, world.ids[key])
            answers = db.session.scalars(
                select(Response.answer).filter_by(attempt_id=attempt.id).order_by(Response.id)
            ).all()
            rows.append((attempt.status, attempt.score, attempt.submitted_at, answers))
        return rows

    def operation(n: int, kind: str, **fields):
        return {"id": f"6f1c7d9e-0000-4000-8000-{n:012d}", "type": kind, **fields}

    cases = [
        (
            STUDENT,
            [
                operation(1, "quiz.answer", attempt_id=world.ids["victim_attempt"], answers={}),
                operation(2, "quiz.submit", attempt_id=world.ids["victim_attempt"]),
                operation(3, "lesson.complete", lesson_id=draft_lesson),
            ],
        ),
        (
            TEACHER,
            [
                operation(4, "quiz.answer", attempt_id=world.ids["attempt"], answers={}),
                operation(5, "quiz.submit", attempt_id=world.ids["attempt"]),
            ],
        ),
        (
            OTHER_REGISTRAR,
            [operation(6, "lesson.complete", lesson_id=world.ids["lesson"])],
        ),
    ]
    before = snapshot()
    for role, operations in cases:
        for url, api in (("/api/v1/sync", True), ("/offline/sync", False)):
            headers = {} if api else {"Content-Type": "application/json"}
            probe = world.probe(
                role,
                "POST",
                url,
                api=api,
                body={"operations": operations} if api else json.dumps({"operations": operations}),
                headers=headers,
            )
            assert probe.status == 200, (role, url, probe.body[:300])
            results = json.loads(probe.body)["results"]
            assert [r["status"] for r in results] == ["rejected"] * len(operations), results
            assert {r["reason_type"] for r in results} <= {"not-found", "forbidden"}, results
            tables = {w.split()[2] for w in probe.writes if w.startswith("INSERT")}
            assert tables <= {"sync_operations"}, probe.writes
            assert not [w for w in probe.writes if not w.startswith("INSERT")], probe.writes
    assert snapshot() == before
