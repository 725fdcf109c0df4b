"""A person's data: export everything the platform holds about them, and erase it.

Export is a JSON document (profile, roles, enrolments and progress, attempts and grades,
credits, recognition requests, transcripts' metadata, attendance, media they own, the audit
events about them or by them). Erasure pseudonymises the account and removes what is only
personal (calendar feed, playback state, tokens, e-mails), and keeps what must be kept:
issued transcripts (their frozen snapshots), the credit ledger, grades and the audit log,
which are records of the institutions, now pointing at an anonymous account."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from lms.accounts.models import ApiToken, Membership, User, UserSession
from lms.analytics.models import XapiActor
from lms.assessment.models import Attempt, ManualGrade, Response
from lms.core import text
from lms.core.audit import record
from lms.core.db import utcnow
from lms.core.errors import Conflict, PermissionDenied, field_error
from lms.core.extensions import db
from lms.core.models import AuditEvent, OutboxMessage
from lms.core.security import require
from lms.credits.models import CreditRecord, RecognitionRequest
from lms.enrolment.models import Enrolment, LessonProgress
from lms.live.models import AttendanceEvent, CalendarFeed
from lms.media.models import MediaAsset, MediaPosition, MediaPreference
from lms.offline.models import SyncOperation
from lms.transcripts.models import Transcript

#: columns never exported (secrets, or bulk that is not about the person)
_NEVER = {"password_hash", "token_hash", "token", "signed_credential", "snapshot", "layout"}
FORMAT_VERSION = 1
#: the lists of an export, in order
SECTIONS = (
    "memberships",
    "enrolments",
    "progress",
    "attempts",
    "responses",
    "manual_grades",
    "credit_records",
    "recognition_requests",
    "transcripts",
    "attendance",
    "media_assets",
    "playback_positions",
    "audit_events",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: Any, *, skip: set[str] = frozenset()) -> dict[str, Any]:
    return {
        col.key: _plain(getattr(obj, col.key))
        for col in obj.__mapper__.column_attrs
        if col.key not in _NEVER and col.key not in skip
    }


def _rows(model: Any, *where: Any, skip: set[str] = frozenset()) -> list[dict[str, Any]]:
    stmt = select(model).where(*where)
    pk = model.__mapper__.primary_key[0]
    return [_row(o, skip=skip) for o in db.session.scalars(stmt.order_by(pk))]


def export_personal_data(actor: User, user: User) -> dict[str, Any]:
    """Everything held about ``user``, for the person themselves or an administrator of
    their institution. Secrets (password hash, token hashes, feed tokens) are left out."""
    require(actor, "privacy.export", user)
    enrolment_ids = select(Enrolment.id).where(Enrolment.student_id == user.id)
    attempt_ids = select(Attempt.id).where(Attempt.student_id == user.id)
    about_them = or_(
        AuditEvent.actor_id == user.id,
        (AuditEvent.object_type == "user") & (AuditEvent.object_id == str(user.id)),
    )
    data = {
        "format": "lms-personal-data",
        "format_version": FORMAT_VERSION,
        "generated_at": _plain(utcnow()),
        "profile": _row(user),
        "memberships": _rows(Membership, Membership.user_id == user.id),
        "enrolments": _rows(Enrolment, Enrolment.student_id == user.id),
        "progress": _rows(LessonProgress, LessonProgress.enrolment_id.in_(enrolment_ids)),
        "attempts": _rows(Attempt, Attempt.student_id == user.id),
        "responses": _rows(Response, Response.attempt_id.in_(attempt_ids)),
        "manual_grades": _rows(ManualGrade, ManualGrade.student_id == user.id),
        "credit_records": _rows(CreditRecord, CreditRecord.student_id == user.id),
        "recognition_requests": _rows(RecognitionRequest, RecognitionRequest.student_id == user.id),
        "transcripts": _rows(Transcript, Transcript.student_id == user.id),
        "attendance": _rows(AttendanceEvent, AttendanceEvent.user_id == user.id),
        "media_assets": _rows(MediaAsset, MediaAsset.owner_id == user.id),
        "playback_positions": _rows(MediaPosition, MediaPosition.user_id == user.id),
        "audit_events": _rows(AuditEvent, about_them),
    }
    record(actor, "privacy.exported", "user", user.id)
    return data


def erase_personal_data(actor: User, user: User, *, confirm_email: str) -> None:
    """Erase a person's personal data; ``confirm_email`` must repeat their address.

    The account row stays (transcripts, the credit ledger, grades and audit events point at
    it) but loses its name, address, country, language and password, and is deactivated:
    its sessions and tokens end at once. The issued transcripts keep the frozen snapshot the
    institution signed, and the ledger its records — an institution must be able to confirm
    what it certified. The erasure itself is audited without the erased details."""
    require(actor, "privacy.erase", user)
    if user.id == actor.id or user.is_platform_admin:
        raise PermissionDenied(_("This account cannot be erased here."))
    if user.erased_at is not None:
        raise Conflict(_("This person's data has already been erased."), slug="already-erased")
    try:
        confirmed = text.email(confirm_email or "")
    except text.TextError:
        confirmed = ""
    if confirmed != user.email:
        raise field_error("confirm_email", _("Type the person's e-mail address to confirm."))
    old_email = user.email
    user.email = f"erased-{user.id}@erased.invalid"
    user.display_name = f"#{user.id}"  # no name, in no language
    user.name_native = user.name_latin = user.country = user.locale = user.timezone = ""
    user.password_hash = "!erased"
    user.active = False
    user.auth_version += 1  # every session of the account ends
    user.erased_at = utcnow()
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    # the xAPI pseudonym's link to the account, queued offline operations, sign-in sessions
    for model in (
        CalendarFeed,
        MediaPosition,
        MediaPreference,
        XapiActor,
        SyncOperation,
        UserSession,
    ):
        db.session.execute(delete(model).where(model.user_id == user.id))
    db.session.execute(
        delete(Membership).where(Membership.user_id == user.id, Membership.status == "pending")
    )
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.to_address == old_email))
    record(actor, "privacy.erased", "user", user.id, after={"erased": True})
    db.session.flush()
