"""Credits: credit systems, grade scales and their conversions, the credit ledger,
recognition agreements and requests, qualifications."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.assessment import gradebook
from lms.core.db import utcnow
from lms.core.web import InstitutionLink, NavLink, add_institution_link, add_nav_link


def gradebook_percent(enrolment: Any) -> Decimal | None:
    """The course result for the ledger: the gradebook's weighted final percentage (None
    while the course has no grades for the student)."""
    now = enrolment.finished_at or utcnow()
    return gradebook.student_result(enrolment.course, enrolment.student, now=now).final_percent


def init_app(app: Flask) -> None:
    from lms.credits import (  # noqa: F401
        agreement_views,
        ledger,
        permissions,
        recognition,
        recognition_views,
        views,
    )
    from lms.enrolment.signals import enrolment_finished

    app.register_blueprint(views.bp)
    enrolment_finished.connect(ledger.on_enrolment_finished)
    if gradebook_percent not in ledger.result_sources:
        ledger.result_sources.insert(0, gradebook_percent)
    add_nav_link(NavLink("credits.scales", _l("Grade scales"), "admin.access", 80))
    add_nav_link(NavLink("credits.my_ledger", _l("My credits"), None, 30))
    add_institution_link(
        InstitutionLink(
            "credits.recognition_queue", _l("Recognition requests"), recognition.DECIDE, 20
        )
    )
    add_institution_link(
        InstitutionLink(
            "credits.institution_agreements", _l("Recognition agreements"), agreement_views.VIEW, 25
        )
    )
    add_institution_link(
        InstitutionLink(
            "credits.settings", _l("Credit system and grade scale"), "credits.manage_scales", 40
        )
    )
