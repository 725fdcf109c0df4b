"""Enrolment: admission rules, seats and waitlists, course mutual selection, progress and
completion. The public face of the enrolment domain."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.accounts.models import Institution, User
from lms.catalog.models import Course, Lesson, Module, course_prerequisites
from lms.core import mail, text
from lms.core.audit import record
from lms.core.db import add_new, execute, serialise_writes
from lms.core.errors import Conflict, NotFound, PermissionDenied, ValidationError, field_error
from lms.core.extensions import db
from lms.core.security import Role, require
from lms.enrolment.models import (
    AUDIENCES,
    MODES,
    Cohort,
    Enrolment,
    EnrolmentPolicy,
    LessonProgress,
    SeatPool,
    SelectionAgreement,
)
from lms.enrolment.signals import (
    enrolment_admitted,
    enrolment_finished,
    lesson_completed,
    video_progressed,
)

#: statuses that count as "in the course" (may study, holds or waits for nothing)
ACTIVE = ("enrolled", "completed", "failed")
#: longest pause between two signs of activity still counted as learning time
ACTIVITY_GAP = timedelta(minutes=5)
#: a heartbeat may report at most this much more play than wall-clock time since the last
HEARTBEAT_SLACK = 5.0
FIRST_HEARTBEAT_MAX = 15.0

#: completion criteria from higher domains: name -> fn(enrolment) -> (met, detail) or None
#: when the criterion does not apply to the course
completion_checks: dict[str, Callable[[Enrolment], tuple[bool, str] | None]] = {}
#: things to show on the student's dashboard from higher domains (live sessions …):
#: fn(student, enrolments) -> list of {"when": datetime, "title": str, "url": str, "kind": str}
upcoming_sources: list[Callable[[User, list[Enrolment]], list[dict[str, Any]]]] = []


@dataclass
class EnrolResult:
    enrolment: Enrolment
    message: str

    @property
    def status(self) -> str:
        return self.enrolment.status


# ---------------------------------------------------------------------------- policies


def policy_for(course: Course) -> EnrolmentPolicy:
    """The course's admission and completion policy (the defaults when none was set)."""
    policy = db.session.get(EnrolmentPolicy, course.id)
    return policy or EnrolmentPolicy(
        course_id=course.id,
        mode="open",
        audience="institution",
        invitation_code_hash="",
        require_lessons=True,
        require_assessments=False,
        min_attendance_percent=None,
    )


def _code_hash(course: Course, code: str) -> str:
    return hashlib.sha256(f"{course.code}:{code.strip()}".encode()).hexdigest()


def set_policy(
    actor: User,
    course: Course,
    *,
    mode: str,
    audience: str,
    invitation_code: str | None = None,
    require_lessons: bool = True,
    require_assessments: bool = False,
    min_attendance_percent: int | None = None,
) -> EnrolmentPolicy:
    """Set how students are admitted and when the course counts as completed."""
    require(actor, "course.edit", course)
    errors = []
    if mode not in MODES:
        errors.append({"field": "mode", "message": _("This value is not allowed.")})
    if audience not in AUDIENCES:
        errors.append({"field": "audience", "message": _("This value is not allowed.")})
    if min_attendance_percent is not None and not 0 <= min_attendance_percent <= 100:
        errors.append(
            {"field": "min_attendance_percent", "message": _("Enter a percentage from 0 to 100.")}
        )
    existing = db.session.get(EnrolmentPolicy, course.id)
    if mode == "invitation" and not (
        invitation_code or (existing and existing.invitation_code_hash)
    ):
        errors.append(
            {"field": "invitation_code", "message": _("Set an invitation code for this mode.")}
        )
    if errors:
        raise ValidationError(_("Please correct the fields listed below."), errors=errors)
    policy = existing or EnrolmentPolicy(course_id=course.id)
    if existing is None:
        db.session.add(policy)
    before = {"mode": policy.mode, "audience": policy.audience}
    policy.mode, policy.audience = mode, audience
    if invitation_code:
        policy.invitation_code_hash = _code_hash(course, invitation_code)
    policy.require_lessons = require_lessons
    policy.require_assessments = require_assessments
    policy.min_attendance_percent = min_attendance_percent
    record(
        actor,
        "enrolment.policy_changed",
        "course",
        course.code,
        before=before,
        after={"mode": mode, "audience": audience},
    )
    db.session.flush()
    return policy


# ---------------------------------------------------------------------------- cohorts


def create_cohort(
    actor: User,
    course: Course,
    name: str,
    *,
    capacity: int | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    teachers: list[User] | None = None,
) -> Cohort:
    """A class (班级) of the course with its own teachers, dates and capacity."""
    require(actor, "course.edit", course)
    name = text.display(name or "")
    if not name:
        raise field_error("name", _("This field is required."))
    if capacity is not None and capacity < 0:
        raise field_error("capacity", _("Please enter a whole number."))
    if starts_on and ends_on and ends_on < starts_on:
        raise field_error("ends_on", _("The course must end after it starts."))
    if db.session.scalar(select(Cohort.id).filter_by(course_id=course.id, name=name)):
        raise field_error("name", _("This name is already used in this course."))
    for teacher in teachers or []:
        if not teacher.has_role(course.institution_id, Role.TEACHER):
            raise field_error(
                "teachers",
                _("%(email)s is not a teacher of this institution.", email=teacher.email),
            )
    cohort = Cohort(
        course_id=course.id,
        name=name,
        capacity=capacity,
        starts_on=starts_on,
        ends_on=ends_on,
        teachers=list(teachers or []),
    )
    db.session.add(cohort)
    db.session.flush()
    return cohort


def cohorts(course: Course) -> list[Cohort]:
    return list(
        db.session.scalars(select(Cohort).filter_by(course_id=course.id).order_by(Cohort.name))
    )


def get_cohort(course: Course, cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or cohort.course_id != course.id:
        raise field_error("cohort", _("No such class in this course."))
    return cohort


# ---------------------------------------------------------------------------- agreements


def create_agreement(
    actor: User,
    host: Institution,
    partner: Institution,
    *,
    term: str,
    valid_from: date,
    valid_to: date,
    quota: int,
    courses: list[Course],
) -> SelectionAgreement:
    """A course mutual-selection agreement, entered by the host institution's registrars
    or administrators: students of ``partner`` may enrol in ``courses`` of ``host``."""
    require(actor, "selection.manage", host)
    errors = []
    if host.id == partner.id:
        errors.append({"field": "partner", "message": _("Choose another institution.")})
    term = text.display(term or "")
    if not term:
        errors.append({"field": "term", "message": _("This field is required.")})
    if valid_to < valid_from:
        errors.append({"field": "valid_to", "message": _("The end must be after the start.")})
    if quota < 0:
        errors.append({"field": "quota", "message": _("Please enter a whole number.")})
    if any(c.institution_id != host.id for c in courses):
        errors.append(
            {"field": "courses", "message": _("Only the host institution's courses can be listed.")}
        )
    if errors:
        raise ValidationError(_("Please correct the fields listed below."), errors=errors)
    agreement = SelectionAgreement(
        host=host,
        partner=partner,
        term=term,
        valid_from=valid_from,
        valid_to=valid_to,
        quota=quota,
        taken=0,
        courses=courses,
    )
    db.session.add(agreement)
    try:
        db.session.flush()
    except IntegrityError:
        raise field_error("term", _("An agreement for this term already exists.")) from None
    record(
        actor,
        "selection.agreement_created",
        "selection_agreement",
        agreement.id,
        after={
            "host": host.slug,
            "partner": partner.slug,
            "term": term,
            "quota": quota,
            "courses": [c.code for c in courses],
        },
    )
    return agreement


def agreements_of(institution: Institution) -> Select:
    """Agreements where the institution hosts or sends students."""
    return (
        select(SelectionAgreement)
        .where(
            (SelectionAgreement.host_id == institution.id)
            | (SelectionAgreement.partner_id == institution.id)
        )
        .options(selectinload(SelectionAgreement.courses))
        .order_by(SelectionAgreement.valid_from.desc())
    )


def cross_enrolments(institution: Institution) -> Select:
    """Enrolments made through agreements, seen from either side."""
    return (
        select(Enrolment)
        .join(Enrolment.agreement)
        .where(
            (SelectionAgreement.host_id == institution.id)
            | (SelectionAgreement.partner_id == institution.id)
        )
        .options(selectinload(Enrolment.student), selectinload(Enrolment.course))
        .order_by(Enrolment.requested_at.desc())
    )


def _agreement_for(student: User, course: Course, today: date) -> SelectionAgreement | None:
    home = student.institutions_with(Role.STUDENT)
    if not home:
        return None
    return db.session.scalar(
        select(SelectionAgreement)
        .where(
            SelectionAgreement.host_id == course.institution_id,
            SelectionAgreement.partner_id.in_(home),
            SelectionAgreement.valid_from <= today,
            SelectionAgreement.valid_to >= today,
            SelectionAgreement.courses.any(Course.id == course.id),
        )
        .order_by(SelectionAgreement.valid_to)
    )


# ---------------------------------------------------------------------------- seats


_POOLS = SeatPool.__table__
_POOL = (_POOLS.c.course_id == bindparam("p_course")) & (_POOLS.c.scope == bindparam("p_scope"))
_POOL_ID = select(_POOLS.c.id).where(_POOL)
#: one seat taken (with no capacity, or while ``taken < capacity``) and given back
_TAKE = update(_POOLS).where(_POOL).values(taken=_POOLS.c.taken + 1)
_TAKE_BELOW = _TAKE.where(_POOLS.c.taken < bindparam("p_capacity"))
_GIVE_BACK = update(_POOLS).where(_POOL, _POOLS.c.taken > 0).values(taken=_POOLS.c.taken - 1)


def _make_pool(course: Course, scope: str) -> bool:
    """Create the seat pool of ``scope`` unless it exists; False when it was there already."""
    if db.session.scalar(_POOL_ID, {"p_course": course.id, "p_scope": scope}) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(SeatPool(course_id=course.id, scope=scope, taken=0))
    except IntegrityError:  # created meanwhile by a concurrent request
        pass
    return True


def _take(course: Course, scope: str, capacity: int | None) -> bool:
    """One conditional UPDATE: takes a seat of ``scope`` only while ``taken < capacity``
    (a pool is made on first use, so a course that never filled up needs no other query)."""
    params: dict[str, Any] = {"p_course": course.id, "p_scope": scope}
    stmt = _TAKE
    if capacity is not None:
        stmt, params["p_capacity"] = _TAKE_BELOW, capacity
    return execute(stmt, params).rowcount == 1 or (
        _make_pool(course, scope) and execute(stmt, params).rowcount == 1
    )


def _give_back(course: Course, scope: str) -> None:
    execute(_GIVE_BACK, {"p_course": course.id, "p_scope": scope})


def _take_quota(agreement_id: int) -> bool:
    stmt = (
        update(SelectionAgreement)
        .where(
            SelectionAgreement.id == agreement_id,
            SelectionAgreement.taken < SelectionAgreement.quota,
        )
        .values(taken=SelectionAgreement.taken + 1)
    )
    return db.session.execute(stmt).rowcount == 1


def _scopes(course: Course, cohort: Cohort | None) -> list[tuple[str, int | None]]:
    scopes: list[tuple[str, int | None]] = [("course", course.capacity)]
    if cohort is not None:
        scopes.append((f"cohort:{cohort.id}", cohort.capacity))
    return scopes


def _take_seats(course: Course, cohort: Cohort | None, agreement_id: int | None) -> bool:
    """Take every seat an enrolment needs (course, cohort, agreement quota), all or none."""
    scopes = _scopes(course, cohort)
    # a single seat's UPDATE takes it or changes nothing; only several need a savepoint
    several = len(scopes) > 1 or agreement_id is not None
    savepoint = db.session.begin_nested() if several else None
    taken = all(_take(course, s, capacity) for s, capacity in scopes) and (
        agreement_id is None or _take_quota(agreement_id)
    )
    if savepoint is not None and not taken:
        savepoint.rollback()  # give back what was taken before the full one
    elif savepoint is not None:
        savepoint.commit()
    return taken


def _give_back_seats(course: Course, cohort: Cohort | None, agreement_id: int | None) -> None:
    for scope, _capacity in _scopes(course, cohort):
        _give_back(course, scope)
    if agreement_id is not None:
        db.session.execute(
            update(SelectionAgreement)
            .where(SelectionAgreement.id == agreement_id, SelectionAgreement.taken > 0)
            .values(taken=SelectionAgreement.taken - 1)
        )


def _seat(enrolment: Enrolment) -> bool:
    taken = _take_seats(enrolment.course, enrolment.cohort, enrolment.agreement_id)
    if taken:
        enrolment.holds_seat = True
    return taken


def _unseat(enrolment: Enrolment) -> None:
    if not enrolment.holds_seat:
        return
    _give_back_seats(enrolment.course, enrolment.cohort, enrolment.agreement_id)
    enrolment.holds_seat = False


def seats_taken(course: Course) -> int:
    return (
        db.session.scalar(select(SeatPool.taken).filter_by(course_id=course.id, scope="course"))
        or 0
    )


# ---------------------------------------------------------------------------- enrolling


_ENROLMENT_OF = select(Enrolment).where(
    Enrolment.student_id == bindparam("student"), Enrolment.course_id == bindparam("course")
)


def find_enrolment(student: User, course: Course) -> Enrolment | None:
    return db.session.scalar(_ENROLMENT_OF, {"student": student.id, "course": course.id})


def get_enrolment(enrolment_id: int) -> Enrolment:
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound()
    return enrolment


def admission_route(
    student: User, course: Course, policy: EnrolmentPolicy, today: date
) -> SelectionAgreement | None:
    """How ``student`` may enrol: directly (None) or through the returned agreement.
    Raises ``PermissionDenied`` with the reason when neither applies."""
    if policy.audience == "public" or student.has_role(course.institution_id, Role.STUDENT):
        return None
    agreement = _agreement_for(student, course, today)
    if agreement is None:
        raise PermissionDenied(
            _(
                "This course is open to students of its institution and of partner institutions "
                "with a course-selection agreement; yours has none for it."
            )
        )
    return agreement


def why_not(student: User, course: Course, *, now: datetime) -> str | None:
    """The reason ``student`` cannot ask to enrol now, or None (for the course page)."""
    policy = policy_for(course)
    try:
        if policy.mode == "closed":
            raise Conflict(_("This course is not taking enrolments."))
        _check_window(course, now)
        admission_route(student, course, policy, now.date())
    except (Conflict, PermissionDenied) as exc:
        return exc.message
    return None


def _check_window(course: Course, now: datetime) -> None:
    if course.enrol_opens_at and now < course.enrol_opens_at:
        raise Conflict(_("Enrolment has not opened yet."), slug="enrolment-not-open")
    if course.enrol_closes_at and now >= course.enrol_closes_at:
        raise Conflict(_("Enrolment for this course has closed."), slug="enrolment-closed")


#: whether a course has prerequisites, without loading them (most have none)
_HAS_PREREQUISITES = (
    select(course_prerequisites.c.required_id)
    .where(course_prerequisites.c.course_id == bindparam("course"))
    .limit(1)
)


def _check_prerequisites(student: User, course: Course, locale: str) -> None:
    if db.session.scalar(_HAS_PREREQUISITES, {"course": course.id}) is None:
        return
    done = set(
        db.session.scalars(
            select(Enrolment.course_id).filter_by(student_id=student.id, status="completed")
        )
    )
    missing = [p for p in course.prerequisites if p.id not in done]
    if missing:
        names = ", ".join(p.title(locale)[0] for p in missing)
        raise Conflict(_("First complete: %(courses)s.", courses=names), slug="prerequisites-unmet")


def enrol(
    student: User,
    course: Course,
    *,
    now: datetime,
    cohort_id: int | None = None,
    invitation_code: str | None = None,
    locale: str = "en",
) -> EnrolResult:
    """Enrol a student, put them on the waitlist when a seat or their institution's quota
    is full, or record a request for the teacher's approval.

    Students of the offering institution (or anyone, for courses open to the public) enrol
    directly; students of other institutions only through a valid course mutual-selection
    agreement that lists the course. Seats are taken by conditional UPDATEs inside one
    transaction (``BEGIN IMMEDIATE`` on SQLite), and the (student, course) unique
    constraint stops double enrolment, so concurrent requests never oversell.

    The checks read what the request has loaded; the writes that follow are each
    conditional on the database as it is then (the seats by conditional UPDATEs, a new row
    by the unique key, a re-enrolment by its status), so on SQLite the writer's turn lasts
    for those few statements only."""
    if course.status != "published":
        raise NotFound(_("No course with this code."))
    policy = policy_for(course)
    if policy.mode == "closed":
        raise Conflict(_("This course is not taking enrolments."), slug="enrolment-closed")
    _check_window(course, now)
    agreement = admission_route(student, course, policy, now.date())
    existing = find_enrolment(student, course)
    if existing is not None and existing.status not in ("withdrawn", "rejected"):
        raise _already_enrolled()
    _check_prerequisites(student, course, locale)
    if policy.mode == "invitation":
        given = _code_hash(course, invitation_code or "")
        if not hmac.compare_digest(given, policy.invitation_code_hash):
            raise field_error("invitation_code", _("The invitation code is not correct."))
    cohort = get_cohort(course, cohort_id) if cohort_id else None
    agreement_id = agreement.id if agreement else None
    serialise_writes(keep_reads=True)
    seated = policy.mode != "approval" and _take_seats(course, cohort, agreement_id)
    status = "pending" if policy.mode == "approval" else "enrolled" if seated else "waitlisted"
    values = {
        "student_id": student.id,
        "course_id": course.id,
        "cohort_id": cohort.id if cohort else None,
        "status": status,
        "source": "agreement" if agreement else "direct",
        "agreement_id": agreement_id,
        "holds_seat": seated,
        "requested_at": now,
        "waitlisted_at": now if status == "waitlisted" else None,
        "enrolled_at": now if seated else None,
        "decided_at": now if seated else None,
        "decision_note": "",
        "finished_at": None,
    }
    enrolment = add_new(Enrolment, values) if existing is None else _reopen(existing, values)
    if enrolment is None:  # the same student's other request was first
        if seated:
            _give_back_seats(course, cohort, agreement_id)
        raise _already_enrolled()
    if seated:
        enrolment_admitted.send(enrolment, now=now)
    record(
        student,
        "enrolment.requested",
        "enrolment",
        enrolment.id,
        after={"course": course.code, "status": status, "agreement": agreement_id},
    )
    return EnrolResult(enrolment, _status_message(status))


def _already_enrolled() -> Conflict:
    return Conflict(
        _("You are already enrolled in this course or waiting for a place."),
        slug="already-enrolled",
    )


def _reopen(enrolment: Enrolment, values: dict[str, Any]) -> Enrolment | None:
    """A withdrawn or rejected enrolment made current again, unless it was meanwhile."""
    reopened = db.session.execute(
        update(Enrolment)
        .where(Enrolment.id == enrolment.id, Enrolment.status.in_(("withdrawn", "rejected")))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(enrolment)  # read again when used: the row is what the UPDATE made it
    return enrolment if reopened else None


def _status_message(status: str) -> str:
    if status == "enrolled":
        return _("You are enrolled.")
    if status == "waitlisted":
        return _(
            "The course is full: you are on the waiting list and will be enrolled when a "
            "place frees up."
        )
    return _("Your request is sent to the teacher for approval.")


def _admit(enrolment: Enrolment, now: datetime) -> str:
    if _seat(enrolment):
        enrolment.status = "enrolled"
        enrolment.enrolled_at = enrolment.decided_at = now
        db.session.flush()
        enrolment_admitted.send(enrolment, now=now)
    else:
        enrolment.status = "waitlisted"
        enrolment.waitlisted_at = now
    return _status_message(enrolment.status)


def decide(
    actor: User, enrolment: Enrolment, *, approve: bool, note: str = "", now: datetime
) -> Enrolment:
    """The teacher approves (enrolled, or waitlisted when full) or rejects a request; the
    student is told by e-mail in their language."""
    require(actor, "enrolment.manage", enrolment.course)
    serialise_writes()
    enrolment = db.session.get(Enrolment, enrolment.id)
    if enrolment.status != "pending":
        raise Conflict(_("This request was already decided."))
    before = enrolment.status
    enrolment.decision_note = text.display(note or "", multiline=True)[:1000]
    if approve:
        _admit(enrolment, now)
    else:
        enrolment.status = "rejected"
        enrolment.decided_at = now
    record(
        actor,
        "enrolment.decided",
        "enrolment",
        enrolment.id,
        before={"status": before},
        after={"status": enrolment.status},
        reason=enrolment.decision_note,
    )
    _tell(enrolment, "enrolment_decision")
    db.session.flush()
    return enrolment


def withdraw(actor: User, enrolment: Enrolment, *, now: datetime, reason: str = "") -> Enrolment:
    """Leave a course (the student, or a teacher on their behalf). The seat goes to the
    first student on the waitlist who can take it, who is told by e-mail."""
    require(actor, "enrolment.withdraw", enrolment)
    serialise_writes()
    enrolment = db.session.get(Enrolment, enrolment.id)
    if enrolment.status not in ("pending", "enrolled", "waitlisted"):
        raise Conflict(_("There is no current enrolment to withdraw from."))
    before = enrolment.status
    _unseat(enrolment)
    enrolment.status = "withdrawn"
    enrolment.decided_at = now
    record(
        actor,
        "enrolment.withdrawn",
        "enrolment",
        enrolment.id,
        before={"status": before},
        after={"status": "withdrawn"},
        reason=text.display(reason or "")[:1000],
    )
    db.session.flush()
    promote_waitlist(enrolment.course, now=now)
    return enrolment


def promote_waitlist(course: Course, *, now: datetime) -> list[Enrolment]:
    """Give free seats to waitlisted students in the order they joined the list. A student
    whose institution's quota is used up is passed over, not blocking those behind."""
    promoted = []
    waiting = db.session.scalars(
        select(Enrolment)
        .filter_by(course_id=course.id, status="waitlisted")
        .order_by(Enrolment.waitlisted_at, Enrolment.id)
    ).all()
    for enrolment in waiting:
        if not _seat(enrolment):
            if _course_full(enrolment):
                break
            continue
        enrolment.status = "enrolled"
        enrolment.enrolled_at = enrolment.decided_at = now
        db.session.flush()
        enrolment_admitted.send(enrolment, now=now)
        record(
            None,
            "enrolment.promoted",
            "enrolment",
            enrolment.id,
            before={"status": "waitlisted"},
            after={"status": "enrolled"},
        )
        _tell(enrolment, "waitlist_promotion")
        promoted.append(enrolment)
    db.session.flush()
    return promoted


def _course_full(enrolment: Enrolment) -> bool:
    capacity = enrolment.course.capacity
    return capacity is not None and seats_taken(enrolment.course) >= capacity


def _tell(enrolment: Enrolment, template: str) -> None:
    student = enrolment.student
    locale = student.locale or enrolment.course.institution.default_locale or "en"
    title = enrolment.course.title(locale)[0]
    mail.queue(
        student.email,
        locale,
        f"enrolment.{template}",
        f"enrolment/{template}",
        student=student,
        enrolment=enrolment,
        course_title=title,
    )


# ---------------------------------------------------------------------------- progress


def active_enrolment(student: User, course: Course) -> Enrolment | None:
    enrolment = find_enrolment(student, course)
    return enrolment if enrolment is not None and enrolment.status in ACTIVE else None


def _require_enrolled(student: User, lesson: Lesson) -> Enrolment:
    enrolment = active_enrolment(student, lesson.module.course)
    if enrolment is None:
        raise PermissionDenied(_("Enrol in this course to record your progress."))
    return enrolment


def _progress_row(enrolment: Enrolment, lesson: Lesson) -> LessonProgress:
    row = db.session.scalar(
        select(LessonProgress).filter_by(enrolment_id=enrolment.id, lesson_id=lesson.id)
    )
    if row is None:
        row = LessonProgress(
            enrolment=enrolment, lesson=lesson, position=0, seconds_watched=0, watched=[]
        )
        db.session.add(row)
    return row


def touch(enrolment: Enrolment, now: datetime) -> None:
    """Count learning time: the time since the last sign of activity, when it is short
    enough to be study rather than absence."""
    last = enrolment.last_activity_at
    if last is not None and timedelta(0) < now - last <= ACTIVITY_GAP:
        enrolment.learning_seconds = (enrolment.learning_seconds or 0) + int(
            (now - last).total_seconds()
        )
    enrolment.last_activity_at = now


def complete_lesson(student: User, lesson: Lesson, *, now: datetime) -> LessonProgress:
    """Mark a lesson done (idempotent) and see whether the course is now completed."""
    enrolment = _require_enrolled(student, lesson)
    row = _progress_row(enrolment, lesson)
    first = row.completed_at is None
    if first:
        row.completed_at = now
    touch(enrolment, now)
    db.session.flush()
    if first:
        lesson_completed.send(row, now=now)
    evaluate(enrolment, now=now)
    return row


def merge_intervals(intervals: list[list[float]]) -> list[list[float]]:
    merged: list[list[float]] = []
    for start, end in sorted([float(a), float(b)] for a, b in intervals if b > a):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def heartbeat(
    student: User,
    lesson: Lesson,
    *,
    position: float,
    start: float | None = None,
    end: float | None = None,
    duration: float | None = None,
    now: datetime,
) -> LessonProgress:
    """Record video playback: the resume position and the interval actually played since
    the last heartbeat. The server caps a reported interval by the wall-clock time since the
    previous heartbeat, so skipping ahead or a forged report does not count as watched.
    With the video's ``duration`` known, 90 % watched completes the lesson."""
    enrolment = _require_enrolled(student, lesson)
    for name, value in (("position", position), ("start", start), ("end", end)):
        if value is not None and not 0 <= value <= 24 * 3600:
            raise field_error(name, _("This value is out of range."))
    row = _progress_row(enrolment, lesson)
    watched_before = row.seconds_watched or 0
    row.position = int(position)
    if start is not None and end is not None and end > start:
        allowed = FIRST_HEARTBEAT_MAX
        if row.last_heartbeat_at is not None:
            allowed = (now - row.last_heartbeat_at).total_seconds() + HEARTBEAT_SLACK
        end = min(end, start + max(allowed, 0))
        row.watched = merge_intervals([*(row.watched or []), [start, end]])
        row.seconds_watched = int(sum(b - a for a, b in row.watched))
    row.last_heartbeat_at = now
    touch(enrolment, now)
    db.session.flush()
    video_progressed.send(row, duration=duration, now=now, watched_before=watched_before)
    if duration and row.completed_at is None and row.seconds_watched >= 0.9 * duration:
        row.completed_at = now
        db.session.flush()
        lesson_completed.send(row, now=now)
        evaluate(enrolment, now=now)
    db.session.flush()
    return row


def lesson_viewed(student: User, lesson: Lesson, *, now: datetime) -> None:
    """Opening a lesson counts as activity (learning time), not as completion."""
    enrolment = active_enrolment(student, lesson.module.course)
    if enrolment is not None:
        touch(enrolment, now)
        db.session.flush()


@dataclass
class CourseProgress:
    enrolment: Enrolment
    required: int
    completed: int
    next_lesson: Lesson | None

    @property
    def percent(self) -> int:
        return 100 if not self.required else round(100 * self.completed / self.required)


def progress(enrolment: Enrolment) -> CourseProgress:
    """Required lessons done, and the next lesson to study (in outline order)."""
    return progress_of([enrolment])[enrolment.id]


def progress_of(enrolments: list[Enrolment]) -> dict[int, CourseProgress]:
    """``progress`` for several enrolments with one query for what was completed."""
    done: dict[int, set[int]] = {e.id: set() for e in enrolments}
    rows = db.session.execute(
        select(LessonProgress.enrolment_id, LessonProgress.lesson_id).where(
            LessonProgress.enrolment_id.in_(done), LessonProgress.completed_at.is_not(None)
        )
    )
    for enrolment_id, lesson_id in rows:
        done[enrolment_id].add(lesson_id)
    out = {}
    for enrolment in enrolments:
        finished = done[enrolment.id]
        lessons = [lesson for m in enrolment.course.modules for lesson in m.lessons]
        required = [lesson for lesson in lessons if lesson.required]
        upcoming = next((lesson for lesson in lessons if lesson.id not in finished), None)
        out[enrolment.id] = CourseProgress(
            enrolment,
            len(required),
            sum(1 for lesson in required if lesson.id in finished),
            upcoming,
        )
    return out


def completed_lessons(enrolment: Enrolment) -> set[int]:
    return set(
        db.session.scalars(
            select(LessonProgress.lesson_id).where(
                LessonProgress.enrolment_id == enrolment.id,
                LessonProgress.completed_at.is_not(None),
            )
        )
    )


# ---------------------------------------------------------------------------- completion


def criteria(enrolment: Enrolment) -> list[tuple[str, bool, str]]:
    """Each completion criterion of the course: (name, met, detail)."""
    policy = policy_for(enrolment.course)
    out: list[tuple[str, bool, str]] = []
    if policy.require_lessons:
        p = progress(enrolment)
        out.append(
            (
                "lessons",
                p.completed >= p.required,
                _("%(done)d of %(total)d required lessons", done=p.completed, total=p.required),
            )
        )
    if policy.require_assessments and "assessments" in completion_checks:
        result = completion_checks["assessments"](enrolment)
        if result is not None:
            out.append(("assessments", *result))
    if policy.min_attendance_percent is not None and "attendance" in completion_checks:
        result = completion_checks["attendance"](enrolment)
        if result is not None:
            out.append(("attendance", *result))
    return out


def evaluate(enrolment: Enrolment, *, now: datetime, final: bool = False) -> str:
    """Mark the enrolment ``completed`` when every criterion is met; with ``final`` (the
    course has ended or the teacher closes it) an unmet criterion makes it ``failed``."""
    if enrolment.status != "enrolled" and not (final and enrolment.status == "failed"):
        return enrolment.status
    met = all(ok for _name, ok, _detail in criteria(enrolment))
    if met:
        enrolment.status, enrolment.finished_at = "completed", now
    elif final:
        enrolment.status, enrolment.finished_at = "failed", now
    else:
        return enrolment.status
    record(
        None,
        f"enrolment.{enrolment.status}",
        "enrolment",
        enrolment.id,
        after={"course": enrolment.course.code, "student": enrolment.student.email},
    )
    db.session.flush()
    enrolment_finished.send(enrolment)
    return enrolment.status


def finalize_course(actor: User | None, course: Course, *, now: datetime) -> dict[str, int]:
    """Close the course: every current enrolment becomes completed or failed."""
    if actor is not None:
        require(actor, "enrolment.manage", course)
    counts = {"completed": 0, "failed": 0}
    for enrolment in db.session.scalars(
        select(Enrolment).filter_by(course_id=course.id, status="enrolled")
    ):
        counts[evaluate(enrolment, now=now, final=True)] += 1
    return counts


# ---------------------------------------------------------------------------- listings


def my_enrolments(student: User) -> list[Enrolment]:
    return list(
        db.session.scalars(
            select(Enrolment)
            .filter_by(student_id=student.id)
            .where(Enrolment.status != "withdrawn")
            .options(
                selectinload(Enrolment.course).selectinload(Course.translations),
                selectinload(Enrolment.course)
                .selectinload(Course.modules)
                .selectinload(Module.lessons)
                .selectinload(Lesson.translations),
            )
            .order_by(Enrolment.requested_at.desc())
        )
    )


def roster(course: Course, cohort_id: int | None = None) -> list[Enrolment]:
    stmt = (
        select(Enrolment)
        .filter_by(course_id=course.id)
        .options(selectinload(Enrolment.student), selectinload(Enrolment.cohort))
        .order_by(Enrolment.status, Enrolment.requested_at)
    )
    if cohort_id:
        stmt = stmt.where(Enrolment.cohort_id == cohort_id)
    return list(db.session.scalars(stmt))


def completed_counts(course: Course) -> dict[int, int]:
    """Completed lessons per enrolment of a course, in one query."""
    rows = db.session.execute(
        select(LessonProgress.enrolment_id, func.count())
        .join(Enrolment, Enrolment.id == LessonProgress.enrolment_id)
        .where(Enrolment.course_id == course.id, LessonProgress.completed_at.is_not(None))
        .group_by(LessonProgress.enrolment_id)
    )
    return dict(rows.all())


def upcoming(student: User, enrolments: list[Enrolment]) -> list[dict[str, Any]]:
    items = [item for source in upcoming_sources for item in source(student, enrolments)]
    return sorted(items, key=lambda item: item["when"])
