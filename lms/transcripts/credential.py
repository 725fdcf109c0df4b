"""Shaping and signing a transcript as a 1EdTech CLR 2.0 ``ClrCredential`` (a W3C VC 2.0).

The transcript is a ``ClrCredential`` whose ``ClrSubject`` (the student: native-script and
Latin names as ``IdentityObject``s) embeds one Open Badges 3.0 ``AchievementCredential`` per
course result, each signed on its own so that it can be shared alone:

- ``achievement``: the course (``humanCode`` = its code, ``creditsAvailable``, the credit
  system as ``creditSystem``, the grade scale as a ``ResultDescription``, the creator: the
  issuing institution, or the source institution of recognised credit);
- the ``AchievementSubject``: ``creditsEarned`` and ``result`` with the native grade as
  written in its scale (``value``); for recognised credit, ``source`` names the institution
  where it was earned.

The names are those of the 1EdTech specifications (``creditsAvailable`` belongs to the
Achievement, ``creditsEarned`` to the AchievementSubject); ``creditSystem`` is this
platform's extension term, defined in an inline JSON-LD context. Issuance (a later issue)
feeds real data; the input is a plain dataclass."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from lms.accounts.models import Institution
from lms.core import text
from lms.core.errors import field_error
from lms.transcripts import keys, statuslist
from lms.transcripts.dataintegrity import is_xml_datetime, xml_datetime
from lms.transcripts.did import did_for

VC_V2 = "https://www.w3.org/ns/credentials/v2"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VOCAB = "https://lms.china-asean.example/ns/transcripts#"
#: this platform's extension terms (an inline context, as VC 2.0 §4.3 allows)
LMS_CONTEXT = {"creditSystem": {"@id": VOCAB + "creditSystem"}}
CLR_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"


@dataclass(frozen=True)
class SourceInstitution:
    """Where recognised credit was earned (a partner, possibly not on this platform)."""

    name: str
    id: str = ""  # its DID or web address, when known
    country: str = ""  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class CourseResult:
    code: str
    title: str
    credits_available: Decimal
    credits_earned: Decimal
    grade: str  # the native grade as its scale writes it: "A", "1.25", "优秀", "ดีมาก"
    grade_scale: str  # the scale's name, e.g. "China five-level (优秀…不及格)"
    credit_system: str  # the credit system's code, e.g. "CN-VOC-16H"
    completed_on: date
    description: str = ""  # defaults to the title
    result_type: str = "LetterGrade"  # an OB 3.0 ResultType
    language: str = ""  # BCP 47 tag of the teaching language
    source_institution: SourceInstitution | None = None


@dataclass(frozen=True)
class TranscriptInput:
    credential_id: str  # "urn:uuid:…", unique per transcript version
    title: str  # the credential's name, e.g. "Transcript of records"
    student_id: str  # the subject's id, e.g. "urn:uuid:…" of the student
    name_native: str
    name_latin: str
    institution: Institution  # the issuer
    credit_system: str
    results: Sequence[CourseResult]
    issued_at: datetime


def _credits(value: Decimal | int | float, field: str) -> float:
    number = Decimal(str(value))
    if not number.is_finite() or number < 0:
        raise field_error(field, _("Credits must be zero or more."))
    return float(number)


def _derived_id(parent: str, *parts: str) -> str:
    """A stable ``urn:uuid`` derived from a parent id (so re-shaping gives the same ids)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join((parent, *parts))))


def issuer_profile(institution: Institution) -> dict[str, Any]:
    """The OB 3.0 ``Profile`` of the issuing institution, its id the institution's DID."""
    profile: dict[str, Any] = {
        "id": did_for(institution),
        "type": ["Profile"],
        "name": institution.name_in(institution.default_locale)[0] or institution.slug,
    }
    if institution.website:
        profile["url"] = institution.website
    return profile


def _source_profile(source: SourceInstitution, parent: str) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": source.id or _derived_id(parent, "source", source.name),
        "type": ["Profile"],
        "name": text.display(source.name),
    }
    if source.country:
        profile["address"] = {"type": ["Address"], "addressCountryCode": source.country}
    return profile


def _identities(data: TranscriptInput) -> list[dict[str, Any]]:
    out = []
    for kind, name in (("name", data.name_native), ("ext:latinName", data.name_latin)):
        name = text.display(name or "")
        if name:
            out.append(
                {
                    "type": "IdentityObject",
                    "identityType": kind,
                    "hashed": False,
                    "identityHash": name,
                }
            )
    if not out:
        raise field_error("name_native", _("A transcript needs the student's name."))
    return out


def achievement(data: TranscriptInput, result: CourseResult, issuer: dict) -> dict[str, Any]:
    """The OB 3.0 ``Achievement`` of one course."""
    achievement_id = _derived_id(issuer["id"], "course", result.code)
    creator = (
        _source_profile(result.source_institution, data.credential_id)
        if result.source_institution
        else {"id": issuer["id"], "type": ["Profile"], "name": issuer["name"]}
    )
    description = text.display(result.description or result.title)
    out: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "Course",
        "humanCode": text.display(result.code),
        "name": text.display(result.title),
        "description": description,
        "criteria": {"narrative": description},
        "creator": creator,
        "creditsAvailable": _credits(result.credits_available, "credits_available"),
        "creditSystem": result.credit_system,
        "resultDescription": [
            {
                "id": f"{achievement_id}#grade",
                "type": ["ResultDescription"],
                "name": text.display(result.grade_scale),
                "resultType": result.result_type,
            }
        ],
    }
    if result.language:
        out["inLanguage"] = result.language
    return out


def achievement_credential(
    data: TranscriptInput,
    result: CourseResult,
    number: int,
    *,
    issuer: dict[str, Any],
    status: dict[str, Any] | None,
) -> dict[str, Any]:
    """The OB 3.0 ``AchievementCredential`` for one course result (unsigned)."""
    course = achievement(data, result, issuer)
    subject: dict[str, Any] = {
        "id": data.student_id,
        "type": ["AchievementSubject"],
        "identifier": _identities(data),
        "achievement": course,
        "creditsEarned": _credits(result.credits_earned, "credits_earned"),
        "activityEndDate": f"{result.completed_on.isoformat()}T00:00:00Z",
        "result": [
            {
                "type": ["Result"],
                "resultDescription": course["resultDescription"][0]["id"],
                "value": text.display(result.grade),
            }
        ],
    }
    if result.source_institution:
        subject["source"] = course["creator"]
    credential: dict[str, Any] = {
        "@context": [VC_V2, OB_CONTEXT, LMS_CONTEXT],
        "id": _derived_id(data.credential_id, "result", str(number), result.code),
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": issuer,
        "validFrom": xml_datetime(data.issued_at),
        "name": text.display(result.title),
        "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA, "type": SCHEMA_TYPE}],
    }
    if status:
        credential["credentialStatus"] = status
    return credential


def build_transcript(
    data: TranscriptInput,
    *,
    status: dict[str, Any] | None = None,
    sign: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The unsigned ``ClrCredential``; ``sign``, when given, secures each embedded
    ``AchievementCredential`` (the transcript itself is signed by ``issue_transcript``)."""
    if not data.results:
        raise field_error("results", _("A transcript needs at least one course result."))
    issuer = issuer_profile(data.institution)
    nested = [
        achievement_credential(data, result, n, issuer=issuer, status=status)
        for n, result in enumerate(data.results, start=1)
    ]
    if sign is not None:
        nested = [sign(credential) for credential in nested]
    achievements = [c["credentialSubject"]["achievement"] for c in nested]
    credential: dict[str, Any] = {
        "@context": [VC_V2, CLR_CONTEXT, OB_CONTEXT, LMS_CONTEXT],
        "id": data.credential_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": issuer,
        "validFrom": xml_datetime(data.issued_at),
        "name": text.display(data.title),
        "credentialSubject": {
            "id": data.student_id,
            "type": ["ClrSubject"],
            "identifier": _identities(data),
            "creditSystem": data.credit_system,
            "achievement": achievements,
            "verifiableCredential": nested,
        },
        "credentialSchema": [{"id": CLR_SCHEMA, "type": SCHEMA_TYPE}],
    }
    if status:
        credential["credentialStatus"] = status
    return credential


def issue_transcript(data: TranscriptInput) -> dict[str, Any]:
    """Shape the transcript, give it a revocation index in the issuer's status list, and
    sign it (and each embedded course credential) with the institution's active key.

    The embedded credentials share the transcript's status entry: revoking the transcript
    revokes each course credential taken out of it too."""
    institution = data.institution
    entry = statuslist.allocate(institution, data.credential_id)
    status = statuslist.credential_status(entry)

    def sign(document: dict[str, Any]) -> dict[str, Any]:
        return keys.sign(document, institution, created=data.issued_at)

    return sign(build_transcript(data, status=status, sign=sign))


# ---------------------------------------------------------------------------- reading


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _moment(value: object) -> datetime | None:
    if not is_xml_datetime(value):
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _course(subject: dict[str, Any]) -> dict[str, Any] | None:
    course = subject.get("achievement")
    if not isinstance(course, dict):
        return None
    results = subject.get("result")
    first = results[0] if isinstance(results, list) and results else {}
    scales = course.get("resultDescription")
    scale = scales[0] if isinstance(scales, list) and scales else {}
    creator = course.get("creator") if isinstance(course.get("creator"), dict) else {}
    source = subject.get("source") if isinstance(subject.get("source"), dict) else None
    return {
        "code": _text(course.get("humanCode")),
        "title": _text(course.get("name")),
        "credits_available": _number(course.get("creditsAvailable")),
        "credits_earned": _number(subject.get("creditsEarned")),
        "credit_system": _text(course.get("creditSystem")),
        "grade": _text(first.get("value")) if isinstance(first, dict) else "",
        "grade_scale": _text(scale.get("name")) if isinstance(scale, dict) else "",
        "source": _text(source.get("name")) if source else "",
        "creator": _text(creator.get("name")),
    }


def summarise(document: dict[str, Any]) -> dict[str, Any]:
    """What a verified transcript (or one course credential) says, for display: title,
    issuer, issue date, the student's names and each course result. Tolerates any shape."""
    issuer = document.get("issuer")
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    names = {
        _text(i.get("identityType")): _text(i.get("identityHash"))
        for i in subject.get("identifier") or []
        if isinstance(i, dict) and i.get("hashed") is False
    }
    courses: list[dict[str, Any]] = []
    nested = subject.get("verifiableCredential")
    if isinstance(nested, list):
        for item in nested:
            inner = item.get("credentialSubject") if isinstance(item, dict) else None
            course = _course(inner) if isinstance(inner, dict) else None
            if course:
                courses.append(course)
    else:
        course = _course(subject)
        if course:
            courses.append(course)
    return {
        "title": _text(document.get("name")),
        "issuer": _text(issuer.get("name")) if isinstance(issuer, dict) else _text(issuer),
        "issued": _moment(document.get("validFrom")),
        "name_native": names.get("name", ""),
        "name_latin": names.get("ext:latinName", ""),
        "credit_system": _text(subject.get("creditSystem")),
        "courses": courses,
    }
