"""Credit systems, grade scales with their bands, and each institution's choice of both.

National defaults (one per country, seeded from ``data/grade_scales.json``) have no owner
institution; an institution may define its own. Codes are unique per owner: among the
national defaults, and within each institution. Percent ranges are ``Numeric`` and bands are
half-open, ``min_percent ≤ p < max_percent`` (the top band also holds 100); the services
check that bands tile 0–100 without gap or overlap, the database checks each band alone."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Institution, User
from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db
from lms.core.i18n import pick

DIRECTIONS = ("higher_better", "lower_better")
ROUNDING_MODES = ("half_up", "down")

_NATIONAL = text("institution_id IS NULL")


class _Owned:
    """Shared by scales and systems: the owner institution (None for a national default).
    The mapped classes declare ``code``, ``names``, ``institution_id`` and ``institution``."""

    @property
    def ref(self) -> str:
        """How the API and pages address it: ``CODE`` for a national default,
        ``institution-slug:CODE`` for an institution's own."""
        if self.institution is None:
            return self.code
        return f"{self.institution.slug}:{self.code}"

    @property
    def is_national(self) -> bool:
        return self.institution_id is None

    def name_in(self, locale: str) -> tuple[str, str | None]:
        """The name in ``locale`` along the fallback chain, with the locale served."""
        text_, served = pick(self.names, locale, "en")
        return (text_ or self.code), served


class CreditSystem(_Owned, db.Model):
    """How many hours of learning make one credit, and how credits computed from hours are
    rounded (``rounding_mode`` to a multiple of ``rounding_step``)."""

    __tablename__ = "credit_systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    country: Mapped[str] = mapped_column(String(2))
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    hours_per_credit: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    rounding_step: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0.5"))
    rounding_mode: Mapped[str] = mapped_column(String(16), default="half_up")
    notes: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    institution: Mapped[Institution | None] = relationship()

    __table_args__ = (
        UniqueConstraint("institution_id", "code"),
        Index(
            "uq_credit_systems_national_code",
            "code",
            unique=True,
            sqlite_where=_NATIONAL,
            postgresql_where=_NATIONAL,
        ),
        CheckConstraint("length(country) = 2", name="country_iso2"),
        CheckConstraint("hours_per_credit > 0", name="hours_positive"),
        CheckConstraint("rounding_step > 0", name="step_positive"),
        CheckConstraint(
            one_of("rounding_mode", ROUNDING_MODES),
            name="rounding_known",
        ),
    )

    def __repr__(self) -> str:
        return f"<CreditSystem {self.ref}>"


class GradeScale(_Owned, db.Model):
    """Grades as bands of percent. ``pass_mark`` is the lowest passing percent (the lower
    bound of the lowest passing band); ``direction`` says whether more grade points are
    better (most scales) or worse (the Philippines' 1.00–5.00)."""

    __tablename__ = "grade_scales"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    country: Mapped[str] = mapped_column(String(2))
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(16), default="higher_better")
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    notes: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    institution: Mapped[Institution | None] = relationship()
    bands: Mapped[list[GradeBand]] = relationship(
        back_populates="scale",
        cascade="all, delete-orphan",
        order_by="GradeBand.position",
    )

    __table_args__ = (
        UniqueConstraint("institution_id", "code"),
        Index(
            "uq_grade_scales_national_code",
            "code",
            unique=True,
            sqlite_where=_NATIONAL,
            postgresql_where=_NATIONAL,
        ),
        CheckConstraint("length(country) = 2", name="country_iso2"),
        CheckConstraint(
            one_of("direction", DIRECTIONS),
            name="direction_known",
        ),
        CheckConstraint("pass_mark > 0 AND pass_mark < 100", name="pass_mark_range"),
    )

    def __repr__(self) -> str:
        return f"<GradeScale {self.ref}>"


class GradeBand(db.Model):
    """One grade of a scale: ``min_percent ≤ p < max_percent`` (the top band holds 100 too)
    earns ``label`` and ``points``. ``position`` orders bands for display, best first."""

    __tablename__ = "grade_bands"

    id: Mapped[int] = mapped_column(primary_key=True)
    scale_id: Mapped[int] = mapped_column(
        ForeignKey("grade_scales.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(16))
    #: optional ``{locale: name}`` of the grade, e.g. ``{"zh_Hans": "优秀"}`` for A
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    min_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    max_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    points: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    passing: Mapped[bool] = mapped_column(Boolean)

    scale: Mapped[GradeScale] = relationship(back_populates="bands")

    __table_args__ = (
        UniqueConstraint("scale_id", "label"),
        UniqueConstraint("scale_id", "position"),
        CheckConstraint(
            "min_percent >= 0 AND max_percent <= 100 AND min_percent < max_percent",
            name="percent_range",
        ),
        CheckConstraint("points >= 0", name="points_nonnegative"),
    )

    def name_in(self, locale: str) -> tuple[str, str | None]:
        return pick(self.names, locale, "en")


class InstitutionCreditSettings(db.Model):
    """The credit system and grade scale an institution uses. Either may be unset, and an
    institution without a row uses its country's national defaults (``settings_for``)."""

    __tablename__ = "institution_credit_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), unique=True
    )
    credit_system_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_systems.id", ondelete="SET NULL"), index=True
    )
    grade_scale_id: Mapped[int | None] = mapped_column(
        ForeignKey("grade_scales.id", ondelete="SET NULL"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    institution: Mapped[Institution] = relationship()
    credit_system: Mapped[CreditSystem | None] = relationship()
    grade_scale: Mapped[GradeScale | None] = relationship()


# ---------------------------------------------------------------------------- qualifications

FRAMEWORKS = ("1+X", "national")


class Qualification(db.Model):
    """A vocational qualification: a 1+X skill certificate (职业技能等级证书) at its level
    (初级 / 中级 / 高级) or a national skill level (国家职业技能等级, 五级 … 一级), mapped to
    an ASEAN Qualifications Reference Framework level. ``hours`` are the notional learning
    hours it stands for, from which credits are computed in each institution's system."""

    __tablename__ = "qualifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    framework: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    aqrf_level: Mapped[int] = mapped_column()
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    awarding_body: Mapped[str] = mapped_column(String(300), default="")
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint(
            one_of("framework", FRAMEWORKS),
            name="framework_known",
        ),
        CheckConstraint("aqrf_level BETWEEN 1 AND 8", name="aqrf_range"),
        CheckConstraint("hours > 0", name="hours_positive"),
    )

    def name_in(self, locale: str) -> tuple[str, str | None]:
        text_, served = pick(self.names, locale, "en")
        return (text_ or self.code), served


# ---------------------------------------------------------------------------- ledger

RECORD_KINDS = ("earned", "recognised", "corrected")
GRADE_SOURCES = ("percent", "pass_only", "qualification", "recognition", "correction")


class CreditRecord(db.Model):
    """One entry of the append-only credit ledger, in the ledger of ``institution`` and in
    its credit system and grade scale (their refs are copied, so later edits of a scale do
    not change what was recorded).

    ``earned``: a course completed at the institution that offers it. ``recognised``: credit
    a receiving institution grants for a record of another (``source_record``).
    ``corrected``: a compensating entry that replaces what ``corrects`` says (a correction
    to zero credits withdraws it). Rows are never updated or deleted: the services only add,
    and on PostgreSQL a trigger refuses UPDATE and DELETE."""

    __tablename__ = "credit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="RESTRICT")
    )
    #: for a vocational qualification (a certificate) instead of a course
    qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualifications.id", ondelete="RESTRICT"), index=True
    )
    course_code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    credits: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    credit_system: Mapped[str] = mapped_column(String(100))
    grade: Mapped[str] = mapped_column(String(16))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    grade_scale: Mapped[str] = mapped_column(String(100))
    #: how the grade was found: a result percentage, "pass" only (no percentage was known),
    #: converted by recognition, or set by a correction
    grade_source: Mapped[str] = mapped_column(String(16))
    passed: Mapped[bool] = mapped_column(Boolean)
    completed_on: Mapped[date] = mapped_column(Date)
    source_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_records.id", ondelete="RESTRICT"), index=True
    )
    corrects_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_records.id", ondelete="RESTRICT"), unique=True
    )
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_agreements.id", ondelete="RESTRICT")
    )
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    institution: Mapped[Institution] = relationship()
    source_record: Mapped[CreditRecord | None] = relationship(
        remote_side=[id], foreign_keys=[source_record_id]
    )
    corrects: Mapped[CreditRecord | None] = relationship(
        remote_side=[id], foreign_keys=[corrects_id]
    )

    __table_args__ = (
        CheckConstraint(one_of("kind", RECORD_KINDS), name="kind_known"),
        CheckConstraint(
            one_of("grade_source", GRADE_SOURCES),
            name="grade_source_known",
        ),
        CheckConstraint("credits >= 0 AND hours >= 0", name="amounts_nonnegative"),
        CheckConstraint("kind != 'recognised' OR source_record_id IS NOT NULL", name="source"),
        CheckConstraint("kind != 'corrected' OR corrects_id IS NOT NULL", name="corrects"),
        Index(
            "uq_credit_records_earned_enrolment",
            "enrolment_id",
            unique=True,
            sqlite_where=text("kind = 'earned'"),
            postgresql_where=text("kind = 'earned'"),
        ),
    )

    def __repr__(self) -> str:
        return f"<CreditRecord {self.id} {self.kind} {self.course_code}>"


# ---------------------------------------------------------------------------- agreements

CONVERSION_METHODS = ("percent", "grade")


class Agreement(db.Model):
    """A credit mutual-recognition agreement (学分互认协议): ``target`` recognises credit
    earned at ``source`` between ``valid_from`` and ``valid_to``, up to ``max_credits`` (in the
    target's system) per student, for results at or above ``min_percent``. ``conversion``
    says how a grade travels: through the result percentage when known (``percent``) or
    always through the grade's representative percent (``grade``)."""

    __tablename__ = "credit_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    max_credits: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    min_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    conversion: Mapped[str] = mapped_column(String(16), default="percent")
    notes: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    source: Mapped[Institution] = relationship(foreign_keys=[source_id])
    target: Mapped[Institution] = relationship(foreign_keys=[target_id])
    equivalences: Mapped[list[Equivalence]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="Equivalence.source_code",
    )

    __table_args__ = (
        CheckConstraint("source_id != target_id", name="two_parties"),
        CheckConstraint("valid_from <= valid_to", name="validity"),
        CheckConstraint(
            "conversion IN (" + ", ".join(f"'{m}'" for m in CONVERSION_METHODS) + ")",
            name="conversion_known",
        ),
        CheckConstraint("max_credits IS NULL OR max_credits > 0", name="max_positive"),
        CheckConstraint(
            "min_percent IS NULL OR (min_percent >= 0 AND min_percent <= 100)",
            name="min_percent_range",
        ),
    )


class Equivalence(db.Model):
    """A line of an agreement's equivalence table: the source course ``source_code`` counts
    as the target's course ``target_code``, or as elective credit when that is empty."""

    __tablename__ = "credit_equivalences"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("credit_agreements.id", ondelete="CASCADE"), index=True
    )
    source_code: Mapped[str] = mapped_column(String(40))
    target_code: Mapped[str] = mapped_column(String(40), default="")
    target_title: Mapped[str] = mapped_column(String(300), default="")

    agreement: Mapped[Agreement] = relationship(back_populates="equivalences")

    __table_args__ = (UniqueConstraint("agreement_id", "source_code"),)


# ---------------------------------------------------------------------------- recognition

REQUEST_STATUSES = ("submitted", "under_review", "approved", "partly_approved", "rejected")
ITEM_DECISIONS = ("pending", "approved", "rejected")


class RecognitionRequest(db.Model):
    """A student's request that ``target`` recognise some of their ledger records."""

    __tablename__ = "recognition_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    target_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    message: Mapped[str] = mapped_column(String(1000), default="")
    reason: Mapped[str] = mapped_column(String(1000), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    target: Mapped[Institution] = relationship()
    items: Mapped[list[RecognitionItem]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RecognitionItem.id"
    )

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in REQUEST_STATUSES) + ")",
            name="status_known",
        ),
    )


class RecognitionItem(db.Model):
    """One ledger record of a request, the agreement that covers it, the decision and the
    ``recognised`` record it produced."""

    __tablename__ = "recognition_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("recognition_requests.id", ondelete="CASCADE"), index=True
    )
    source_record_id: Mapped[int] = mapped_column(
        ForeignKey("credit_records.id", ondelete="RESTRICT")
    )
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_agreements.id", ondelete="RESTRICT")
    )
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(1000), default="")
    result_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_records.id", ondelete="RESTRICT")
    )

    request: Mapped[RecognitionRequest] = relationship(back_populates="items")
    source_record: Mapped[CreditRecord] = relationship(foreign_keys=[source_record_id])
    agreement: Mapped[Agreement | None] = relationship()
    result_record: Mapped[CreditRecord | None] = relationship(foreign_keys=[result_record_id])

    __table_args__ = (
        UniqueConstraint("request_id", "source_record_id"),
        CheckConstraint(
            "decision IN (" + ", ".join(f"'{d}'" for d in ITEM_DECISIONS) + ")",
            name="decision_known",
        ),
    )
