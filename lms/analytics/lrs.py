"""Forwarding xAPI statements to a learning record store (``LMS_XAPI_LRS_ENDPOINT``).

A forwarding run POSTs the unforwarded statements in batches (``X-Experience-API-Version:
1.0.3``, Basic auth with the LRS key and secret) through ``lms.core.outbound``, so the
endpoint must be an allowed host on a public address (or an explicitly allowed private
network). A batch that fails is tried again with a doubling wait, first within the run,
then in later runs (``next_attempt_at``); statements the LRS accepted are marked forwarded.

Sending twice does no harm: every statement carries its id, and an LRS keeps one statement
per id. When an LRS answers a batch with 409 (it already holds one of the ids), the batch is
sent again one statement at a time with ``PUT …/statements?statementId=…``, where 204 (stored)
and 409 (already there) both count as forwarded."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from flask import current_app
from sqlalchemy import or_, select

from lms.analytics.models import XapiStatement
from lms.core import outbound
from lms.core.db import utcnow
from lms.core.extensions import db

XAPI_VERSION = "1.0.3"
#: the longest wait before a failed batch is tried again
MAX_BACKOFF = timedelta(days=1)
#: statuses worth trying again (the LRS is busy or briefly down)
RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class ForwardReport:
    forwarded: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def configured() -> bool:
    return bool(current_app.config.get("XAPI_LRS_ENDPOINT"))


def statements_url() -> str:
    endpoint = str(current_app.config["XAPI_LRS_ENDPOINT"]).strip()
    if not endpoint.endswith("/"):
        endpoint += "/"
    return urljoin(endpoint, "statements")


def allowed_hosts() -> list[str]:
    """``LMS_XAPI_LRS_ALLOWED_HOSTS``, or else the endpoint's own host."""
    raw = str(current_app.config.get("XAPI_LRS_ALLOWED_HOSTS") or "")
    hosts = [h.strip() for h in raw.split(",") if h.strip()]
    return hosts or [urlsplit(statements_url()).hostname or ""]


def for_lrs(body: dict[str, Any]) -> dict[str, Any]:
    """The statement as sent: ``stored`` is the LRS's to set."""
    return {k: v for k, v in body.items() if k != "stored"}


def _call(method: str, url: str, payload: Any) -> outbound.Response:
    cfg = current_app.config
    auth = None
    if cfg.get("XAPI_LRS_USERNAME") or cfg.get("XAPI_LRS_PASSWORD"):
        auth = (str(cfg.get("XAPI_LRS_USERNAME") or ""), str(cfg.get("XAPI_LRS_PASSWORD") or ""))
    return outbound.request(
        method,
        url,
        allowed_hosts=allowed_hosts(),
        json=payload,
        auth=auth,
        headers={"X-Experience-API-Version": XAPI_VERSION},
    )


def _put_each(rows: list[XapiStatement]) -> tuple[set[str], str]:
    done, error = set(), ""
    for row in rows:
        url = f"{statements_url()}?statementId={quote(row.id)}"
        try:
            resp = _call("PUT", url, for_lrs(row.body))
        except (outbound.OutboundRefused, outbound.OutboundFailed) as exc:
            return done, exc.message
        if resp.status in (200, 204, 409):
            done.add(row.id)
        else:
            error = f"HTTP {resp.status} for statement {row.id}"
    return done, error


def send_batch(
    rows: list[XapiStatement], *, sleep: Callable[[float], None] = time.sleep
) -> tuple[set[str], str]:
    """Send one batch, trying ``LMS_XAPI_LRS_RETRIES`` times with a doubling wait. Returns
    the ids the LRS accepted and the last error ("" when all went)."""
    cfg = current_app.config
    tries = max(1, int(cfg.get("XAPI_LRS_RETRIES") or 1))
    wait = float(cfg.get("XAPI_LRS_BACKOFF_SECONDS") or 0)
    error = ""
    for attempt in range(tries):
        try:
            resp = _call("POST", statements_url(), [for_lrs(r.body) for r in rows])
        except outbound.OutboundRefused as exc:
            return set(), exc.message  # a configuration problem: trying again cannot help
        except outbound.OutboundFailed as exc:
            error = exc.message
        else:
            if resp.status in (200, 204):
                return {r.id for r in rows}, ""
            if resp.status == 409:
                return _put_each(rows)
            error = f"HTTP {resp.status}: {resp.text[:200]}"
            if resp.status not in RETRYABLE:
                return set(), error
        if attempt + 1 < tries:
            sleep(wait * 2**attempt)
    return set(), error


def _pending(now: datetime, limit: int) -> list[XapiStatement]:
    return list(
        db.session.scalars(
            select(XapiStatement)
            .where(
                XapiStatement.forwarded_at.is_(None),
                or_(XapiStatement.next_attempt_at.is_(None), XapiStatement.next_attempt_at <= now),
            )
            .order_by(XapiStatement.stored, XapiStatement.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def forward_pending(
    *, now: datetime | None = None, sleep: Callable[[float], None] = time.sleep
) -> ForwardReport:
    """Forward every statement not yet accepted by the LRS, batch by batch, committing
    after each batch. Stops at the first batch that still fails after its tries; that
    batch waits (doubling per failed run, at most a day) before the next run tries it."""
    report = ForwardReport()
    if not configured():
        return report
    cfg = current_app.config
    size = max(1, int(cfg.get("XAPI_LRS_BATCH_SIZE") or 100))
    base_wait = float(cfg.get("XAPI_LRS_BACKOFF_SECONDS") or 0)
    now = now or utcnow()
    while True:
        rows = _pending(now, size)
        if not rows:
            break
        accepted, error = send_batch(rows, sleep=sleep)
        stamp = utcnow()
        for row in rows:
            if row.id in accepted:
                row.forwarded_at, row.next_attempt_at, row.last_error = stamp, None, ""
            else:
                row.forward_attempts += 1
                delay = min(MAX_BACKOFF, timedelta(seconds=base_wait * 2**row.forward_attempts))
                row.next_attempt_at = now + max(delay, timedelta(seconds=1))
                row.last_error = error[:500]
        report.forwarded += len(accepted)
        report.failed += len(rows) - len(accepted)
        db.session.commit()
        if error:
            report.errors.append(error)
            break
    return report
