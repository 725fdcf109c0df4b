"""Writing audit events. Services call ``record`` for every change that matters (grades,
credits, transcripts, roles, enrolment decisions)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from lms.core.db import append, utcnow
from lms.core.models import AuditEvent


def record(
    actor: Any,
    action: str,
    obj_type: str,
    obj_id: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one audit event in the current transaction (it commits or rolls back with the
    change it describes). ``actor`` is a user or None for the system."""
    return append(
        AuditEvent,
        {
            "at": utcnow(),
            "actor_id": getattr(actor, "id", None),
            "actor_label": getattr(actor, "email", "") or "system",
            "action": action,
            "object_type": obj_type,
            "object_id": str(obj_id),
            "before": before,
            "after": after,
            "reason": reason,
            "remote_addr": (request.remote_addr or "") if has_request_context() else "",
        },
    )


def snapshot(obj: Any, *fields: str) -> dict[str, Any]:
    """A JSON-safe view of some fields of ``obj``, for an event's before / after."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out
