"""Courses, their modules and lessons, translatable texts and the glossary.

Translatable content is data: each course, module and lesson has one translation row per
locale, holding that locale's texts and a status (original, machine, reviewed). Reading
falls back field by field along the chain of ``lms.core.i18n.fallback_chain``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Institution, User
from lms.core.db import UTCDateTime, one_of, utcnow
from lms.core.extensions import db
from lms.core.i18n import pick
from lms.core.search import part_of, searchable

TRACKS = ("zh_plus", "en_plus", "asean_plus", "vocational")
KINDS = ("course", "resource_library", "textbook", "training_package")
#: the seed industries of the 2023 plan (DESIGN §1)
INDUSTRIES = (
    "automotive",
    "electronics_it",
    "advanced_manufacturing",
    "new_materials",
    "modern_agriculture",
    "transport_logistics",
    "light_chemical",
    "food_pharma",
    "commerce_services",
    "healthcare",
    "culture_tourism",
    "nonferrous_metals",
    "tcm",
)
CN_LEVELS = ("zhongzhi", "gaozhi_zhuanke", "zhiye_benke", "benke")
#: ASEAN languages an "ASEAN language +" course may teach
ASEAN_LANGUAGES = ("vi", "th", "id", "ms", "fil", "km", "lo", "my", "ta", "pt")
STATUSES = ("draft", "in_review", "published", "archived")
LESSON_KINDS = ("text", "video", "document", "live", "quiz", "assignment")
TRANSLATION_STATUSES = ("original", "machine", "reviewed")


course_teachers = Table(
    "course_teachers",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

course_prerequisites = Table(
    "course_prerequisites",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("required_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
)


class Translated:
    """Field-by-field reading of ``translations`` along the fallback chain."""

    translations: list[Any]
    source_locale: str

    def text(self, field: str, locale: str) -> tuple[Any, str | None]:
        """``(value, locale served)`` for one field; ``("", None)`` when no locale has it."""
        values = {t.locale: getattr(t, field) for t in self.translations}
        return pick(values, locale, self._source())

    def _source(self) -> str:
        return self.source_locale

    def translation(self, locale: str) -> Any | None:
        return next((t for t in self.translations if t.locale == locale), None)

    @property
    def locales(self) -> list[str]:
        return sorted(t.locale for t in self.translations)


class Course(Translated, db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    track: Mapped[str] = mapped_column(String(16), index=True)
    asean_language: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(24), index=True, default="course")
    industry: Mapped[str] = mapped_column(String(32), index=True)
    aqrf_level: Mapped[int | None] = mapped_column(Integer)
    cn_level: Mapped[str | None] = mapped_column(String(16))
    credits: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))
    learning_hours: Mapped[int] = mapped_column(Integer, default=0)
    #: locales the course is taught in (a JSON list)
    instruction_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_locale: Mapped[str] = mapped_column(String(16), default="zh_Hans")
    capacity: Mapped[int | None] = mapped_column(Integer)
    enrol_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrol_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    #: folded titles and code, then every other text of every translation (lms.core.search)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship()
    translations: Mapped[list[CourseTranslation]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseTranslation.locale"
    )
    modules: Mapped[list[Module]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="Module.position"
    )
    teachers: Mapped[list[User]] = relationship(secondary=course_teachers, order_by=User.id)
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.required_id,
        order_by=lambda: Course.code,
    )
    glossary: Mapped[list[GlossaryTerm]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="GlossaryTerm.position"
    )
    reviews: Mapped[list[CourseReview]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseReview.id"
    )

    __table_args__ = (
        Index("ix_courses_catalogue", "status", "published_at", "id"),
        CheckConstraint(one_of("track", TRACKS), name="track_known"),
        CheckConstraint(one_of("kind", KINDS), name="kind_known"),
        CheckConstraint(one_of("industry", INDUSTRIES), name="industry_known"),
        CheckConstraint(one_of("status", STATUSES), name="status_known"),
        CheckConstraint("aqrf_level IS NULL OR (aqrf_level BETWEEN 1 AND 8)", name="aqrf_range"),
        CheckConstraint("credits >= 0 AND learning_hours >= 0", name="amounts_positive"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_positive"),
        CheckConstraint(
            "track != 'asean_plus' OR asean_language IS NOT NULL", name="asean_language_given"
        ),
    )

    def title(self, locale: str) -> tuple[str, str | None]:
        return self.text("title", locale)

    def __repr__(self) -> str:
        return f"<Course {self.code}>"


class CourseTranslation(db.Model):
    __tablename__ = "course_translations"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="original")
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: learning outcomes in this locale (a JSON list of strings)
    outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)

    course: Mapped[Course] = relationship(back_populates="translations")

    __table_args__ = (
        UniqueConstraint("course_id", "locale"),
        CheckConstraint(one_of("status", TRANSLATION_STATUSES), name="status_known"),
    )


def _course_texts(course: Course) -> tuple[list[str], list[str]]:
    titles = [course.code, *(t.title for t in course.translations)]
    rest = []
    for t in course.translations:
        rest += [t.summary, t.description, *(t.outcomes or [])]
    return titles, rest


searchable(Course, _course_texts)
part_of(CourseTranslation, lambda row: row.course)


class Module(Translated, db.Model):
    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)

    course: Mapped[Course] = relationship(back_populates="modules")
    translations: Mapped[list[ModuleTranslation]] = relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="ModuleTranslation.locale"
    )
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="Lesson.position"
    )

    __table_args__ = (
        UniqueConstraint("course_id", "key"),
        Index("ix_modules_course_position", "course_id", "position"),
    )

    def _source(self) -> str:
        return self.course.source_locale


class ModuleTranslation(db.Model):
    __tablename__ = "module_translations"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="original")
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")

    module: Mapped[Module] = relationship(back_populates="translations")

    __table_args__ = (
        UniqueConstraint("module_id", "locale"),
        CheckConstraint(one_of("status", TRANSLATION_STATUSES), name="status_known"),
    )


class Lesson(Translated, db.Model):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    #: estimated study time
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    #: counts toward completion (the enrolment domain's completion rules read it)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the video or document of video / document lessons (a media asset id)
    media_asset_id: Mapped[str | None] = mapped_column(
        ForeignKey("media_assets.id", ondelete="SET NULL")
    )

    module: Mapped[Module] = relationship(back_populates="lessons")
    translations: Mapped[list[LessonTranslation]] = relationship(
        back_populates="lesson", cascade="all, delete-orphan", order_by="LessonTranslation.locale"
    )

    __table_args__ = (
        UniqueConstraint("course_id", "key"),
        CheckConstraint(one_of("kind", LESSON_KINDS), name="kind_known"),
        Index("ix_lessons_module_position", "module_id", "position"),
    )

    def _source(self) -> str:
        return self.module.course.source_locale


class LessonTranslation(db.Model):
    __tablename__ = "lesson_translations"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="original")
    title: Mapped[str] = mapped_column(String(300), default="")
    #: Markdown, rendered and sanitised on display
    body: Mapped[str] = mapped_column(Text, default="")

    lesson: Mapped[Lesson] = relationship(back_populates="translations")

    __table_args__ = (
        UniqueConstraint("lesson_id", "locale"),
        CheckConstraint(one_of("status", TRANSLATION_STATUSES), name="status_known"),
    )


class GlossaryTerm(db.Model):
    """A Chinese term of a 中文+ course with its pinyin and translations."""

    __tablename__ = "glossary_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    term: Mapped[str] = mapped_column(String(100))
    pinyin: Mapped[str] = mapped_column(String(200))
    #: ``{locale: translation}``
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    course: Mapped[Course] = relationship(back_populates="glossary")

    __table_args__ = (UniqueConstraint("course_id", "term"),)

    def meaning(self, locale: str) -> tuple[str, str | None]:
        return pick(self.translations, locale, "en")


class CourseReview(db.Model):
    """One step of the review history: submitted, approved, returned or archived."""

    __tablename__ = "course_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="reviews")
    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            one_of("action", ("submitted", "approved", "returned", "archived", "reopened")),
            name="action_known",
        ),
    )
