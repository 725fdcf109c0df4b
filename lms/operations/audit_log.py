"""Searching and exporting the audit log.

Events are written by every domain through ``lms.core.audit.record`` and never changed (the
ORM and a database trigger refuse it). Platform administrators search every event;
registrars and institution administrators the events about their institutions' objects.
Which objects belong to an institution is said per object type in ``SCOPES``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, String, and_, cast, false, or_, select

from lms.accounts.models import Institution, Membership, User
from lms.assessment.models import Assessment, Attempt, ManualGrade, Response
from lms.catalog.models import Course
from lms.core.errors import ValidationError, field_error
from lms.core.extensions import db
from lms.core.models import AuditEvent
from lms.core.security import Role, require
from lms.credits.models import (
    Agreement,
    CreditRecord,
    CreditSystem,
    GradeScale,
    RecognitionRequest,
)
from lms.enrolment.models import Enrolment, SelectionAgreement
from lms.live.models import LiveSession
from lms.media.models import MediaAsset
from lms.transcripts.models import Transcript

Ids = set[int]


def _sid(column: Any) -> Any:
    return cast(column, String)


def _course_ids(ids: Ids) -> Select:
    return select(Course.id).where(Course.institution_id.in_(ids))


def _member_ids(ids: Ids) -> Select:
    return select(Membership.user_id).where(Membership.institution_id.in_(ids))


#: object type -> the ids (as text) of such objects belonging to any of the institutions
SCOPES: dict[str, Callable[[Ids], Select]] = {
    "institution": lambda ids: select(_sid(Institution.id)).where(Institution.id.in_(ids)),
    "user": lambda ids: select(_sid(User.id)).where(User.id.in_(_member_ids(ids))),
    "membership": lambda ids: select(_sid(Membership.id)).where(Membership.institution_id.in_(ids)),
    "course": lambda ids: select(_sid(Course.id)).where(Course.institution_id.in_(ids)),
    "enrolment": lambda ids: select(_sid(Enrolment.id)).where(
        Enrolment.course_id.in_(_course_ids(ids))
    ),
    "assessment": lambda ids: select(_sid(Assessment.id)).where(
        Assessment.course_id.in_(_course_ids(ids))
    ),
    "attempt": lambda ids: (
        select(_sid(Attempt.id))
        .join(Assessment, Assessment.id == Attempt.assessment_id)
        .where(Assessment.course_id.in_(_course_ids(ids)))
    ),
    "attempt_response": lambda ids: (
        select(_sid(Response.id))
        .join(Attempt, Attempt.id == Response.attempt_id)
        .join(Assessment, Assessment.id == Attempt.assessment_id)
        .where(Assessment.course_id.in_(_course_ids(ids)))
    ),
    "manual_grade": lambda ids: select(_sid(ManualGrade.id)).where(
        ManualGrade.course_id.in_(_course_ids(ids))
    ),
    "live_session": lambda ids: select(_sid(LiveSession.id)).where(
        LiveSession.course_id.in_(_course_ids(ids))
    ),
    "media_asset": lambda ids: select(_sid(MediaAsset.id)).where(
        MediaAsset.owner_id.in_(_member_ids(ids))
    ),
    "selection_agreement": lambda ids: select(_sid(SelectionAgreement.id)).where(
        or_(SelectionAgreement.host_id.in_(ids), SelectionAgreement.partner_id.in_(ids))
    ),
    "agreement": lambda ids: select(_sid(Agreement.id)).where(
        or_(Agreement.source_id.in_(ids), Agreement.target_id.in_(ids))
    ),
    "credit_record": lambda ids: select(_sid(CreditRecord.id)).where(
        CreditRecord.institution_id.in_(ids)
    ),
    "recognition_request": lambda ids: select(_sid(RecognitionRequest.id)).where(
        RecognitionRequest.target_id.in_(ids)
    ),
    "grade_scale": lambda ids: select(_sid(GradeScale.id)).where(
        GradeScale.institution_id.in_(ids)
    ),
    "credit_system": lambda ids: select(_sid(CreditSystem.id)).where(
        CreditSystem.institution_id.in_(ids)
    ),
    "transcript": lambda ids: select(_sid(Transcript.id)).where(Transcript.institution_id.in_(ids)),
    "credential": lambda ids: select(Transcript.credential_id).where(
        Transcript.institution_id.in_(ids)
    ),
}

MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class Filters:
    """What a search narrows to; empty values do not narrow. Dates are whole UTC days."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(cls, args: Any) -> Filters:
        """From query-string values; a date that is not ``YYYY-MM-DD`` is a field error."""
        errors: list[ValidationError] = []
        days: dict[str, date | None] = {}
        for name in ("since", "until"):
            raw = (args.get(name) or "").strip()
            try:
                days[name] = date.fromisoformat(raw) if raw else None
            except ValueError:
                errors.append(field_error(name, _("Please enter a valid date.")))
        if errors:
            raise ValidationError(errors=[e for exc in errors for e in exc.errors])
        if days["since"] and days["until"] and days["since"] > days["until"]:
            raise field_error("until", _("The end date is before the start date."))
        return cls(
            actor=(args.get("actor") or "").strip()[:320],
            action=(args.get("action") or "").strip()[:80],
            object_type=(args.get("object_type") or "").strip()[:40],
            object_id=(args.get("object_id") or "").strip()[:80],
            since=days["since"],
            until=days["until"],
        )

    def as_args(self) -> dict[str, str]:
        out = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in out.items() if v}


def _visible_to(viewer: User) -> ColumnElement[bool] | None:
    """None when the viewer sees everything, else the condition on events they may see."""
    if viewer.is_platform_admin:
        return None
    ids = viewer.institutions_with(Role.ADMIN, Role.REGISTRAR)
    if not ids:
        return false()
    return or_(
        *(
            and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(scope(ids)))
            for kind, scope in SCOPES.items()
        )
    )


def search(viewer: User, filters: Filters) -> Select:
    """The events ``viewer`` may see that match ``filters``, newest first."""
    require(viewer, "audit.view")
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    visible = _visible_to(viewer)
    if visible is not None:
        stmt = stmt.where(visible)
    if filters.actor:
        if filters.actor.isdigit():
            stmt = stmt.where(AuditEvent.actor_id == int(filters.actor))
        else:
            stmt = stmt.where(AuditEvent.actor_label.ilike(f"%{_like(filters.actor)}%", "\\"))
    if filters.action:
        stmt = stmt.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.object_type:
        stmt = stmt.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(AuditEvent.object_id == filters.object_id)
    if filters.since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        stmt = stmt.where(AuditEvent.at < end)
    return stmt


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def object_types() -> list[str]:
    return sorted(SCOPES)


def as_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "remote_addr": event.remote_addr,
    }


CSV_HEADER = (
    "id",
    "at_utc",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "reason",
    "before",
    "after",
    "remote_addr",
)


def csv_rows(stmt: Select) -> Iterator[list[Any]]:
    """Rows for ``lms.core.export.csv_response`` (at most ``MAX_EXPORT_ROWS``)."""
    import json

    for event in db.session.scalars(stmt.limit(MAX_EXPORT_ROWS)):
        yield [
            event.id,
            event.at.isoformat().replace("+00:00", "Z"),
            event.actor_id or "",
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.reason,
            json.dumps(event.before, ensure_ascii=False, sort_keys=True) if event.before else "",
            json.dumps(event.after, ensure_ascii=False, sort_keys=True) if event.after else "",
            event.remote_addr,
        ]
