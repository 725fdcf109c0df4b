"""Background jobs of the assessment domain."""

from __future__ import annotations

from datetime import datetime

from lms.assessment import attempts
from lms.core.schedule import periodic


@periodic("assessment.close-overdue", every=60)
def close_overdue(now: datetime) -> str:
    """Submit every attempt whose time is over, with the answers saved before it."""
    return f"submitted {attempts.close_overdue(now=now)} overdue attempt(s)"
