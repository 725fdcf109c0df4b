"""Credit systems, grade scales with their bands, and each institution's choice of both.

National defaults (one per country, seeded from ``data/grade_scales.json``) have no owner
institution; an institution may define its own. Codes are unique per owner: among the
national defaults, and within each institution. Percent ranges are ``Numeric`` and bands are
half-open, ``min_percent ≤ p < max_percent`` (the top band also holds 100); the services
check that bands tile 0–100 without gap or overlap, the database checks each band alone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Institution
from lms.core.db import UTCDateTime, utcnow
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
            "rounding_mode IN (" + ", ".join(f"'{m}'" for m in ROUNDING_MODES) + ")",
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
            "direction IN (" + ", ".join(f"'{d}'" for d in DIRECTIONS) + ")",
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
