"""Issuing transcripts: a frozen, versioned snapshot of a student's standing credit records
at an institution, signed as a CLR 2.0 ``ClrCredential`` (eddsa-jcs-2022), with a
revocation bit in the institution's status list and a short verification code for printed
copies. A re-issue is a new version that supersedes the previous one; withdrawal is
revocation. Nothing issued is ever edited."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import Institution, User
from lms.core.audit import record
from lms.core.db import serialise_writes, utcnow
from lms.core.errors import Conflict, NotFound, PermissionDenied, field_error
from lms.core.extensions import db
from lms.core.security import Role, can, require
from lms.credits import ledger
from lms.credits import services as credits
from lms.transcripts import statuslist, verify
from lms.transcripts.credential import (
    CourseResult,
    SourceInstitution,
    TranscriptInput,
    issue_transcript,
)
from lms.transcripts.did import did_for
from lms.transcripts.models import TRANSCRIPT_STATUSES, Transcript

ISSUE = "transcripts.issue"
#: Crockford's base32: no I, L, O or U, so a printed code is read back without confusion
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
TITLE = "成绩单 Transcript of records"


# ---------------------------------------------------------------------------- codes


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _n in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``7K3M-Q9XA-2BDF`` for reading aloud and printing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(typed: str) -> str:
    """A code as typed (any case, spaces or dashes; O for 0, I or L for 1) in stored form."""
    cleaned = re.sub(r"[\s\-]", "", (typed or "").upper())
    return cleaned.translate(str.maketrans("OIL", "011"))


def by_code(typed: str) -> Transcript:
    """The transcript a verification code stands for."""
    code = normalise_code(typed)
    transcript = None
    if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code):
        transcript = db.session.scalar(select(Transcript).filter_by(verification_code=code))
    if transcript is None:
        raise NotFound(_("No transcript has this verification code."))
    return transcript


# ---------------------------------------------------------------------------- snapshot


def _scale_name(ref: str) -> str:
    if not ref:
        return ""
    try:
        return credits.get_scale(ref).name_in("en")[0]
    except NotFound:
        return ref


def _institution_name(institution: Institution) -> str:
    return institution.name_in(institution.default_locale)[0] or institution.slug


def _result(rec: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "record": rec.id,
        "kind": rec.kind,
        "code": rec.course_code,
        "title": rec.title,
        "credits": str(rec.credits),
        "credit_system": rec.credit_system,
        "grade": rec.grade,
        "grade_scale": _scale_name(rec.grade_scale),
        "grade_source": rec.grade_source,
        "completed_on": rec.completed_on.isoformat(),
        "source": None,
    }
    source = rec.source_record
    if source is not None:
        out["source"] = {
            "institution": _institution_name(source.institution),
            "did": did_for(source.institution),
            "country": source.institution.country,
            "code": source.course_code,
            "title": source.title,
            "credits": str(source.credits),
            "credit_system": source.credit_system,
            "grade": source.grade,
            "grade_scale": _scale_name(source.grade_scale),
        }
    return out


def snapshot(student: User, institution: Institution) -> dict[str, Any]:
    """What the transcript states, frozen: the student's names, the institution, its credit
    system, and every standing credit record in its ledger (earned there or recognised,
    with the source institution's course, credits and grade)."""
    records = ledger.standing(student, institution)
    if not records:
        raise field_error(
            "student", _("This student has no credit at this institution to put on a transcript.")
        )
    settings = credits.settings_for(institution)
    return {
        "student": {
            "email": student.email,
            "name_native": student.name_native or student.display_name,
            "name_latin": student.name_latin or student.display_name,
            "country": student.country,
            "locale": student.locale,
        },
        "institution": {
            "slug": institution.slug,
            "name": _institution_name(institution),
            "names": dict(institution.names),
            "country": institution.country,
        },
        "credit_system": settings.credit_system.ref if settings.credit_system else "",
        "results": [_result(r) for r in records],
        "total_credits": str(sum((r.credits for r in records), Decimal(0))),
    }


def _course_result(item: dict[str, Any]) -> CourseResult:
    source = item.get("source")
    description = item["title"]
    if source:
        description = (
            f"{item['title']} — recognised from {source['code']} {source['title']}, "
            f"{source['institution']}: {source['credits']} {source['credit_system']}, "
            f"grade {source['grade']} ({source['grade_scale']})"
        )
    return CourseResult(
        code=item["code"],
        title=item["title"],
        credits_available=Decimal(item["credits"]),
        credits_earned=Decimal(item["credits"]),
        grade=item["grade"],
        grade_scale=item["grade_scale"] or item["grade"],
        credit_system=item["credit_system"],
        completed_on=date.fromisoformat(item["completed_on"]),
        description=description,
        source_institution=(
            SourceInstitution(
                name=source["institution"], id=source["did"], country=source["country"]
            )
            if source
            else None
        ),
    )


# ---------------------------------------------------------------------------- issuing


def _student_id(student: User) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"lms-student:{student.id}"))


def default_institution(student: User) -> Institution:
    """The institution a student studies at (their first active student membership)."""
    for membership in student.active_memberships():
        if membership.role == Role.STUDENT:
            return membership.institution
    raise field_error("institution", _("Please choose an institution."))


def latest(student: User, institution: Institution) -> Transcript | None:
    return db.session.scalar(
        select(Transcript)
        .filter_by(student_id=student.id, institution_id=institution.id)
        .order_by(Transcript.version.desc())
        .limit(1)
    )


def issue(
    actor: User | None, student: User, institution: Institution, *, now: datetime | None = None
) -> Transcript:
    """Issue (or re-issue) the transcript of ``student`` at ``institution`` (its registrars
    and administrators). The previous valid version becomes ``superseded``; the new one is
    signed with the institution's active key and gets a status entry and a verification
    code. Audited. Issuances serialise (on SQLite, ``BEGIN IMMEDIATE`` before the ledger is
    read), so two at once never fail with "database is locked"."""
    if actor is not None:
        require(actor, ISSUE, institution)
    serialise_writes()
    now = now or utcnow()
    frozen = snapshot(student, institution)
    previous = latest(student, institution)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    data = TranscriptInput(
        credential_id=credential_id,
        title=TITLE,
        student_id=_student_id(student),
        name_native=frozen["student"]["name_native"],
        name_latin=frozen["student"]["name_latin"],
        institution=institution,
        credit_system=frozen["credit_system"],
        results=[_course_result(item) for item in frozen["results"]],
        issued_at=now,
    )
    signed = issue_transcript(data)
    code = new_code()
    while db.session.scalar(select(Transcript.id).filter_by(verification_code=code)):
        code = new_code()
    transcript = Transcript(
        public_id=uuid.uuid4().hex,
        student_id=student.id,
        institution_id=institution.id,
        version=(previous.version + 1) if previous else 1,
        supersedes=previous,
        status="valid",
        credential_id=credential_id,
        verification_code=code,
        snapshot=frozen,
        signed_credential=json.dumps(signed, ensure_ascii=False),
        issued_by_id=getattr(actor, "id", None),
        issued_at=now,
    )
    if previous is not None and previous.status == "valid":
        previous.status = "superseded"
    db.session.add(transcript)
    db.session.flush()
    record(
        actor,
        "transcripts.issued",
        "transcript",
        transcript.public_id,
        after={
            "student": student.email,
            "institution": institution.slug,
            "version": transcript.version,
            "credential": credential_id,
            "supersedes": previous.public_id if previous else None,
            "results": len(frozen["results"]),
        },
    )
    return transcript


def revoke(
    actor: User | None, transcript: Transcript, *, reason: str, now: datetime | None = None
) -> Transcript:
    """Withdraw a transcript: its status bit is set (audited by the status list) and it is
    marked revoked. A reason is required; a transcript is revoked once."""
    if actor is not None:
        require(actor, "transcripts.revoke", transcript.institution)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Give a reason for revoking the transcript."))
    if transcript.status == "revoked":
        raise Conflict(_("This credential is already revoked."))
    now = now or utcnow()
    statuslist.revoke(actor, transcript.credential_id, reason=reason, now=now)
    transcript.status = "revoked"
    transcript.revoked_at = now
    transcript.revoke_reason = reason[:1000]
    db.session.flush()
    return transcript


def get(public_id: str) -> Transcript:
    transcript = db.session.scalar(select(Transcript).filter_by(public_id=public_id))
    if transcript is None:
        raise NotFound(_("No transcript with this identifier."))
    return transcript


def transcripts_of(student: User) -> list[Transcript]:
    return list(
        db.session.scalars(
            select(Transcript)
            .filter_by(student_id=student.id)
            .order_by(Transcript.institution_id, Transcript.version.desc())
        )
    )


def issued_by(institution: Institution, *, status: str = "", student: str = "") -> Select:
    """The institution's transcripts, newest first (a statement to page), optionally of one
    status and of students whose e-mail or name contains ``student``."""
    stmt = (
        select(Transcript)
        .filter_by(institution_id=institution.id)
        .options(selectinload(Transcript.student))
        .order_by(Transcript.issued_at.desc(), Transcript.id.desc())
    )
    if status in TRANSCRIPT_STATUSES:
        stmt = stmt.filter_by(status=status)
    needle = (student or "").strip().casefold()
    if needle:
        stmt = stmt.join(Transcript.student).where(
            or_(
                User.email.contains(needle, autoescape=True),
                func.lower(User.display_name).contains(needle, autoescape=True),
                func.lower(User.name_latin).contains(needle, autoescape=True),
                User.name_native.contains(needle, autoescape=True),
            )
        )
    return stmt


def readable(user: User, transcript: Transcript) -> Transcript:
    """The transcript, if ``user`` is its student or a registrar or administrator of the
    issuing institution; others are refused as if it did not exist."""
    if user.id != transcript.student_id and not can(user, ISSUE, transcript.institution):
        raise PermissionDenied()
    return transcript


def credential(transcript: Transcript) -> dict[str, Any]:
    """The signed credential exactly as issued."""
    return json.loads(transcript.signed_credential)


def verify_issued(transcript: Transcript) -> dict[str, Any]:
    """Verify the stored credential as a verifier would (status bit, supersession)."""
    return verify.verify_credential(credential(transcript), resolver=verify.platform_resolver)


def is_superseded(credential_id: str) -> bool:
    """The ``superseded`` hook of ``lms.transcripts.verify``: a newer version replaced it."""
    return (
        db.session.scalar(
            select(Transcript.id).filter_by(credential_id=credential_id, status="superseded")
        )
        is not None
    )
