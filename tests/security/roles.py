"""A seeded world for the security tests, built once per test module through the services.

Two institutions: ``gx`` (Guangxi, where the course under test lives) and ``ph`` (a
partner). The eight roles of the access-control matrix each have a user, a signed-in test
client and a bearer token. Around every probe ``World.probe`` opens a savepoint and rolls it
back, so an allowed write (deleting a lesson, revoking a transcript) does not change the
world for the next probe; it also records every INSERT, UPDATE and DELETE the request sent
to the database, so a test can assert that a refused request wrote nothing."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lms.core.db import utcnow
from lms.core.extensions import db, limiter
from lms.core.storage import LocalStorage
from tests.conftest import PASSWORD, Factory

ANON = "anonymous"
STUDENT = "student"
OTHER_TEACHER = "other_teacher"
TEACHER = "teacher"
OTHER_REGISTRAR = "other_registrar"
REGISTRAR = "registrar"
INST_ADMIN = "inst_admin"
PLATFORM = "platform_admin"
ROLES = (ANON, STUDENT, OTHER_TEACHER, TEACHER, OTHER_REGISTRAR, REGISTRAR, INST_ADMIN, PLATFORM)
PUBLIC_HOST = "127.0.0.1:5000"


@dataclass
class Probe:
    status: int
    location: str
    writes: list[str]
    body: bytes
    content_type: str


@dataclass
class World:
    app: Flask
    conn: sa.Connection
    users: dict[str, Any]
    cookies: dict[str, str]
    tokens: dict[str, dict[str, str]]
    ids: dict[str, Any] = field(default_factory=dict)
    _writes: list[str] | None = None

    def probe(
        self,
        role: str,
        method: str,
        url: str,
        *,
        api: bool,
        body: Any = None,
        client=None,
        headers: dict[str, str] | None = None,
    ) -> Probe:
        """One request as ``role``, rolled back afterwards; API requests carry the role's
        bearer token, pages its session cookie."""
        if client is None:
            client = self.app.test_client()
            if role in self.cookies:
                client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookies[role])
        kwargs: dict[str, Any] = {"headers": dict(headers or {})}
        if api:
            kwargs["headers"].update(self.tokens.get(role, {}))
            if method in {"POST", "PUT", "PATCH", "DELETE"}:
                kwargs["json"] = {} if body is None else body
        elif method != "GET":
            kwargs["data"] = {} if body is None else body
        with self.app.app_context():
            limiter.reset()
        savepoint = self.conn.begin_nested()
        self._writes = []
        try:
            resp = client.open(url, method=method, **kwargs)
            writes = list(self._writes)
        finally:
            self._writes = None
            if savepoint.is_active:
                savepoint.rollback()
        return Probe(
            resp.status_code,
            resp.headers.get("Location", ""),
            writes,
            resp.get_data(),
            resp.content_type or "",
        )

    def _seen(self, conn, cursor, statement, params, context, executemany) -> None:
        if self._writes is not None:
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if verb in {"INSERT", "UPDATE", "DELETE"}:
                self._writes.append(" ".join(statement.split())[:160])


def _pdf(text: bytes) -> bytes:
    from tests.media.test_uploads import _pdf as make_pdf

    return make_pdf(text)


@contextlib.contextmanager
def world_context(app: Flask, tmp: Path) -> Iterator[World]:
    """Bind the app to one connection in an outer transaction, build the world, roll it
    all back at the end."""
    before_host = app.config.get("PUBLIC_HOST")
    before_storage = app.extensions.get("lms.storage")
    app.config["PUBLIC_HOST"] = PUBLIC_HOST
    app.extensions["lms.storage"] = LocalStorage(tmp / "media")
    ctx = app.app_context()
    ctx.push()
    engines = db.engines
    engine = engines[None]
    conn = engine.connect()
    outer = conn.begin()
    engines[None] = conn
    db.session.remove()
    world = World(app=app, conn=conn, users={}, cookies={}, tokens={})
    sa.event.listen(conn, "before_cursor_execute", world._seen)
    try:
        _build(world, tmp)
        db.session.commit()
        db.session.remove()
        yield world
    finally:
        sa.event.remove(conn, "before_cursor_execute", world._seen)
        db.session.remove()
        engines[None] = engine
        if outer.is_active:
            outer.rollback()
        conn.close()
        ctx.pop()
        app.config["PUBLIC_HOST"] = before_host
        if before_storage is None:
            app.extensions.pop("lms.storage", None)
        else:
            app.extensions["lms.storage"] = before_storage


@pytest.fixture(scope="module")
def world(app, tmp_path_factory) -> Iterator[World]:
    with world_context(app, tmp_path_factory.mktemp("security-world")) as built:
        yield built


def _build(w: World, tmp: Path) -> None:
    from lms.accounts import reset
    from lms.accounts import services as accounts
    from lms.accounts.models import ApiToken, UserSession
    from lms.assessment import attempts, gradebook
    from lms.assessment import services as assessment
    from lms.assessment.spec import QuestionSpec
    from lms.catalog import services as catalog
    from lms.credits import agreements, ledger, qualifications, recognition
    from lms.credits import services as credits
    from lms.enrolment import services as enrolment
    from lms.live import calendar
    from lms.live import services as live
    from lms.media import services as media
    from lms.media import uploads
    from lms.media import urls as media_urls
    from lms.transcripts import issuance
    from lms.transcripts.models import StatusListEntry
    from tests.credits.conftest import FIVE_LEVEL

    make = Factory()
    credits.seed_national_defaults()
    gx = make.institution("gx", country="CN")
    ph = make.institution("ph", country="PH", timezone="Asia/Manila", default_locale="fil")
    u = w.users
    u[STUDENT] = make.user("student", gx, email="student@gx.example", name_latin="Student One")
    u[OTHER_TEACHER] = make.user("teacher", gx, email="other.teacher@gx.example")
    u[TEACHER] = make.user("teacher", gx, email="teacher@gx.example")
    u[OTHER_REGISTRAR] = make.user("registrar", ph, email="registrar@ph.example")
    u[REGISTRAR] = make.user("registrar", gx, email="registrar@gx.example")
    u[INST_ADMIN] = make.user("admin", gx, email="admin@gx.example")
    u[PLATFORM] = make.user("admin", None, email="platform@example.org")
    # a second student (the IDOR victim / attacker pair) and people the admin pages act on
    victim = make.user("student", gx, email="victim@gx.example", name_latin="Victim Two")
    ph_teacher = make.user("teacher", ph, email="teacher@ph.example")
    ph_student = make.user("student", ph, email="student@ph.example")
    newcomer = make.user(None, None, email="newcomer@example.org")
    pending = accounts.grant_role(None, newcomer, gx, "student")
    pending.status = "pending"

    course = _course(catalog, gx, "GX-SEC-101", [u[TEACHER].email])
    other_course = _course(catalog, gx, "GX-SEC-201", [u[OTHER_TEACHER].email])
    draft = _course(catalog, gx, "GX-SEC-301", [u[TEACHER].email], publish=False)
    ph_course = _course(catalog, ph, "PH-SEC-101", [ph_teacher.email])
    module = course.modules[0]
    lesson = module.lessons[0]
    term = catalog.set_glossary_term(
        None, course, "发动机", translations={"en": "engine"}, check=False
    )
    now = utcnow()
    for student in (u[STUDENT], victim):
        assert enrolment.enrol(student, course, now=now).status == "enrolled"
    # credit earned at the partner (through a course-selection agreement), to be
    # recognised at gx
    enrolment.create_agreement(
        u[PLATFORM],
        ph,
        gx,
        term="2027",
        valid_from=date(2020, 1, 1),
        valid_to=date(2099, 12, 31),
        quota=10,
        courses=[ph_course],
    )
    for student in (u[STUDENT], victim):
        enrolment.enrol(student, ph_course, now=now)
        for item in ph_course.modules[0].lessons:
            enrolment.complete_lesson(student, item, now=now)
    records = {s.id: ledger.standing(s, ph)[0] for s in (u[STUDENT], victim)}
    # credit earned at gx, for the transcripts
    finished = _course(catalog, gx, "GX-SEC-401", [])
    for student in (u[STUDENT], victim):
        enrolment.enrol(student, finished, now=now)
        enrolment.complete_lesson(student, finished.modules[0].lessons[0], now=now)

    # assessment: an upload question, a quiz, attempts of both students
    question = assessment.create_question(
        None,
        course,
        QuestionSpec("upload", "Upload your wiring diagram", {"max_files": 2}, name="Diagram"),
        check=False,
    )
    quiz = assessment.create_assessment(
        None, course, "Wiring", question_ids=[question.id], max_attempts=3, check=False
    )
    ids = w.ids
    for who, student in (("", u[STUDENT]), ("victim_", victim)):
        attempt = attempts.start_attempt(student, quiz, now=now)
        attempts.save_upload(student, attempt, question.id, "diagram.pdf", _pdf(b"wiring"), now=now)
        attempts.submit_attempt(student, attempt, now=now)
        ids[f"{who}attempt"] = attempt.id
        ids[f"{who}response"] = attempt.responses[0].id
    gradebook.set_pass_mark(None, course, Decimal("50"), check=False)

    # media: a teacher's document with a subtitle track, an unfinished upload
    pdf = tmp / "manual.pdf"
    pdf.write_bytes(_pdf(b"Safety first"))
    asset, _dup = media.ingest_file(
        u[TEACHER], pdf, kind="document", filename="manual.pdf", title="Manual"
    )
    upload = uploads.start_upload(u[TEACHER], kind="document", filename="big.pdf", size=1000)
    pdf = tmp / "partner.pdf"
    pdf.write_bytes(_pdf(b"Partner"))
    ph_asset, _dup = media.ingest_file(
        ph_teacher, pdf, kind="document", filename="ph.pdf", title="Partner manual"
    )

    # live: a session of the course; the student's calendar feed
    session = live.create_session(
        u[TEACHER],
        course,
        live.SessionData(
            titles={"en": "Engine diagnostics"},
            source_locale="en",
            local_start=datetime.now().replace(microsecond=0) + timedelta(days=7),
            timezone="Asia/Shanghai",
            duration_minutes=60,
            provider="external",
            external_url="https://meeting.example/abc",
        ),
    ).session

    # credits: institution scale and system, agreement ph → gx, qualification, request
    scale = credits.create_scale(
        None,
        gx,
        code="GX-5",
        names={"en": "GX five levels"},
        direction="higher_better",
        pass_mark=60,
        bands=FIVE_LEVEL,
    )
    system = credits.create_credit_system(
        None, gx, code="GX-CREDIT", names={"en": "GX credit"}, hours_per_credit=16
    )
    agreement = agreements.create_agreement(
        None,
        gx,
        source=ph,
        code="PH-GX",
        valid_from=date(2020, 1, 1),
        valid_to=date(2099, 12, 31),
        equivalences=[{"source_code": "PH-SEC-101", "target_code": "GX-EQ-1"}],
    )
    qualification = qualifications.create_qualification(
        None,
        code="1X-SEC",
        framework="1+X",
        level="intermediate",
        names={"en": "Security test qualification"},
        hours=64,
    )
    for who, student in (("", u[STUDENT]), ("victim_", victim)):
        req = recognition.submit(student, gx, [records[student.id]], now=now)
        ids[f"{who}request"] = req.id
        ids[f"{who}record"] = records[student.id].id

    # transcripts issued by gx for both students
    for who, student in (("", u[STUDENT]), ("victim_", victim)):
        transcript = issuance.issue(None, student, gx, now=now)
        ids[f"{who}transcript"] = transcript.public_id
        ids[f"{who}code"] = transcript.verification_code
        ids[f"{who}credential"] = copy.deepcopy(issuance.credential(transcript))
    entry = db.session.scalar(
        sa.select(StatusListEntry).filter_by(credential_id=ids["credential"]["id"])
    )
    db.session.flush()

    ids.update(
        gx=gx.slug,
        ph=ph.slug,
        course=course.code,
        other_course=other_course.code,
        draft=draft.code,
        ph_course=ph_course.code,
        module=module.id,
        lesson=lesson.id,
        lesson_key=lesson.key,
        term=term.id,
        quiz=quiz.id,
        question=question.id,
        asset=asset.id,
        asset_token=media_urls.token_for(asset.id, u[TEACHER].id),
        ph_asset=ph_asset.id,
        upload=upload.id,
        live=session.id,
        feed=calendar.feed_token(u[STUDENT]),
        scale=scale.ref,
        system=system.ref,
        agreement=agreement.code,
        qualification=qualification.code,
        status_list=entry.status_list.public_id,
        enrolment=enrolment.find_enrolment(u[STUDENT], course).id,
        victim_enrolment=enrolment.find_enrolment(victim, course).id,
        pending_membership=pending.id,
        student_membership=u[STUDENT].memberships[0].id,
        student_id=u[STUDENT].id,
        victim_id=victim.id,
        ph_student_id=ph_student.id,
        inst_admin_id=u[INST_ADMIN].id,
        ph_teacher=ph_teacher.email,
        victim=victim.email,
    )
    db.session.commit()
    for role in ROLES:
        client = w.app.test_client()
        if role != ANON:
            resp = client.post("/login", data={"email": u[role].email, "password": PASSWORD})
            assert resp.status_code == 302, (role, resp.status_code)
            raw, _ttl = accounts.issue_token(db.session.merge(u[role]))
            w.tokens[role] = {"Authorization": f"Bearer {raw}"}
            cookie = client.get_cookie(w.app.config["SESSION_COOKIE_NAME"])
            w.cookies[role] = cookie.value
    ids["student_session"] = db.session.scalar(
        sa.select(UserSession.id).filter_by(user_id=u[STUDENT].id)
    )
    ids["student_token"] = db.session.scalar(
        sa.select(ApiToken.id).filter_by(user_id=u[STUDENT].id)
    )
    ids["reset_token"] = reset.make_token(db.session.merge(newcomer))
    db.session.commit()
    json.dumps(ids["credential"])  # the credential is plain JSON


def _course(catalog, inst, code: str, teachers: list[str], *, publish: bool = True):
    data = catalog.CourseData(
        code=code,
        track="zh_plus",
        industry="automotive",
        instruction_languages=["zh_Hans", "en"],
        source_locale="zh_Hans",
        credits="3",
        learning_hours=48,
        teachers=teachers,
    )
    course = catalog.create_course(None, inst, data, {"zh_Hans": {"title": "汽车维修"}})
    module = catalog.add_module(None, course, "m1", {"zh_Hans": {"title": "第一单元"}}, check=False)
    catalog.add_lesson(
        None, module, "l1", "text", {"zh_Hans": {"title": "第一课", "body": "发动机"}}, check=False
    )
    if publish:
        catalog.approve(None, course, check=False)
    return course
