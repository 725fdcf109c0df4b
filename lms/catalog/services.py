"""The catalogue: authoring courses in several languages, review and publication, finding
courses. The public face of the catalog domain."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from pypinyin import Style, lazy_pinyin
from sqlalchemy import Select, String, bindparam, case, cast, event, func, or_, select
from sqlalchemy.orm import Session, selectinload

from lms.accounts.models import Institution, User
from lms.catalog.models import (
    ASEAN_LANGUAGES,
    CN_LEVELS,
    INDUSTRIES,
    KINDS,
    LESSON_KINDS,
    TRACKS,
    TRANSLATION_STATUSES,
    Course,
    CourseReview,
    CourseTranslation,
    GlossaryTerm,
    Lesson,
    LessonTranslation,
    Module,
    ModuleTranslation,
)
from lms.core import cache, search, text
from lms.core.audit import record
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, ValidationError, field_error
from lms.core.extensions import db
from lms.core.i18n import LANGUAGES
from lms.core.security import Role, can, require
from lms.media import services as media

CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,38}[A-Z0-9]")
KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


# ---------------------------------------------------------------------------- reading


#: a course with what its page and its lessons' pages show: texts, institution, and the
#: outline (modules and lessons with their texts) — six queries whatever its size
OUTLINE = (
    selectinload(Course.translations),
    selectinload(Course.institution),
    selectinload(Course.modules).selectinload(Module.translations),
    selectinload(Course.modules).selectinload(Module.lessons).selectinload(Lesson.translations),
)


_BY_CODE = select(Course).where(Course.code == bindparam("code"))
_OUTLINE_BY_CODE = _BY_CODE.options(*OUTLINE)


def get_course(code: str, *, outline: bool = False) -> Course:
    stmt = _OUTLINE_BY_CODE if outline else _BY_CODE
    course = db.session.scalar(stmt, {"code": (code or "").upper()})
    if course is None:
        raise NotFound(_("No course with this code."))
    return course


def get_visible_course(user: Any, code: str, *, outline: bool = False) -> Course:
    """The course if ``user`` may see it; drafts are invisible (404) to everyone else.
    ``outline=True`` loads its texts and outline at once (for pages that show them)."""
    course = get_course(code, outline=outline)
    if not can(user, "course.view", course):
        raise NotFound(_("No course with this code."))
    return course


def get_lesson(course: Course, key: str) -> Lesson:
    lesson = db.session.scalar(select(Lesson).filter_by(course_id=course.id, key=key))
    if lesson is None:
        raise NotFound(_("No such lesson in this course."))
    return lesson


def get_lesson_by_id(lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound(_("No such lesson in this course."))
    return lesson


def get_module(module_id: int) -> Module:
    module = db.session.get(Module, module_id)
    if module is None:
        raise NotFound()
    return module


def lesson_count(course: Course) -> int:
    return sum(len(m.lessons) for m in course.modules)


@dataclass
class CatalogueFilter:
    q: str = ""
    track: str = ""
    kind: str = ""
    industry: str = ""
    lang: str = ""
    institution: str = ""
    country: str = ""
    level: int | None = None
    min_credits: Decimal | None = None
    max_credits: Decimal | None = None


def catalogue(filters: CatalogueFilter) -> Select:
    """Published courses matching the filters, best matches first (a statement to page).

    Free text matches substrings of the folded titles, summaries, descriptions, outcomes
    and code in every language, so Thai, Khmer or Chinese words are found inside
    unspaced text and ``dien`` finds ``điện``, through the search index of each database
    (lms.core.search). Each word of the query must match; the course whose code is the
    query ranks first, then courses matching in a title. Translations and institutions
    are loaded in one query each, so a page costs the same number of queries whatever
    its size."""
    stmt = (
        select(Course)
        .where(Course.status == "published")
        .options(selectinload(Course.translations), selectinload(Course.institution))
    )
    words = search.words(filters.q)
    if words:
        stmt = stmt.where(search.matches(Course, words))
    if filters.track in TRACKS:
        stmt = stmt.where(Course.track == filters.track)
    if filters.kind in KINDS:
        stmt = stmt.where(Course.kind == filters.kind)
    if filters.industry in INDUSTRIES:
        stmt = stmt.where(Course.industry == filters.industry)
    if filters.lang in LANGUAGES:
        langs = cast(Course.instruction_languages, String)
        stmt = stmt.where(langs.contains(f'"{filters.lang}"', autoescape=True))
    if filters.institution or filters.country:  # join only when it filters: cheaper counts
        stmt = stmt.join(Course.institution)
    if filters.institution:
        stmt = stmt.where(Institution.slug == filters.institution)
    if filters.country:
        stmt = stmt.where(Institution.country == filters.country.upper())
    if filters.level:
        stmt = stmt.where(Course.aqrf_level == filters.level)
    if filters.min_credits is not None:
        stmt = stmt.where(Course.credits >= filters.min_credits)
    if filters.max_credits is not None:
        stmt = stmt.where(Course.credits <= filters.max_credits)
    if words:
        exact_code = case((func.lower(Course.code) == " ".join(words), 0), else_=1)
        stmt = stmt.order_by(exact_code, search.rank(Course, words), Course.code)
    else:
        # newest first, served backwards by ix_courses_catalogue (no sort of every course)
        stmt = stmt.order_by(Course.published_at.desc(), Course.id.desc())
    return stmt


def facet_counts() -> dict[str, dict[str, int]]:
    """How many published courses per track, kind and industry (three small queries)."""
    out: dict[str, dict[str, int]] = {}
    for name, col in (
        ("track", Course.track),
        ("kind", Course.kind),
        ("industry", Course.industry),
    ):
        rows = db.session.execute(
            select(col, func.count()).where(Course.status == "published").group_by(col)
        )
        out[name] = {k: n for k, n in rows}
    return out


def teaching(user: User) -> Select:
    """Courses a user teaches or administers, newest first."""
    admin_of = user.institutions_with(Role.ADMIN)
    return (
        select(Course)
        .where(or_(Course.teachers.any(User.id == user.id), Course.institution_id.in_(admin_of)))
        .options(selectinload(Course.translations))
        .order_by(Course.updated_at.desc())
    )


def review_queue(user: User) -> Select:
    """Courses waiting for review at institutions the user administers."""
    stmt = select(Course).where(Course.status == "in_review")
    if not user.is_platform_admin:
        stmt = stmt.where(Course.institution_id.in_(user.institutions_with(Role.ADMIN)))
    return stmt.options(selectinload(Course.translations)).order_by(Course.updated_at)


# ---------------------------------------------------------------------------- validation


@dataclass
class CourseData:
    """Course facts (not texts). ``None`` means "leave as it is" on update."""

    code: str | None = None
    track: str | None = None
    asean_language: str | None = None
    kind: str | None = None
    industry: str | None = None
    aqrf_level: int | None = None
    cn_level: str | None = None
    credits: Any = None
    learning_hours: Any = None
    instruction_languages: list[str] | None = None
    source_locale: str | None = None
    capacity: Any = None
    enrol_opens_at: datetime | None = None
    enrol_closes_at: datetime | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    prerequisites: list[str] | None = None
    teachers: list[str] | None = None
    #: which optional fields were given explicitly (so that a blank can clear them)
    given: set[str] = field(default_factory=set)


def _choice(errors: list, name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        errors.append({"field": name, "message": _("This value is not allowed.")})


def _clean_course(data: CourseData, course: Course | None) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    out: dict[str, Any] = {}
    if data.code is not None:
        code = (data.code or "").strip().upper()
        if not CODE_RE.fullmatch(code):
            errors.append(
                {
                    "field": "code",
                    "message": _(
                        "Use 3 to 40 capital letters, digits and hyphens, e.g. LZ-AUTO-101."
                    ),
                }
            )
        out["code"] = code
    for name, allowed in (("track", TRACKS), ("kind", KINDS), ("industry", INDUSTRIES)):
        value = getattr(data, name)
        if value is not None:
            _choice(errors, name, value, allowed)
            out[name] = value
    track = out.get("track", course.track if course else None)
    if data.asean_language is not None or "asean_language" in data.given or "track" in out:
        lang = data.asean_language or None
        if track == "asean_plus":
            if lang not in ASEAN_LANGUAGES:
                errors.append(
                    {
                        "field": "asean_language",
                        "message": _("Choose the ASEAN language this course teaches."),
                    }
                )
        else:
            lang = None
        out["asean_language"] = lang
    if data.aqrf_level is not None or "aqrf_level" in data.given:
        level = data.aqrf_level
        if level is not None and not (isinstance(level, int) and 1 <= level <= 8):
            errors.append({"field": "aqrf_level", "message": _("Choose a level from 1 to 8.")})
        out["aqrf_level"] = level
    if data.cn_level is not None or "cn_level" in data.given:
        if data.cn_level:
            _choice(errors, "cn_level", data.cn_level, CN_LEVELS)
        out["cn_level"] = data.cn_level or None
    if data.credits is not None:
        try:
            credits = Decimal(str(data.credits)).quantize(Decimal("0.1"))
            if credits < 0 or credits > 999:
                raise InvalidOperation
            out["credits"] = credits
        except (InvalidOperation, ValueError):
            errors.append(
                {
                    "field": "credits",
                    "message": _("Enter the credits as a number from 0 to 999, e.g. 2.5."),
                }
            )
    for name in ("learning_hours", "capacity"):
        value = getattr(data, name)
        if value is None and name not in data.given:
            continue
        if value in (None, "") and name == "capacity":
            out[name] = None
            continue
        try:
            number = int(value)
            if number < 0 or number > 1_000_000:
                raise ValueError
            out[name] = number
        except (TypeError, ValueError):
            errors.append({"field": name, "message": _("Please enter a whole number.")})
    if data.instruction_languages is not None:
        langs = list(dict.fromkeys(data.instruction_languages))
        if not langs or any(lang not in LANGUAGES for lang in langs):
            errors.append(
                {
                    "field": "instruction_languages",
                    "message": _("Choose at least one language of instruction."),
                }
            )
        out["instruction_languages"] = langs
    if data.source_locale is not None:
        _choice(errors, "source_locale", data.source_locale, tuple(LANGUAGES))
        out["source_locale"] = data.source_locale
    for name in ("enrol_opens_at", "enrol_closes_at", "starts_on", "ends_on"):
        if getattr(data, name) is not None or name in data.given:
            out[name] = getattr(data, name)
    opens = out.get("enrol_opens_at", course.enrol_opens_at if course else None)
    closes = out.get("enrol_closes_at", course.enrol_closes_at if course else None)
    if opens and closes and closes <= opens:
        errors.append(
            {"field": "enrol_closes_at", "message": _("Enrolment must close after it opens.")}
        )
    starts = out.get("starts_on", course.starts_on if course else None)
    ends = out.get("ends_on", course.ends_on if course else None)
    if starts and ends and ends < starts:
        errors.append({"field": "ends_on", "message": _("The course must end after it starts.")})
    if errors:
        raise ValidationError(_("Please correct the fields listed below."), errors=errors)
    return out


def _resolve_prerequisites(codes: list[str], course_code: str) -> list[Course]:
    found = []
    for raw in codes:
        code = raw.strip().upper()
        if not code:
            continue
        if code == course_code:
            raise field_error("prerequisites", _("A course cannot require itself."))
        other = db.session.scalar(select(Course).filter_by(code=code))
        if other is None:
            raise field_error("prerequisites", _("No course with the code %(code)s.", code=code))
        found.append(other)
    return found


def _resolve_teachers(emails: list[str], institution: Institution) -> list[User]:
    teachers = []
    for raw in emails:
        try:
            email = text.email(raw)
        except text.TextError:
            raise field_error("teachers", _("Please enter a valid e-mail address.")) from None
        user = db.session.scalar(select(User).filter_by(email=email))
        if user is None or not user.has_role(institution.id, Role.TEACHER, Role.ADMIN):
            raise field_error(
                "teachers", _("%(email)s is not a teacher of this institution.", email=email)
            )
        teachers.append(user)
    return teachers


# ---------------------------------------------------------------------------- authoring


def create_course(
    actor: User | None, institution: Institution, data: CourseData, texts: dict[str, dict[str, Any]]
) -> Course:
    """Create a draft course at ``institution`` (its teachers and administrators) with
    texts in at least its source language. The creating teacher becomes an owner."""
    if actor is not None:
        require(actor, "course.create", institution)
    for required in ("code", "track", "industry"):
        if getattr(data, required) is None:
            setattr(data, required, "")
    data.kind = data.kind or "course"
    data.instruction_languages = data.instruction_languages or []
    data.source_locale = data.source_locale or institution.default_locale
    cleaned = _clean_course(data, None)
    if db.session.scalar(select(Course.id).filter_by(code=cleaned["code"])) is not None:
        raise field_error("code", _("This course code is already in use."))
    course = Course(institution=institution, status="draft", **cleaned)
    db.session.add(course)
    if data.prerequisites:
        course.prerequisites = _resolve_prerequisites(data.prerequisites, course.code)
    if data.teachers:
        course.teachers = _resolve_teachers(data.teachers, institution)
    elif actor is not None and actor.has_role(institution.id, Role.TEACHER):
        course.teachers = [actor]
    source = course.source_locale
    if not (texts.get(source) or {}).get("title"):
        raise field_error(f"title.{source}", _("Give the course a title in its source language."))
    for locale, fields in texts.items():
        set_course_texts(None, course, locale, fields, check=False)
    db.session.flush()
    record(actor, "course.created", "course", course.code, after={"status": "draft"})
    return course


def update_course(actor: User | None, course: Course, data: CourseData) -> Course:
    """Change a course's facts (its owners and the institution's administrators)."""
    if actor is not None:
        require(actor, "course.edit", course)
    data.code = None  # the code is the course's identity
    cleaned = _clean_course(data, course)
    for name, value in cleaned.items():
        setattr(course, name, value)
    if data.prerequisites is not None:
        course.prerequisites = _resolve_prerequisites(data.prerequisites, course.code)
    if data.teachers is not None:
        course.teachers = _resolve_teachers(data.teachers, course.institution)
    db.session.flush()
    return course


COURSE_TEXT_FIELDS = ("title", "summary", "description", "outcomes")


def _clean_texts(fields: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in allowed:
            continue
        if name == "outcomes":
            items = value if isinstance(value, list) else str(value or "").splitlines()
            out[name] = [text.display(str(v)) for v in items if text.display(str(v))]
        elif name == "body" or name in ("summary", "description"):
            out[name] = text.display(str(value or ""), multiline=True)
        else:
            cleaned = text.display(str(value or ""))
            if len(cleaned) > 300:
                raise field_error(name, _("This value is too long."))
            out[name] = cleaned
    return out


def _check_locale(locale: str) -> None:
    if locale not in LANGUAGES:
        raise field_error("locale", _("Please choose one of the offered languages."))


def _check_status(status: str | None) -> str:
    status = status or "original"
    if status not in TRANSLATION_STATUSES:
        raise field_error("status", _("This value is not allowed."))
    return status


def set_course_texts(
    actor: User | None,
    course: Course,
    locale: str,
    fields: dict[str, Any],
    status: str | None = None,
    *,
    check: bool = True,
) -> CourseTranslation:
    """Write a course's texts in one locale (creating that translation)."""
    if check and actor is not None:
        require(actor, "course.edit", course)
    _check_locale(locale)
    cleaned = _clean_texts(fields, COURSE_TEXT_FIELDS)
    row = course.translation(locale)
    if row is None:
        row = CourseTranslation(locale=locale, title="", summary="", description="", outcomes=[])
        course.translations.append(row)
    for name, value in cleaned.items():
        setattr(row, name, value)
    row.status = _check_status(status or fields.get("status") or row.status)
    if locale == course.source_locale and not row.title:
        raise field_error("title", _("Give the course a title in its source language."))
    db.session.flush()
    return row


def delete_course_texts(actor: User, course: Course, locale: str) -> None:
    """Remove one translation (never the source language's)."""
    require(actor, "course.edit", course)
    if locale == course.source_locale:
        raise Conflict(_("The source language's texts cannot be removed."))
    row = course.translation(locale)
    if row is not None:
        course.translations.remove(row)
        db.session.flush()


def add_module(
    actor: User | None,
    course: Course,
    key: str,
    texts: dict[str, dict[str, Any]],
    *,
    check: bool = True,
) -> Module:
    """Append a module to a course."""
    if check and actor is not None:
        require(actor, "course.edit", course)
    key = _clean_key(key or f"module-{len(course.modules) + 1}", "key")
    if any(m.key == key for m in course.modules):
        raise field_error("key", _("This key is already used in this course."))
    module = Module(key=key, position=len(course.modules))
    course.modules.append(module)
    for locale, fields in texts.items():
        set_module_texts(None, module, locale, fields, check=False)
    db.session.flush()
    return module


def set_module_texts(
    actor: User | None,
    module: Module,
    locale: str,
    fields: dict[str, Any],
    status: str | None = None,
    *,
    check: bool = True,
) -> ModuleTranslation:
    if check and actor is not None:
        require(actor, "course.edit", module.course)
    _check_locale(locale)
    cleaned = _clean_texts(fields, ("title", "summary"))
    row = module.translation(locale)
    if row is None:
        row = ModuleTranslation(locale=locale, title="", summary="")
        module.translations.append(row)
    for name, value in cleaned.items():
        setattr(row, name, value)
    row.status = _check_status(status or fields.get("status") or row.status)
    db.session.flush()
    return row


def _clean_key(key: str, name: str) -> str:
    key = (key or "").strip().lower()
    if not KEY_RE.fullmatch(key):
        raise field_error(name, _("Use lower-case letters, digits and hyphens."))
    return key


def add_lesson(
    actor: User | None,
    module: Module,
    key: str,
    kind: str,
    texts: dict[str, dict[str, Any]],
    *,
    minutes: int = 0,
    required: bool = True,
    media_asset_id: str | None = None,
    check: bool = True,
) -> Lesson:
    """Append a lesson to a module. Keys are unique in the course, so progress and links
    survive re-imports and reordering."""
    course = module.course
    if check and actor is not None:
        require(actor, "course.edit", course)
    key = _clean_key(key or f"lesson-{lesson_count(course) + 1}", "key")
    if kind not in LESSON_KINDS:
        raise field_error("kind", _("This value is not allowed."))
    if db.session.scalar(select(Lesson.id).filter_by(course_id=course.id, key=key)):
        raise field_error("key", _("This key is already used in this course."))
    lesson = Lesson(
        key=key,
        kind=kind,
        position=len(module.lessons),
        course_id=course.id,
        minutes=max(0, int(minutes or 0)),
        required=required,
        media_asset_id=_check_media(actor, kind, media_asset_id),
    )
    module.lessons.append(lesson)
    for locale, fields in texts.items():
        set_lesson_texts(None, lesson, locale, fields, check=False)
    db.session.flush()
    return lesson


def _check_media(actor: User | None, kind: str, asset_id: str | None) -> str | None:
    """A lesson's video or document must exist, be of the lesson's kind and be one the
    author may use (their own, or their institution's)."""
    if not asset_id:
        return None
    asset = media.get_asset(asset_id)
    if kind not in ("video", "document") or asset.kind != kind:
        raise field_error(
            "media_asset_id",
            _("Choose a video for a video lesson and a PDF document for a document lesson."),
        )
    if actor is not None and not can(actor, "media.view", asset):
        raise field_error("media_asset_id", _("No such media file."))
    return asset.id


def update_lesson(
    actor: User,
    lesson: Lesson,
    *,
    kind: str | None = None,
    minutes: int | None = None,
    required: bool | None = None,
    media_asset_id: str | None = None,
) -> Lesson:
    require(actor, "course.edit", lesson.module.course)
    if kind is not None:
        if kind not in LESSON_KINDS:
            raise field_error("kind", _("This value is not allowed."))
        lesson.kind = kind
    if minutes is not None:
        lesson.minutes = max(0, int(minutes))
    if required is not None:
        lesson.required = bool(required)
    if media_asset_id is not None:
        lesson.media_asset_id = _check_media(actor, lesson.kind, media_asset_id)
    db.session.flush()
    return lesson


def set_lesson_texts(
    actor: User | None,
    lesson: Lesson,
    locale: str,
    fields: dict[str, Any],
    status: str | None = None,
    *,
    check: bool = True,
) -> LessonTranslation:
    if check and actor is not None:
        require(actor, "course.edit", lesson.module.course)
    _check_locale(locale)
    cleaned = _clean_texts(fields, ("title", "body"))
    row = lesson.translation(locale)
    if row is None:
        row = LessonTranslation(locale=locale, title="", body="")
        lesson.translations.append(row)
    for name, value in cleaned.items():
        setattr(row, name, value)
    row.status = _check_status(status or fields.get("status") or row.status)
    db.session.flush()
    return row


def move(actor: User, item: Module | Lesson, direction: str) -> None:
    """Move a module or lesson one place up or down among its siblings."""
    parent = item.course if isinstance(item, Module) else item.module
    course = parent if isinstance(item, Module) else parent.course
    require(actor, "course.edit", course)
    siblings = list(parent.modules if isinstance(item, Module) else parent.lessons)
    index = siblings.index(item)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings):
        sibling.position = position
    db.session.flush()
    db.session.expire(parent, ["modules" if isinstance(item, Module) else "lessons"])


def delete_module(actor: User, module: Module) -> None:
    course = module.course
    require(actor, "course.edit", course)
    course.modules.remove(module)
    for position, sibling in enumerate(course.modules):
        sibling.position = position
    db.session.flush()


def delete_lesson(actor: User, lesson: Lesson) -> None:
    module = lesson.module
    require(actor, "course.edit", module.course)
    module.lessons.remove(lesson)
    for position, sibling in enumerate(module.lessons):
        sibling.position = position
    db.session.flush()


# ---------------------------------------------------------------------------- glossary


def pinyin_for(term: str) -> str:
    """Tone-marked pinyin for a Chinese term, syllables of one word joined (汽车 → qìchē)."""
    return "".join(lazy_pinyin(term, style=Style.TONE, errors="default"))


def set_glossary_term(
    actor: User | None,
    course: Course,
    term: str,
    *,
    pinyin: str = "",
    translations: dict[str, str] | None = None,
    check: bool = True,
) -> GlossaryTerm:
    """Add or update a glossary term; pinyin is generated when not given."""
    if check and actor is not None:
        require(actor, "course.edit", course)
    term = text.display(term or "")
    if not term or len(term) > 100:
        raise field_error("term", _("Enter a Chinese term of at most 100 characters."))
    cleaned = {}
    for loc, value in (translations or {}).items():
        _check_locale(loc)
        if text.display(value or ""):
            cleaned[loc] = text.display(value)[:300]
    row = next((t for t in course.glossary if t.term == term), None)
    if row is None:
        row = GlossaryTerm(term=term, position=len(course.glossary))
        course.glossary.append(row)
    row.pinyin = text.display(pinyin or "") or pinyin_for(term)
    row.translations = cleaned
    db.session.flush()
    return row


def delete_glossary_term(actor: User, term: GlossaryTerm) -> None:
    require(actor, "course.edit", term.course)
    course = term.course
    course.glossary.remove(term)
    for position, sibling in enumerate(course.glossary):
        sibling.position = position
    db.session.flush()


# ---------------------------------------------------------------------------- review


def _review(course: Course, actor: User | None, action: str, comment: str = "") -> None:
    course.reviews.append(
        CourseReview(
            actor=actor, action=action, comment=text.display(comment or "", multiline=True)
        )
    )
    record(actor, f"course.{action}", "course", course.code, reason=comment or "")


def submit_for_review(actor: User, course: Course) -> Course:
    """A draft goes to the institution's administrators for review."""
    require(actor, "course.edit", course)
    if course.status != "draft":
        raise Conflict(_("Only a draft can be submitted for review."))
    if not course.modules or lesson_count(course) == 0:
        raise Conflict(_("Add at least one module with a lesson before submitting."))
    course.status = "in_review"
    _review(course, actor, "submitted")
    db.session.flush()
    return course


def approve(actor: User | None, course: Course, comment: str = "", *, check: bool = True) -> Course:
    """Publish a course under review (the offering institution's administrators)."""
    if check:
        require(actor, "course.review", course)
        if course.status != "in_review":
            raise Conflict(_("Only a course under review can be published."))
    course.status = "published"
    course.published_at = course.published_at or utcnow()
    _review(course, actor, "approved", comment)
    db.session.flush()
    return course


def return_for_changes(actor: User, course: Course, comment: str) -> Course:
    """Send a course under review back to its authors, saying why."""
    require(actor, "course.review", course)
    if course.status != "in_review":
        raise Conflict(_("Only a course under review can be returned."))
    if not text.display(comment or ""):
        raise field_error("comment", _("Say what should change."))
    course.status = "draft"
    _review(course, actor, "returned", comment)
    db.session.flush()
    return course


def archive(actor: User, course: Course, comment: str = "") -> Course:
    """Withdraw a course from the catalogue; its content and history stay."""
    require(actor, "course.review", course)
    if course.status == "archived":
        raise Conflict(_("This course is already archived."))
    course.status = "archived"
    _review(course, actor, "archived", comment)
    db.session.flush()
    return course


def reopen(actor: User, course: Course) -> Course:
    """Bring an archived course back as a draft."""
    require(actor, "course.review", course)
    if course.status != "archived":
        raise Conflict(_("Only an archived course can be reopened."))
    course.status = "draft"
    _review(course, actor, "reopened")
    db.session.flush()
    return course


# ------------------------------------------------------------------ catalogue cache

#: what the cached catalogue pages are made of (courses, their texts, institutions' names)
_CATALOGUE_ROWS = (Course, CourseTranslation, Institution)
CACHE_NAMESPACE = "catalogue"


@event.listens_for(Session, "after_flush")
def _catalogue_changed(session: Session, _context: Any) -> None:
    """A course, course text or institution was written: the cached catalogue pages are
    renewed now, and once more when the transaction ends (commit or rollback), so that no
    page rendered from the data in between outlives it."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if has_app_context() and any(isinstance(o, _CATALOGUE_ROWS) for o in changed):
        session.info["lms_catalogue_changed"] = True
        cache.bump(CACHE_NAMESPACE)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _catalogue_settled(session: Session, *_args: Any) -> None:
    if session.info.pop("lms_catalogue_changed", False) and has_app_context():
        cache.bump(CACHE_NAMESPACE)


def cached_catalogue(parts: Any, produce: Callable[[], str]) -> str:
    """A catalogue page (HTML or JSON) the same for every reader of ``parts`` (locale and
    query), reused for ``LMS_CATALOGUE_CACHE_SECONDS``."""
    ttl = int(current_app.config.get("CATALOGUE_CACHE_SECONDS") or 0)
    return cache.cached(CACHE_NAMESPACE, parts, ttl, produce)
