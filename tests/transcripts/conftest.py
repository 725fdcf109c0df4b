"""Fixtures of the transcripts tests: a fixed public host, issuing institutions with staff,
and sample transcript data (a Thai student with Chinese, English and recognised credit)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lms.core.db import utcnow
from lms.transcripts.credential import (
    CourseResult,
    SourceInstitution,
    TranscriptInput,
    issue_transcript,
)
from lms.transcripts.verify import platform_resolver, verify_credential

VECTORS = Path(__file__).parent / "vectors"
HOST = "127.0.0.1:5000"


@pytest.fixture
def public_host(app) -> Iterator[str]:
    """``LMS_PUBLIC_HOST=127.0.0.1:5000`` for one test."""
    before = app.config.get("PUBLIC_HOST")
    app.config["PUBLIC_HOST"] = HOST
    try:
        yield HOST
    finally:
        app.config["PUBLIC_HOST"] = before


@pytest.fixture
def issuer(make, public_host):
    return make.institution(
        slug="nanning-vtc",
        names={"zh_Hans": "南宁职业技术学院", "en": "Nanning Vocational and Technical College"},
    )


def sample_input(institution, **changes) -> TranscriptInput:
    results = (
        CourseResult(
            code="ZH-AUTO-101",
            title="中文+汽车维修 Chinese for Automotive Maintenance",
            credits_available=Decimal("3"),
            credits_earned=Decimal("3"),
            grade="优秀",
            grade_scale="中国五级制 (优秀/良好/中等/及格/不及格)",
            credit_system="CN-VOC-16H",
            completed_on=date(2027, 1, 15),
            language="zh-Hans",
        ),
        CourseResult(
            code="EN-LOG-201",
            title="English for Logistics",
            credits_available=Decimal("2.5"),
            credits_earned=Decimal("2.5"),
            grade="1.25",
            grade_scale="Philippine 1.00–5.00",
            result_type="GradePointAverage",
            credit_system="CN-VOC-16H",
            completed_on=date(2026, 12, 20),
            source_institution=SourceInstitution(name="Manila Polytechnic College", country="PH"),
        ),
    )
    data = {
        "credential_id": f"urn:uuid:{uuid.uuid4()}",
        "title": "Transcript of records",
        "student_id": f"urn:uuid:{uuid.uuid4()}",
        "name_native": "สมชาย ใจดี",
        "name_latin": "Somchai Jaidee",
        "institution": institution,
        "credit_system": "CN-VOC-16H",
        "results": results,
        "issued_at": utcnow() - timedelta(minutes=1),
    }
    data.update(changes)
    return TranscriptInput(**data)


@pytest.fixture
def issue(issuer):
    """Issue a sample transcript (signed, with a status entry) for the issuer or another."""

    def _issue(institution=None, **changes):
        return issue_transcript(sample_input(institution or issuer, **changes))

    return _issue


def check(document) -> dict:
    return verify_credential(copy.deepcopy(document), resolver=platform_resolver)


def status_of(document) -> str:
    return check(document)["status"]
