"""xAPI 1.0.3 statements from learning events.

Each receiver below listens to a signal of a lower domain (enrolment, lessons, videos,
assessment attempts, live attendance) and writes one statement in the same transaction as
the event, so a rolled-back event leaves no statement. A statement's id is a UUID derived
(uuid5) from the event's identity, so the same event never yields two statements however
often the signal is sent.

- actor: an Agent identified by an ``account`` — the platform's base URL and a random,
  stable pseudonym (``XapiActor``); no e-mail, no name, no database id;
- verb: an ADL verb IRI with an ``en-US`` display;
- object: an Activity whose id is the platform URL of the course, lesson, assessment or
  live session, with its name in every locale it has;
- context: the enrolment's registration UUID, the course as parent, platform, language;
- result: score, success, completion, duration (ISO 8601) where the event has them;
- timestamp (when it happened) and stored (when recorded), RFC 3339 in UTC.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, false, or_, select

from lms.accounts.models import User
from lms.analytics.models import XapiActor, XapiStatement
from lms.catalog.models import Course, CourseTranslation, Lesson
from lms.core.db import insert_new, transaction_memo, utcnow
from lms.core.errors import field_error
from lms.core.extensions import db
from lms.core.security import Role, require, rule
from lms.enrolment import services as enrolment_services
from lms.enrolment.models import Enrolment, LessonProgress

VERSION = "1.0.3"
PLATFORM = "China-ASEAN Vocational Cloud LMS"

VERB_IRIS = {
    "registered": "http://adlnet.gov/expapi/verbs/registered",
    "launched": "http://adlnet.gov/expapi/verbs/launched",
    "progressed": "http://adlnet.gov/expapi/verbs/progressed",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "attempted": "http://adlnet.gov/expapi/verbs/attempted",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
    "attended": "http://adlnet.gov/expapi/verbs/attended",
}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "assessment": "http://adlnet.gov/expapi/activities/assessment",
    "meeting": "http://adlnet.gov/expapi/activities/meeting",
}
#: cmi5's progress extension (an integer percentage)
EXT_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
#: the xAPI video profile's playback position (seconds)
EXT_VIDEO_TIME = "https://w3id.org/xapi/video/extensions/time"
#: video milestones that produce a ``progressed`` statement
VIDEO_MILESTONES = (25, 50, 75)


# ---------------------------------------------------------------------------- formats


def base_url() -> str:
    """The platform's public address (``LMS_BASE_URL``): the home of actors' accounts and
    of every activity id, the same in requests, jobs and the CLI."""
    return str(current_app.config["BASE_URL"]).rstrip("/")


def namespace() -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, base_url() + "/xapi")


def statement_id(key: str) -> str:
    """The statement id for an event: uuid5 of the platform and the event's identity."""
    return str(uuid.uuid5(namespace(), key))


def rfc3339(moment: datetime) -> str:
    """``2027-03-01T02:30:00.000Z``: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_duration(seconds: float | int) -> str:
    """ISO 8601 duration, e.g. ``PT1H2M3S`` (``PT0S`` for nothing)."""
    total = max(0.0, float(seconds))
    hours, rest = divmod(int(total), 3600)
    minutes, secs = divmod(rest, 60)
    fraction = round(total - int(total), 2)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs or fraction or out == "PT":
        value = secs + fraction
        out += f"{value:g}S" if fraction else f"{secs}S"
    return out


def lang_tag(locale: str) -> str:
    """A Babel locale (``zh_Hans``) as an RFC 5646 tag (``zh-Hans``)."""
    return (locale or "und").replace("_", "-")


def language_map(texts: Mapping[str, str]) -> dict[str, str]:
    return {lang_tag(loc): text for loc, text in texts.items() if text}


# ---------------------------------------------------------------------------- parts


_ACTOR_NAME = select(XapiActor.name).where(XapiActor.user_id == bindparam("user"))


def actor_name(user: User) -> str:
    """The learner's pseudonym in statements, created on first use."""
    names = transaction_memo("xapi_actor")
    if user.id in names:
        return names[user.id]
    name = db.session.scalar(_ACTOR_NAME, {"user": user.id})
    if name is None:
        name = str(uuid.uuid4())
        if not insert_new(XapiActor, {"user_id": user.id, "name": name, "created_at": utcnow()}):
            # created meanwhile by a concurrent request
            name = db.session.scalar(_ACTOR_NAME, {"user": user.id})
    names[user.id] = name
    return name


def actor(user: User) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "account": {"homePage": base_url(), "name": actor_name(user)},
    }


def registration(enrolment: Enrolment) -> str:
    """One registration UUID per enrolment (a new one if the student enrols again after
    withdrawing)."""
    return statement_id(f"registration:{enrolment.id}:{rfc3339(enrolment.requested_at)}")


def _activity(iri: str, kind: str, names: Mapping[str, str]) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": ACTIVITY_TYPES[kind]}
    name = language_map(names)
    if name:
        definition["name"] = name
    return {"objectType": "Activity", "id": iri, "definition": definition}


#: a course's titles by locale, without loading its translations as objects
_TITLES = CourseTranslation.__table__.c
_COURSE_TITLES = select(_TITLES.locale, _TITLES.title).where(
    _TITLES.course_id == bindparam("course")
)


def course_activity(course: Course) -> dict[str, Any]:
    names = dict(db.session.execute(_COURSE_TITLES, {"course": course.id}).all())
    return _activity(f"{base_url()}/courses/{course.code}", "course", names or {"und": course.code})


def lesson_activity(lesson: Lesson) -> dict[str, Any]:
    course = lesson.module.course
    names = {t.locale: t.title for t in lesson.translations}
    return _activity(f"{base_url()}/courses/{course.code}/lessons/{lesson.key}", "lesson", names)


def assessment_activity(assessment: Any, course: Course) -> dict[str, Any]:
    return _activity(
        f"{base_url()}/assessments/{assessment.id}",
        "assessment",
        {course.source_locale: assessment.title},
    )


def session_activity(session: Any) -> dict[str, Any]:
    return _activity(f"{base_url()}/live/{session.id}", "meeting", session.titles or {})


def context(
    enrolment: Enrolment, course: Course, *, parent: bool, extensions: dict | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "registration": registration(enrolment),
        "platform": PLATFORM,
        "language": lang_tag(course.source_locale),
    }
    if parent:
        out["contextActivities"] = {"parent": [course_activity(course)]}
    if extensions:
        out["extensions"] = extensions
    return out


# ---------------------------------------------------------------------------- recording


def record(
    verb: str,
    *,
    key: str,
    user: User,
    enrolment: Enrolment,
    obj: dict[str, Any],
    timestamp: datetime,
    result: dict[str, Any] | None = None,
    parent: bool = True,
    extensions: dict[str, Any] | None = None,
) -> bool:
    """Store the statement for one event (``key`` is its identity), unless it is stored
    already: then nothing changes and False is returned."""
    sid = statement_id(key)
    course = enrolment.course
    stored = utcnow()
    body: dict[str, Any] = {
        "id": sid,
        "actor": actor(user),
        "verb": {"id": VERB_IRIS[verb], "display": {"en-US": verb}},
        "object": obj,
        "context": context(enrolment, course, parent=parent, extensions=extensions),
        "timestamp": rfc3339(timestamp),
        "stored": rfc3339(stored),
        "version": VERSION,
    }
    if result:
        body["result"] = result
    problems = validate_statement(body)
    if problems:  # a defect in the builders above, never the learner's doing
        raise ValueError(f"invalid xAPI statement {key}: {problems}")
    row = {
        "id": sid,
        "verb": verb,
        "user_id": user.id,
        "course_id": course.id,
        "timestamp": timestamp,
        "stored": stored,
        "body": body,
        "forward_attempts": 0,
        "last_error": "",
    }
    # a statement stored before (the same event, or a concurrent request) stays as it was
    if not insert_new(XapiStatement, row):
        return False
    from lms.analytics import tasks

    tasks.schedule_forwarding()
    return True


# ---------------------------------------------------------------------------- receivers


def on_enrolment_admitted(enrolment: Enrolment, now: datetime) -> None:
    """registered: a student was given a place in a course."""
    record(
        "registered",
        key=f"registered:{enrolment.id}:{rfc3339(enrolment.requested_at)}",
        user=enrolment.student,
        enrolment=enrolment,
        obj=course_activity(enrolment.course),
        timestamp=now,
        parent=False,
    )


def on_lesson_viewed(lesson: Lesson, user: User) -> None:
    """launched: an enrolled student opened a lesson (each opening is an event)."""
    found = enrolment_services.active_enrolment(user, lesson.module.course)
    if found is None:
        return
    now = utcnow()
    record(
        "launched",
        key=f"launched:{found.id}:{lesson.id}:{rfc3339(now)}",
        user=user,
        enrolment=found,
        obj=lesson_activity(lesson),
        timestamp=now,
    )


def on_video_progressed(
    progress: LessonProgress, duration: float | None, now: datetime, watched_before: int = 0
) -> None:
    """progressed: a video lesson passed 25, 50 or 75 per cent actually watched (only the
    milestones this heartbeat crossed are looked at, so a heartbeat costs nothing after)."""
    if not duration or duration <= 0:
        return
    percent = min(100, math.floor(100 * progress.seconds_watched / duration))
    before = min(100, math.floor(100 * watched_before / duration))
    enrolment = progress.enrolment
    for milestone in VIDEO_MILESTONES:
        if percent < milestone:
            break
        if before >= milestone:
            continue
        record(
            "progressed",
            key=f"progressed:lesson:{enrolment.id}:{progress.lesson_id}:{milestone}",
            user=enrolment.student,
            enrolment=enrolment,
            obj=lesson_activity(progress.lesson),
            timestamp=now,
            result={
                "duration": iso_duration(progress.seconds_watched),
                "extensions": {EXT_PROGRESS: milestone, EXT_VIDEO_TIME: progress.position},
            },
        )


def on_lesson_completed(progress: LessonProgress, now: datetime) -> None:
    """completed (the lesson), then progressed (the course's share of required lessons)."""
    enrolment = progress.enrolment
    result: dict[str, Any] = {"completion": True}
    if progress.seconds_watched:
        result["duration"] = iso_duration(progress.seconds_watched)
    record(
        "completed",
        key=f"completed:lesson:{enrolment.id}:{progress.lesson_id}",
        user=enrolment.student,
        enrolment=enrolment,
        obj=lesson_activity(progress.lesson),
        timestamp=now,
        result=result,
    )
    course_progress = enrolment_services.progress(enrolment)
    record(
        "progressed",
        key=f"progressed:course:{enrolment.id}:{course_progress.completed}",
        user=enrolment.student,
        enrolment=enrolment,
        obj=course_activity(enrolment.course),
        timestamp=now,
        parent=False,
        result={"extensions": {EXT_PROGRESS: course_progress.percent}},
    )


def _course_score(enrolment: Enrolment) -> dict[str, Any] | None:
    from lms.assessment import gradebook

    now = enrolment.finished_at or utcnow()
    percent = gradebook.student_result(enrolment.course, enrolment.student, now=now).final_percent
    if percent is None:
        return None
    percent = max(Decimal(0), min(Decimal(100), Decimal(percent)))
    return {"scaled": float(round(percent / 100, 4)), "raw": float(percent), "min": 0, "max": 100}


def on_enrolment_finished(enrolment: Enrolment) -> None:
    """completed (criteria met) or failed (the course closed with a criterion unmet)."""
    if enrolment.status not in ("completed", "failed"):
        return
    passed = enrolment.status == "completed"
    result: dict[str, Any] = {
        "completion": passed,
        "success": passed,
        "duration": iso_duration(enrolment.learning_seconds or 0),
    }
    score = _course_score(enrolment)
    if score is not None:
        result["score"] = score
    finished = enrolment.finished_at or utcnow()
    record(
        "completed" if passed else "failed",
        key=f"finished:{enrolment.id}:{rfc3339(finished)}",
        user=enrolment.student,
        enrolment=enrolment,
        obj=course_activity(enrolment.course),
        timestamp=finished,
        parent=False,
        result=result,
    )


def _attempt_context(attempt: Any) -> tuple[Course, Enrolment | None]:
    """The attempt's course and the student's enrolment (looked up once per transaction:
    a submission records two statements)."""
    seen = transaction_memo("xapi_attempt")
    key = (attempt.student_id, attempt.assessment.course_id)
    if key not in seen:
        course = attempt.assessment.course
        student = db.session.get(User, key[0])
        seen[key] = course, enrolment_services.find_enrolment(student, course)
    return seen[key]


def _attempt_duration(attempt: Any) -> str | None:
    if attempt.submitted_at is None or attempt.started_at is None:
        return None
    return iso_duration((attempt.submitted_at - attempt.started_at).total_seconds())


def on_attempt_submitted(attempt: Any) -> None:
    """attempted: an assessment attempt was submitted (by the student or at its deadline)."""
    course, found = _attempt_context(attempt)
    if found is None:
        return
    result: dict[str, Any] = {"completion": True}
    duration = _attempt_duration(attempt)
    if duration:
        result["duration"] = duration
    record(
        "attempted",
        key=f"attempted:{attempt.id}",
        user=found.student,
        enrolment=found,
        obj=assessment_activity(attempt.assessment, course),
        timestamp=attempt.submitted_at or utcnow(),
        result=result,
    )


def on_attempt_graded(attempt: Any, at: datetime) -> None:
    """passed / failed: the attempt's final score against the assessment's pass mark (a
    regrade that changes the score is a new event)."""
    course, found = _attempt_context(attempt)
    if found is None or attempt.score is None or not attempt.max_score:
        return
    score, top = Decimal(attempt.score), Decimal(attempt.max_score)
    passed = score / top * 100 >= Decimal(attempt.assessment.pass_percent)
    result: dict[str, Any] = {
        "score": {
            "scaled": float(round(max(Decimal(0), min(Decimal(1), score / top)), 4)),
            "raw": float(score),
            "min": 0,
            "max": float(top),
        },
        "success": passed,
        "completion": True,
    }
    duration = _attempt_duration(attempt)
    if duration:
        result["duration"] = duration
    record(
        "passed" if passed else "failed",
        key=f"graded:{attempt.id}:{score}",
        user=found.student,
        enrolment=found,
        obj=assessment_activity(attempt.assessment, course),
        timestamp=at,
        result=result,
    )


def on_attended(
    session: Any, user: User, occurrence: datetime, at: datetime, minutes: int | None
) -> None:
    """attended: an enrolled student joined a live-class occurrence (once per occurrence;
    the first of the join and the roll call decides, a roll call adds the duration)."""
    found = enrolment_services.active_enrolment(user, session.course)
    if found is None:
        return
    result = {"duration": iso_duration(minutes * 60)} if minutes else None
    record(
        "attended",
        key=f"attended:{session.id}:{user.id}:{rfc3339(occurrence)}",
        user=user,
        enrolment=found,
        obj=session_activity(session),
        timestamp=at,
        result=result,
        extensions={f"{base_url()}/xapi/extensions/occurrence": rfc3339(occurrence)},
    )


def connect() -> None:
    """Listen to the lower domains' signals (idempotent: blinker keeps one connection per
    receiver)."""
    from lms.assessment import signals as assessment_signals
    from lms.catalog import signals as catalog_signals
    from lms.enrolment import signals as enrolment_signals
    from lms.live import signals as live_signals

    enrolment_signals.enrolment_admitted.connect(on_enrolment_admitted)
    enrolment_signals.lesson_completed.connect(on_lesson_completed)
    enrolment_signals.video_progressed.connect(on_video_progressed)
    enrolment_signals.enrolment_finished.connect(on_enrolment_finished)
    catalog_signals.lesson_viewed.connect(on_lesson_viewed)
    assessment_signals.attempt_submitted.connect(on_attempt_submitted)
    assessment_signals.attempt_graded.connect(on_attempt_graded)
    live_signals.attended.connect(on_attended)


# ---------------------------------------------------------------------------- validation

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def _language_map(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict) or not value:
        problems.append(f"{where} must be a non-empty language map")
        return
    for tag, text in value.items():
        if not _LANG.match(str(tag)) or not isinstance(text, str):
            problems.append(f"{where} has an invalid entry {tag!r}")


def validate_statement(body: Mapping[str, Any]) -> list[str]:
    """What in ``body`` breaks the xAPI 1.0.3 statement rules this platform relies on
    (empty when none): ids, actor, verb, object, result, context, times, version."""
    problems: list[str] = []
    if not _UUID.match(str(body.get("id", ""))):
        problems.append("id must be a UUID")
    who = body.get("actor")
    if not isinstance(who, dict) or who.get("objectType", "Agent") != "Agent":
        problems.append("actor must be an Agent")
    else:
        ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in who]
        if len(ifis) != 1:
            problems.append("actor must have exactly one inverse functional identifier")
        account = who.get("account")
        if account is not None and not (
            isinstance(account, dict)
            and _IRI.match(str(account.get("homePage", "")))
            and isinstance(account.get("name"), str)
            and account["name"]
        ):
            problems.append("actor.account needs homePage (IRL) and name")
    verb = body.get("verb")
    if not isinstance(verb, dict) or not _IRI.match(str(verb.get("id", ""))):
        problems.append("verb.id must be an IRI")
    elif "display" in verb:
        _language_map(verb["display"], "verb.display", problems)
    obj = body.get("object")
    if not isinstance(obj, dict) or obj.get("objectType", "Activity") != "Activity":
        problems.append("object must be an Activity")
    elif not _IRI.match(str(obj.get("id", ""))):
        problems.append("object.id must be an IRI")
    elif "name" in (obj.get("definition") or {}):
        _language_map(obj["definition"]["name"], "object.definition.name", problems)
    result = body.get("result")
    if result is not None:
        score = result.get("score")
        if score is not None:
            scaled = score.get("scaled")
            if scaled is not None and not -1 <= scaled <= 1:
                problems.append("result.score.scaled must lie in [-1, 1]")
            low, high, raw = score.get("min"), score.get("max"), score.get("raw")
            if low is not None and high is not None and low > high:
                problems.append("result.score.min must not exceed max")
            if raw is not None and (
                (low is not None and raw < low) or (high is not None and raw > high)
            ):
                problems.append("result.score.raw must lie between min and max")
        for flag in ("success", "completion"):
            if flag in result and not isinstance(result[flag], bool):
                problems.append(f"result.{flag} must be a boolean")
        if "duration" in result and not _DURATION.match(str(result["duration"])):
            problems.append("result.duration must be an ISO 8601 duration")
    ctx = body.get("context")
    if ctx is not None and "registration" in ctx and not _UUID.match(str(ctx["registration"])):
        problems.append("context.registration must be a UUID")
    for field in ("timestamp", "stored"):
        if field in body and not _TIMESTAMP.match(str(body[field])):
            problems.append(f"{field} must be an RFC 3339 timestamp")
    if "version" in body and not re.match(r"^1\.0(\.\d+)?$", str(body["version"])):
        problems.append("version must be 1.0.x")
    return problems


# ---------------------------------------------------------------------------- export


@rule("xapi.export")
def _export(user: User, course: Course | None) -> bool:
    """Export learning records: the course's teachers and its institution's administrators
    and registrars (platform administrators always). Without a course: anyone who may
    export some course."""
    institutions = user.institutions_with(Role.ADMIN, Role.REGISTRAR)
    if course is None:
        return bool(institutions) or bool(_taught_course_ids(user))
    return course.institution_id in institutions or any(t.id == user.id for t in course.teachers)


def _taught_course_ids(user: User) -> list[int]:
    from lms.catalog.models import course_teachers

    return list(
        db.session.scalars(
            select(course_teachers.c.course_id).where(course_teachers.c.user_id == user.id)
        )
    )


def export_query(
    user: User | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    verb: str | None = None,
    course: Course | None = None,
) -> Select:
    """The statements ``user`` may export, oldest stored first (ties by id), filtered like
    the xAPI statement resource: ``since`` / ``until`` on ``stored`` (since exclusive,
    until inclusive), a verb (short name or IRI), a course. Raises ``PermissionDenied``
    for a user who may export nothing (or not that course). ``user`` None is the operator
    at the command line, who sees everything."""
    if user is not None:
        require(user, "xapi.export", course)
    stmt = select(XapiStatement).order_by(XapiStatement.stored, XapiStatement.id)
    if course is not None:
        stmt = stmt.where(XapiStatement.course_id == course.id)
    elif user is not None and not user.is_platform_admin:
        institutions = user.institutions_with(Role.ADMIN, Role.REGISTRAR)
        own = Course.institution_id.in_(institutions) if institutions else false()
        stmt = stmt.join(Course, Course.id == XapiStatement.course_id).where(
            or_(own, XapiStatement.course_id.in_(_taught_course_ids(user)))
        )
    if since is not None:
        stmt = stmt.where(XapiStatement.stored > since)
    if until is not None:
        stmt = stmt.where(XapiStatement.stored <= until)
    if verb:
        short = {iri: name for name, iri in VERB_IRIS.items()}.get(verb, verb)
        if short not in VERB_IRIS:
            raise field_error("verb", _("Unknown verb: %(verb)s", verb=verb))
        stmt = stmt.where(XapiStatement.verb == short)
    return stmt
