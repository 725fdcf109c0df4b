"""Course packages: a plain-text format teachers can keep in version control.

A package is a folder::

    course.yaml                 facts, texts per locale, modules and lessons
    lessons/<key>.<locale>.md   one Markdown file per lesson and language
    glossary.yaml               optional: Chinese terms, pinyin, translations

``import_packages`` validates everything first and reports every problem with its file,
line and reason; a batch with any problem writes nothing. Imports are idempotent and
update by course code (modules and lessons by their keys), so progress that points at a
lesson survives a re-import. ``export_package`` writes the same format back, so that
export → import → export is byte-identical. The format is documented in courses/README.md.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from lms.accounts.models import Institution
from lms.catalog import services
from lms.catalog.models import (
    ASEAN_LANGUAGES,
    CN_LEVELS,
    INDUSTRIES,
    KINDS,
    LESSON_KINDS,
    TRACKS,
    TRANSLATION_STATUSES,
    Course,
)
from lms.core.audit import record
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.core.i18n import LANGUAGES

MAX_FILE_BYTES = 1_000_000
MAX_PACKAGE_BYTES = 20_000_000
MAX_FILES = 2_000
COURSE_FIELDS = {
    "code",
    "institution",
    "track",
    "asean_language",
    "kind",
    "industry",
    "aqrf_level",
    "cn_level",
    "credits",
    "learning_hours",
    "instruction_languages",
    "source_locale",
    "capacity",
    "status",
    "prerequisites",
    "teachers",
    "title",
    "summary",
    "description",
    "outcomes",
    "translation_status",
    "modules",
}
MODULE_FIELDS = {"key", "title", "summary", "lessons"}
LESSON_FIELDS = {"key", "kind", "minutes", "required", "title", "body"}
GLOSSARY_FIELDS = {"term", "pinyin", "translations"}


@dataclass
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Package:
    root: Path
    course: dict[str, Any]
    bodies: dict[str, dict[str, str]] = field(default_factory=dict)  # lesson key → locale → md
    glossary: list[dict[str, Any]] = field(default_factory=list)


class PackageError(DomainError):
    status = 422
    slug = "invalid-package"

    def __init__(self, problems: list[Problem]):
        super().__init__(
            ngettext(
                "The package has %(num)d problem.",
                "The package has %(num)d problems.",
                len(problems),
            ),
            errors=[{"field": f"{p.file}:{p.line}", "message": p.message} for p in problems],
        )
        self.problems = problems


# ---------------------------------------------------------------------------- YAML with lines


class LMap(dict):
    line = 1
    lines: dict[Any, int]


class LSeq(list):
    line = 1
    lines: list[int]


class _Loader(yaml.SafeLoader):
    """``safe_load`` that remembers the line of every key and item."""


def _map(loader: _Loader, node: yaml.MappingNode) -> LMap:
    loader.flatten_mapping(node)
    out = LMap()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _seq(loader: _Loader, node: yaml.SequenceNode) -> LSeq:
    out = LSeq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _seq)


def _line(container: Any, key: Any, default: int = 1) -> int:
    if isinstance(container, LMap):
        return container.lines.get(key, container.line)
    if isinstance(container, LSeq) and isinstance(key, int) and key < len(container.lines):
        return container.lines[key]
    return getattr(container, "line", default)


def is_link(path: Path) -> bool:
    """A symbolic link, or a file with another name (a hard link may point anywhere on the
    file system, e.g. at a secret): a package never reads through either."""
    return path.is_symlink() or (path.is_file() and path.stat().st_nlink > 1)


def _load_yaml(path: Path, rel: str, problems: list[Problem]) -> Any:
    if is_link(path):
        problem = Problem(rel, 1, _("Links are not allowed in a package."))
        if problem not in problems:  # the tree check may have said so already
            problems.append(problem)
        return None
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        problems.append(Problem(rel, 1, _("The file is larger than 1 MB.")))
        return None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(rel, source_line(raw, exc.start), _("The file is not valid UTF-8 text."))
        )
        return None
    try:
        for event in yaml.parse(source, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1
                problems.append(Problem(rel, line, _("Anchors and aliases are not allowed.")))
                return None
        return yaml.load(source, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problems.append(
            Problem(
                rel,
                line,
                _(
                    "This is not valid YAML: %(reason)s",
                    reason=getattr(exc, "problem", None) or str(exc),
                ),
            )
        )
        return None


def source_line(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


# ---------------------------------------------------------------------------- reading a package


def find_packages(paths: list[Path]) -> list[Path]:
    """Package folders named directly or found one level below the given folders."""
    found: list[Path] = []
    for path in paths:
        if (path / "course.yaml").is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.iterdir() if (p / "course.yaml").is_file())
    return found


def _inside(root: Path, rel: str) -> Path | None:
    """The file ``rel`` inside ``root``, or None if it escapes it or is a link."""
    if not rel or os.path.isabs(rel) or "\\" in rel or "\x00" in rel:
        return None
    candidate = root / rel
    try:
        resolved = candidate.resolve(strict=False)
        resolved.relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    for part in [candidate, *candidate.parents]:
        if part == root:
            break
        if part.is_symlink():
            return None
    return candidate


def _check_tree(root: Path, name: str, problems: list[Problem]) -> None:
    total, count = 0, 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for entry in dirnames + filenames:
            full = Path(dirpath) / entry
            rel = f"{name}/{full.relative_to(root)}"
            if is_link(full):
                problems.append(Problem(rel, 1, _("Links are not allowed in a package.")))
            elif full.is_file():
                count += 1
                total += full.stat().st_size
    if count > MAX_FILES:
        problems.append(Problem(name, 1, _("The package has more than %(n)d files.", n=MAX_FILES)))
    if total > MAX_PACKAGE_BYTES:
        problems.append(Problem(name, 1, _("The package is larger than 20 MB.")))


def read_package(root: Path, problems: list[Problem]) -> Package | None:
    """Parse and check one package folder, appending every problem found."""
    name = root.name
    _check_tree(root, name, problems)
    course_file = f"{name}/course.yaml"
    data = _load_yaml(root / "course.yaml", course_file, problems)
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(Problem(course_file, 1, _("course.yaml must be a mapping of fields.")))
        return None
    pkg = Package(root=root, course=data)
    _check_course(pkg, course_file, problems)
    gpath = root / "glossary.yaml"
    if gpath.is_file() and not is_link(gpath):
        glossary = _load_yaml(gpath, f"{name}/glossary.yaml", problems)
        if glossary is not None:
            _check_glossary(glossary, f"{name}/glossary.yaml", problems)
            pkg.glossary = glossary if isinstance(glossary, list) else []
    return pkg


def _texts(
    container: Any, key: str, file: str, problems: list[Problem], *, list_values: bool = False
) -> dict[str, Any]:
    """A ``{locale: text}`` field, checked."""
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(
            Problem(
                file,
                _line(container, key),
                _("%(field)s must map language codes to texts.", field=key),
            )
        )
        return {}
    out = {}
    for locale, text_value in value.items():
        line = _line(value, locale)
        if not _is_locale(locale):
            problems.append(
                Problem(file, line, _("Unknown language code %(code)s.", code=str(locale)))
            )
            continue
        if list_values:
            if not isinstance(text_value, list) or not all(isinstance(v, str) for v in text_value):
                problems.append(
                    Problem(
                        file, line, _("%(field)s must be a list of texts.", field=f"{key}.{locale}")
                    )
                )
                continue
        elif not isinstance(text_value, str):
            problems.append(
                Problem(file, line, _("%(field)s must be text.", field=f"{key}.{locale}"))
            )
            continue
        out[locale] = text_value
    return out


def _is_locale(value: Any) -> bool:
    """A language code of the platform (YAML may put a list or a mapping where one goes)."""
    return isinstance(value, str) and value in LANGUAGES


def _unknown(container: dict, allowed: set[str], file: str, problems: list[Problem]) -> None:
    for key in container:
        if key not in allowed:
            problems.append(
                Problem(file, _line(container, key), _("Unknown field %(field)s.", field=str(key)))
            )


def _enum(
    container: dict,
    key: str,
    allowed: tuple[str, ...],
    file: str,
    problems: list[Problem],
    *,
    required: bool = True,
) -> None:
    value = container.get(key)
    if value is None and not required:
        return
    if value not in allowed:
        problems.append(
            Problem(
                file,
                _line(container, key),
                _("%(field)s must be one of: %(allowed)s.", field=key, allowed=", ".join(allowed)),
            )
        )


def _check_course(pkg: Package, file: str, problems: list[Problem]) -> None:
    c = pkg.course
    _unknown(c, COURSE_FIELDS, file, problems)
    for required in ("code", "institution", "track", "industry", "title", "modules"):
        if required not in c:
            problems.append(Problem(file, 1, _("The field %(field)s is missing.", field=required)))
    if "code" in c and not (isinstance(c["code"], str) and services.CODE_RE.fullmatch(c["code"])):
        problems.append(
            Problem(
                file,
                _line(c, "code"),
                _("Use 3 to 40 capital letters, digits and hyphens, e.g. LZ-AUTO-101."),
            )
        )
    _enum(c, "track", TRACKS, file, problems)
    _enum(c, "kind", KINDS, file, problems, required=False)
    _enum(c, "industry", INDUSTRIES, file, problems)
    _enum(c, "cn_level", CN_LEVELS, file, problems, required=False)
    _enum(c, "status", ("draft", "published"), file, problems, required=False)
    if c.get("track") == "asean_plus":
        _enum(c, "asean_language", ASEAN_LANGUAGES, file, problems)
    level = c.get("aqrf_level")
    if level is not None and not (isinstance(level, int) and 1 <= level <= 8):
        problems.append(Problem(file, _line(c, "aqrf_level"), _("Choose a level from 1 to 8.")))
    credits = c.get("credits", 0)
    if isinstance(credits, bool) or not isinstance(credits, int | float) or not 0 <= credits <= 999:
        problems.append(
            Problem(
                file,
                _line(c, "credits"),
                _("Enter the credits as a number from 0 to 999, e.g. 2.5."),
            )
        )
    for key in ("learning_hours", "capacity"):
        if key in c and c[key] is not None and not (isinstance(c[key], int) and c[key] >= 0):
            problems.append(Problem(file, _line(c, key), _("Please enter a whole number.")))
    langs = c.get("instruction_languages", [])
    if not isinstance(langs, list) or not langs or not all(_is_locale(x) for x in langs):
        problems.append(
            Problem(
                file,
                _line(c, "instruction_languages"),
                _("Choose at least one language of instruction."),
            )
        )
    source = c.get("source_locale", "zh_Hans")
    if not _is_locale(source):
        problems.append(
            Problem(
                file,
                _line(c, "source_locale"),
                _("Unknown language code %(code)s.", code=str(source)),
            )
        )
    titles = _texts(c, "title", file, problems)
    if "title" in c and not (_is_locale(source) and titles.get(source)):
        problems.append(
            Problem(file, _line(c, "title"), _("Give the course a title in its source language."))
        )
    _texts(c, "summary", file, problems)
    _texts(c, "description", file, problems)
    _texts(c, "outcomes", file, problems, list_values=True)
    statuses = c.get("translation_status") or {}
    if not isinstance(statuses, dict) or any(
        not _is_locale(k) or v not in TRANSLATION_STATUSES for k, v in statuses.items()
    ):
        problems.append(
            Problem(
                file,
                _line(c, "translation_status"),
                _("translation_status must map language codes to original, machine or reviewed."),
            )
        )
    for key in ("prerequisites", "teachers"):
        value = c.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(
                Problem(file, _line(c, key), _("%(field)s must be a list of texts.", field=key))
            )
    modules = c.get("modules")
    if modules is None:
        return
    if not isinstance(modules, list) or not modules:
        problems.append(
            Problem(file, _line(c, "modules"), _("Give the course at least one module."))
        )
        return
    module_keys: set[str] = set()
    lesson_keys: set[str] = set()
    for i, module in enumerate(modules):
        line = _line(modules, i)
        if not isinstance(module, dict):
            problems.append(Problem(file, line, _("A module must be a mapping of fields.")))
            continue
        _unknown(module, MODULE_FIELDS, file, problems)
        _key(module, "key", module_keys, file, problems)
        _texts(module, "title", file, problems)
        _texts(module, "summary", file, problems)
        if not _texts(module, "title", file, []):
            problems.append(
                Problem(
                    file,
                    module.line if isinstance(module, LMap) else line,
                    _("The module needs a title."),
                )
            )
        lessons = module.get("lessons")
        if not isinstance(lessons, list) or not lessons:
            problems.append(
                Problem(file, _line(module, "lessons"), _("Give the module at least one lesson."))
            )
            continue
        for j, lesson in enumerate(lessons):
            lline = _line(lessons, j)
            if not isinstance(lesson, dict):
                problems.append(Problem(file, lline, _("A lesson must be a mapping of fields.")))
                continue
            _check_lesson(pkg, lesson, lesson_keys, file, problems)


def _key(container: dict, name: str, seen: set[str], file: str, problems: list[Problem]) -> None:
    key = container.get(name)
    line = _line(container, name)
    if not isinstance(key, str) or not services.KEY_RE.fullmatch(key):
        problems.append(
            Problem(file, line, _("The key must use lower-case letters, digits and hyphens."))
        )
    elif key in seen:
        problems.append(Problem(file, line, _("The key %(key)s is used twice.", key=key)))
    else:
        seen.add(key)


def _check_lesson(
    pkg: Package, lesson: dict, seen: set[str], file: str, problems: list[Problem]
) -> None:
    _unknown(lesson, LESSON_FIELDS, file, problems)
    _key(lesson, "key", seen, file, problems)
    _enum(lesson, "kind", LESSON_KINDS, file, problems, required=False)
    if not _texts(lesson, "title", file, problems):
        problems.append(Problem(file, getattr(lesson, "line", 1), _("The lesson needs a title.")))
    minutes = lesson.get("minutes", 0)
    if not isinstance(minutes, int) or minutes < 0:
        problems.append(Problem(file, _line(lesson, "minutes"), _("Please enter a whole number.")))
    if not isinstance(lesson.get("required", True), bool):
        problems.append(Problem(file, _line(lesson, "required"), _("Please choose yes or no.")))
    body = lesson.get("body")
    if body is None:
        return
    line = _line(lesson, "body")
    stem = _inside(pkg.root, str(body)) if isinstance(body, str) else None
    if stem is None:
        problems.append(
            Problem(
                file,
                line,
                _("The lesson text must be a path inside the package, e.g. lessons/intro."),
            )
        )
        return
    found: dict[str, str] = {}
    for locale in LANGUAGES:
        path = stem.parent / f"{stem.name}.{locale}.md"
        if is_link(path):
            problems.append(Problem(file, line, _("Links are not allowed in a package.")))
        elif path.is_file():
            raw = path.read_bytes()
            rel = f"{pkg.root.name}/{path.relative_to(pkg.root)}"
            if len(raw) > MAX_FILE_BYTES:
                problems.append(Problem(rel, 1, _("The file is larger than 1 MB.")))
                continue
            try:
                found[locale] = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(
                    Problem(
                        rel, source_line(raw, exc.start), _("The file is not valid UTF-8 text.")
                    )
                )
    if not found:
        problems.append(
            Problem(
                file,
                line,
                _("No lesson text files %(stem)s.<language>.md were found.", stem=str(body)),
            )
        )
    if isinstance(lesson.get("key"), str):
        pkg.bodies[lesson["key"]] = found


def _check_glossary(glossary: Any, file: str, problems: list[Problem]) -> None:
    if not isinstance(glossary, list):
        problems.append(Problem(file, 1, _("glossary.yaml must be a list of terms.")))
        return
    seen: set[str] = set()
    for i, entry in enumerate(glossary):
        line = _line(glossary, i)
        if not isinstance(entry, dict):
            problems.append(Problem(file, line, _("A glossary entry must be a mapping.")))
            continue
        _unknown(entry, GLOSSARY_FIELDS, file, problems)
        term = entry.get("term")
        if not isinstance(term, str) or not term.strip() or len(term) > 100:
            problems.append(
                Problem(file, line, _("Enter a Chinese term of at most 100 characters."))
            )
        elif term in seen:
            problems.append(Problem(file, line, _("The term %(term)s is listed twice.", term=term)))
        else:
            seen.add(term)
        if "pinyin" in entry and not isinstance(entry["pinyin"], str):
            problems.append(
                Problem(file, _line(entry, "pinyin"), _("%(field)s must be text.", field="pinyin"))
            )
        _texts(entry, "translations", file, problems)


def _check_references(packages: list[Package], problems: list[Problem]) -> None:
    """Institutions, teachers and prerequisites must exist (or come in the same batch)."""
    from lms.accounts import services as accounts

    codes_in_batch = {p.course.get("code") for p in packages}
    for pkg in packages:
        c, file = pkg.course, f"{pkg.root.name}/course.yaml"
        slug = c.get("institution")
        inst = (
            db.session.scalar(select(Institution).filter_by(slug=slug))
            if isinstance(slug, str)
            else None
        )
        if inst is None and "institution" in c:
            problems.append(
                Problem(
                    file,
                    _line(c, "institution"),
                    _("No institution with the identifier %(slug)s.", slug=str(slug)),
                )
            )
        for code in c.get("prerequisites", []) or []:
            if not isinstance(code, str):
                continue
            exists = code in codes_in_batch or db.session.scalar(
                select(Course.id).filter_by(code=code.upper())
            )
            if not exists:
                problems.append(
                    Problem(
                        file,
                        _line(c, "prerequisites"),
                        _("No course with the code %(code)s.", code=code),
                    )
                )
        for email in c.get("teachers", []) or []:
            if not isinstance(email, str):
                continue
            user = accounts.find_user_by_email(email)
            if user is None or inst is None or not user.has_role(inst.id, "teacher", "admin"):
                problems.append(
                    Problem(
                        file,
                        _line(c, "teachers"),
                        _("%(email)s is not a teacher of this institution.", email=email),
                    )
                )
    seen: dict[str, str] = {}
    for pkg in packages:
        code = pkg.course.get("code")
        if code in seen:
            problems.append(
                Problem(
                    f"{pkg.root.name}/course.yaml",
                    _line(pkg.course, "code"),
                    _("The course code %(code)s is used twice.", code=code),
                )
            )
        seen[code] = pkg.root.name


# ---------------------------------------------------------------------------- importing


def import_packages(paths: list[Path], actor: Any = None) -> list[Course]:
    """Validate every package, then write them all, or raise ``PackageError`` listing every
    problem and write nothing."""
    roots = find_packages(paths)
    problems: list[Problem] = []
    if not roots:
        raise PackageError([Problem(str(p), 1, _("No course.yaml was found here.")) for p in paths])
    packages = [pkg for root in roots if (pkg := read_package(root, problems)) is not None]
    if not problems:
        _check_references(packages, problems)
    if problems:
        raise PackageError(problems)
    # prerequisites may point at courses of the same batch: write facts first, links last
    courses = [_write(pkg, actor) for pkg in packages]
    for pkg, course in zip(packages, courses, strict=True):
        course.prerequisites = [
            services.get_course(code) for code in pkg.course.get("prerequisites", []) or []
        ]
    db.session.flush()
    return courses


def _write(pkg: Package, actor: Any) -> Course:
    from lms.accounts import services as accounts

    c = pkg.course
    inst = accounts.get_institution(c["institution"])
    data = services.CourseData(
        track=c["track"],
        asean_language=c.get("asean_language"),
        kind=c.get("kind", "course"),
        industry=c["industry"],
        aqrf_level=c.get("aqrf_level"),
        cn_level=c.get("cn_level"),
        credits=c.get("credits", 0),
        learning_hours=c.get("learning_hours", 0),
        instruction_languages=list(c["instruction_languages"]),
        source_locale=c.get("source_locale", "zh_Hans"),
        capacity=c.get("capacity"),
        teachers=list(c.get("teachers", []) or []),
        given={"asean_language", "aqrf_level", "cn_level", "capacity"},
    )
    course = db.session.scalar(select(Course).filter_by(code=c["code"]))
    statuses = c.get("translation_status") or {}
    texts = _course_texts(c)
    if course is None:
        data.code = c["code"]
        course = services.create_course(None, inst, data, texts)
        created = True
    else:
        if course.institution_id != inst.id:
            raise PackageError(
                [
                    Problem(
                        f"{pkg.root.name}/course.yaml",
                        _line(c, "institution"),
                        _("This course belongs to another institution."),
                    )
                ]
            )
        services.update_course(None, course, data)
        created = False
    for locale in [t.locale for t in course.translations if t.locale not in texts]:
        course.translations.remove(course.translation(locale))
    for locale, fields in texts.items():
        services.set_course_texts(
            None, course, locale, fields, statuses.get(locale, "original"), check=False
        )
    _write_outline(pkg, course, statuses)
    _write_glossary(pkg, course)
    if c.get("status", "draft") == "published" and course.status != "published":
        services.approve(actor, course, "package import", check=False)
    record(actor, "course.imported", "course", course.code, after={"created": created})
    db.session.flush()
    return course


def _course_texts(c: dict) -> dict[str, dict[str, Any]]:
    texts: dict[str, dict[str, Any]] = {}
    for name in ("title", "summary", "description", "outcomes"):
        for locale, value in (c.get(name) or {}).items():
            texts.setdefault(locale, {})[name] = value
    return texts


def _write_outline(pkg: Package, course: Course, statuses: dict[str, str]) -> None:
    wanted_modules = [m["key"] for m in pkg.course["modules"]]
    for module in [m for m in course.modules if m.key not in wanted_modules]:
        course.modules.remove(module)
    db.session.flush()
    wanted_lessons = {lesson["key"] for m in pkg.course["modules"] for lesson in m["lessons"]}
    for module in course.modules:
        for lesson in [x for x in module.lessons if x.key not in wanted_lessons]:
            module.lessons.remove(lesson)
    db.session.flush()
    existing_lessons = {lesson.key: lesson for m in course.modules for lesson in m.lessons}
    for position, mdata in enumerate(pkg.course["modules"]):
        module = next((m for m in course.modules if m.key == mdata["key"]), None)
        texts = _field_texts(mdata, ("title", "summary"))
        if module is None:
            module = services.add_module(None, course, mdata["key"], {}, check=False)
        module.position = position
        _replace_translations(
            module, texts, statuses, services.set_module_texts, ("title", "summary")
        )
        for lposition, ldata in enumerate(mdata["lessons"]):
            lesson = existing_lessons.get(ldata["key"])
            ltexts = _field_texts(ldata, ("title",))
            for locale, body in pkg.bodies.get(ldata["key"], {}).items():
                ltexts.setdefault(locale, {})["body"] = body
            if lesson is None:
                lesson = services.add_lesson(
                    None, module, ldata["key"], ldata.get("kind", "text"), {}, check=False
                )
            elif lesson.module is not module:
                lesson.module = module  # moves it between the modules' lists
            lesson.kind = ldata.get("kind", "text")
            lesson.minutes = ldata.get("minutes", 0)
            lesson.required = ldata.get("required", True)
            lesson.position = lposition
            _replace_translations(
                lesson, ltexts, statuses, services.set_lesson_texts, ("title", "body")
            )
        module.lessons.sort(key=lambda x: x.position)
    course.modules.sort(key=lambda m: m.position)
    db.session.flush()


def _field_texts(container: dict, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    texts: dict[str, dict[str, Any]] = {}
    for name in names:
        for locale, value in (container.get(name) or {}).items():
            texts.setdefault(locale, {})[name] = value
    return texts


def _replace_translations(
    item: Any, texts: dict, statuses: dict, setter, names: tuple[str, ...]
) -> None:
    """Make ``item``'s translations exactly ``texts`` (a field absent from the package is
    cleared, a locale absent is removed)."""
    for row in [t for t in item.translations if t.locale not in texts]:
        item.translations.remove(row)
    for locale, fields in texts.items():
        setter(
            None,
            item,
            locale,
            {name: fields.get(name, "") for name in names},
            statuses.get(locale, "original"),
            check=False,
        )


def _write_glossary(pkg: Package, course: Course) -> None:
    course.glossary.clear()
    db.session.flush()
    for entry in pkg.glossary:
        services.set_glossary_term(
            None,
            course,
            entry["term"],
            pinyin=entry.get("pinyin", ""),
            translations=dict(entry.get("translations") or {}),
            check=False,
        )


# ---------------------------------------------------------------------------- exporting


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(LMap, _Dumper.represent_dict)
_Dumper.add_representer(LSeq, _Dumper.represent_list)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def _map_of(items: Any, name: str) -> dict[str, Any]:
    return {t.locale: getattr(t, name) for t in items if getattr(t, name)}


def export_package(course: Course, target: Path) -> Path:
    """Write ``course`` as a package folder ``target/<code>`` (replacing its files)."""
    root = target / course.code
    (root / "lessons").mkdir(parents=True, exist_ok=True)
    for old in (root / "lessons").glob("*.md"):
        old.unlink()
    statuses = {t.locale: t.status for t in course.translations if t.status != "original"}
    data: dict[str, Any] = {
        "code": course.code,
        "institution": course.institution.slug,
        "track": course.track,
    }
    if course.asean_language:
        data["asean_language"] = course.asean_language
    data |= {"kind": course.kind, "industry": course.industry}
    if course.aqrf_level is not None:
        data["aqrf_level"] = course.aqrf_level
    if course.cn_level:
        data["cn_level"] = course.cn_level
    data |= {
        "credits": float(course.credits) if course.credits % 1 else int(course.credits),
        "learning_hours": course.learning_hours,
        "instruction_languages": list(course.instruction_languages),
        "source_locale": course.source_locale,
    }
    if course.capacity is not None:
        data["capacity"] = course.capacity
    data["status"] = "published" if course.status == "published" else "draft"
    if course.prerequisites:
        data["prerequisites"] = [p.code for p in course.prerequisites]
    if course.teachers:
        data["teachers"] = [t.email for t in course.teachers]
    for name in ("title", "summary", "description", "outcomes"):
        values = _map_of(course.translations, name)
        if values:
            data[name] = {k: list(v) if name == "outcomes" else v for k, v in values.items()}
    if statuses:
        data["translation_status"] = statuses
    modules = []
    for module in course.modules:
        mdata: dict[str, Any] = {"key": module.key, "title": _map_of(module.translations, "title")}
        summary = _map_of(module.translations, "summary")
        if summary:
            mdata["summary"] = summary
        lessons = []
        for lesson in module.lessons:
            ldata: dict[str, Any] = {"key": lesson.key, "kind": lesson.kind}
            if lesson.minutes:
                ldata["minutes"] = lesson.minutes
            if not lesson.required:
                ldata["required"] = False
            ldata["title"] = _map_of(lesson.translations, "title")
            bodies = _map_of(lesson.translations, "body")
            if bodies:
                ldata["body"] = f"lessons/{lesson.key}"
                for locale, body in bodies.items():
                    (root / "lessons" / f"{lesson.key}.{locale}.md").write_text(
                        body if body.endswith("\n") else body + "\n", encoding="utf-8"
                    )
            lessons.append(ldata)
        mdata["lessons"] = lessons
        modules.append(mdata)
    data["modules"] = modules
    (root / "course.yaml").write_text(_dump(data), encoding="utf-8")
    glossary = [
        {
            "term": t.term,
            "pinyin": t.pinyin,
            **({"translations": dict(t.translations)} if t.translations else {}),
        }
        for t in course.glossary
    ]
    gpath = root / "glossary.yaml"
    if glossary:
        gpath.write_text(_dump(glossary), encoding="utf-8")
    elif gpath.exists():
        gpath.unlink()
    return root
