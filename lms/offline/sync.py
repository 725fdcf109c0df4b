"""Applying what a student did offline: a batch of operations, each with a client-generated
UUID. Every operation goes through the same services as the online pages (progress, quiz
attempts), judged by the server's clock at the moment the batch arrives; each is answered
``applied``, ``duplicate`` (processed before: nothing changes) or ``rejected`` with the
translated reason. The (user, operation id) unique constraint makes a replay a no-op, even
when two tabs send the same batch at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from lms.accounts.models import User
from lms.assessment import attempts
from lms.catalog import services as catalog
from lms.core.db import serialise_writes
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.enrolment import services as enrolment
from lms.offline.models import OPERATION_KINDS, SyncOperation

#: the most operations one batch may carry (a client sends the rest in the next one)
MAX_BATCH = 200


class MalformedBatch(DomainError):
    status = 400
    slug = "malformed-batch"


class OperationSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "Client-generated UUID"})
    type = fields.String(required=True, validate=validate.OneOf(OPERATION_KINDS))
    lesson_id = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "lesson.complete"}
    )
    attempt_id = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "quiz.answer, quiz.submit"}
    )
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        metadata={"description": "Question id → answer, as in PUT /attempts/{id}/answers"},
    )
    form = fields.List(
        fields.Tuple((fields.String(), fields.String())),
        validate=validate.Length(max=2000),
        metadata={"description": "Or the attempt page's form fields as [name, value] pairs"},
    )
    made_at = fields.DateTime(
        metadata={
            "description": "When the student did it (kept for information only: the "
            "server's clock at arrival decides every deadline)"
        }
    )

    @validates_schema
    def _fits_type(self, data: dict[str, Any], **_kw: Any) -> None:
        if data["type"] == "lesson.complete" and "lesson_id" not in data:
            raise SchemaError(_("A lesson is needed."), "lesson_id")
        if data["type"].startswith("quiz.") and "attempt_id" not in data:
            raise SchemaError(_("An attempt is needed."), "attempt_id")
        if data["type"] == "quiz.answer" and "answers" not in data and "form" not in data:
            raise SchemaError(_("The answers are missing."), "answers")


class BatchSchema(Schema):
    operations = fields.List(
        fields.Nested(OperationSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH),
    )

    @validates_schema
    def _unique_ids(self, data: dict[str, Any], **_kw: Any) -> None:
        ids = [op["id"] for op in data.get("operations", [])]
        if len(set(ids)) != len(ids):
            raise SchemaError(_("An operation id appears twice in the batch."), "operations")


@dataclass
class OperationResult:
    id: str
    status: str  # applied | duplicate | rejected
    type: str
    reason: str = ""
    reason_type: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
            out["reason_type"] = self.reason_type
        out.update(self.extra)
        return out


def parse_batch(raw: Any) -> list[dict[str, Any]]:
    """Check the whole batch before anything is applied: a malformed batch is refused as a
    whole (400) and changes nothing."""
    if not isinstance(raw, dict):
        raise MalformedBatch(_("The batch must be a JSON object with a list of operations."))
    try:
        return BatchSchema().load(raw)["operations"]
    except SchemaError as exc:
        errors = []

        def walk(prefix: str, node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), value)
            elif isinstance(node, list):
                for item in node:
                    walk(prefix, item)
            else:
                errors.append({"field": prefix, "message": str(node)})

        walk("", exc.messages)
        detail = _("The batch is malformed; nothing was applied.")
        raise MalformedBatch(detail, errors=errors) from None


def apply_batch(
    user: User, operations: list[dict[str, Any]], *, now: datetime
) -> list[OperationResult]:
    """Apply a parsed batch in order, each operation in its own savepoint: a rejected one
    leaves nothing behind and does not stop the others."""
    serialise_writes()
    return [_apply_one(user, op, now) for op in operations]


def _apply_one(user: User, op: dict[str, Any], now: datetime) -> OperationResult:
    op_id = str(op["id"]).lower()
    kind = op["type"]
    done = _processed(user, op_id)
    if done is not None:
        return _duplicate(done, op_id, kind)
    try:
        with db.session.begin_nested():
            record = SyncOperation(
                user_id=user.id, operation_id=op_id, kind=kind, outcome="applied", received_at=now
            )
            db.session.add(record)
            db.session.flush()  # a concurrent twin fails here, on the unique constraint
            extra = _HANDLERS[kind](user, op, now)
            db.session.flush()
        return OperationResult(op_id, "applied", kind, extra=extra or {})
    except IntegrityError:
        done = _processed(user, op_id)
        if done is None:  # pragma: no cover - an integrity error of the operation itself
            raise
        return _duplicate(done, op_id, kind)
    except DomainError as exc:
        with db.session.begin_nested():
            db.session.add(
                SyncOperation(
                    user_id=user.id,
                    operation_id=op_id,
                    kind=kind,
                    outcome="rejected",
                    reason_slug=exc.slug,
                    reason=exc.message,
                    received_at=now,
                )
            )
        return OperationResult(op_id, "rejected", kind, exc.message, exc.slug)


def _processed(user: User, op_id: str) -> SyncOperation | None:
    return db.session.scalar(
        select(SyncOperation).where(
            SyncOperation.user_id == user.id, SyncOperation.operation_id == op_id
        )
    )


def _duplicate(done: SyncOperation, op_id: str, kind: str) -> OperationResult:
    return OperationResult(
        op_id,
        "duplicate",
        kind,
        _("This operation was received before; nothing was changed."),
        "duplicate",
        extra={"original_status": done.outcome},
    )


# ------------------------------------------------------------------------------ handlers


def _lesson_complete(user: User, op: dict[str, Any], now: datetime) -> dict[str, Any]:
    lesson = catalog.get_lesson_by_id(op["lesson_id"])
    catalog.get_visible_course(user, lesson.module.course.code)  # 404 for drafts
    row = enrolment.complete_lesson(user, lesson, now=now)
    return {"lesson_id": lesson.id, "completed_at": row.completed_at.isoformat()}


def _answers(attempt: Any, op: dict[str, Any]) -> dict[Any, Any]:
    if "form" in op:
        return attempts.form_answers(attempt, MultiDict(op["form"]))
    return dict(op.get("answers") or {})


def _quiz_answer(user: User, op: dict[str, Any], now: datetime) -> dict[str, Any]:
    attempt = attempts.get_attempt(user, op["attempt_id"], now=now, finalise=False)
    attempts.save_answers(user, attempt, _answers(attempt, op), now=now)
    return {"attempt_id": attempt.id}


def _quiz_submit(user: User, op: dict[str, Any], now: datetime) -> dict[str, Any]:
    attempt = attempts.get_attempt(user, op["attempt_id"], now=now, finalise=False)
    answers = _answers(attempt, op) if ("form" in op or "answers" in op) else None
    result = attempts.submit_attempt(user, attempt, now=now, answers=answers)
    return {"attempt_id": attempt.id, "attempt_status": result.attempt.status}


_HANDLERS = {
    "lesson.complete": _lesson_complete,
    "quiz.answer": _quiz_answer,
    "quiz.submit": _quiz_submit,
}


def new_operation_id() -> str:
    """A fresh operation id (for clients written in Python, and the tests)."""
    return str(uuid.uuid4())
