"""What saving a course for offline reading takes: the pages, images, subtitles and the
smallest rendition of each video (240p, or audio only when the student chose that data
saver), each with its size from the stored objects, so the student sees the total before
saving. The service worker and the downloadable pack both work from this manifest."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import gettext as _

from lms.accounts.models import User
from lms.assessment import attempts
from lms.assessment import services as assessment
from lms.catalog.models import Course, Lesson
from lms.core.errors import NotAuthenticated, PermissionDenied
from lms.core.richtext import render
from lms.core.security import can
from lms.core.storage import get_storage
from lms.core.web import asset_url
from lms.enrolment import services as enrolment
from lms.media import services as media
from lms.media.models import MediaAsset
from lms.media.urls import Urls

_IMG = re.compile(r"""<img\b[^>]*?\bsrc=["']([^"']+)["']""", re.IGNORECASE)
_SEGMENT = re.compile(r"(?:index\.m3u8|seg_\d{5}\.ts)")


@dataclass
class Entry:
    """One file to keep: its URL (as this viewer would fetch it), its size in bytes (None
    when it is only known once fetched) and what it is."""

    url: str
    kind: str  # page | image | subtitle | video | audio | poster | document
    bytes: int | None = None
    lesson: str | None = None


@dataclass
class Manifest:
    course: Course
    title: str
    generated_at: datetime
    entries: list[Entry] = field(default_factory=list)
    #: playlists written for offline use: the master playlist naming only the kept rendition
    playlists: list[dict[str, str]] = field(default_factory=list)
    lessons: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(e.bytes or 0 for e in self.entries) + sum(
            len(p["body"].encode()) for p in self.playlists
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "course": self.course.code,
            "title": self.title,
            "generated_at": self.generated_at.isoformat().replace("+00:00", "Z"),
            "lessons": self.lessons,
            "total_bytes": self.total_bytes,
            "files": len(self.entries) + len(self.playlists),
            "entries": [
                {"url": e.url, "kind": e.kind, "bytes": e.bytes, "lesson": e.lesson}
                for e in self.entries
            ],
            "playlists": self.playlists,
        }


def check_may_save(user: Any, course: Course) -> None:
    """Only those who may read the lessons may save them: enrolled students and the
    course's staff (the same rule as the lesson pages)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    if not can(user, "lesson.view", course):
        raise PermissionDenied(_("Enrol in this course to save its lessons for offline study."))


def lessons_of(course: Course) -> list[Lesson]:
    return [lesson for module in course.modules for lesson in module.lessons]


def course_manifest(user: User, course: Course, *, locale: str, now: datetime) -> Manifest:
    """Everything a student needs to study ``course`` offline, with sizes. Needs the same
    permission as reading the lessons; the file URLs are this viewer's signed URLs."""
    check_may_save(user, course)
    title, _loc = course.title(locale)
    out = Manifest(course=course, title=title, generated_at=now)
    out.entries.append(
        Entry(url_for("catalog.course", code=course.code), "page", _text_bytes(title))
    )
    if course.glossary:
        out.entries.append(Entry(url_for("catalog.glossary", code=course.code), "page"))
    for lesson in lessons_of(course):
        out.lessons += 1
        _lesson_entries(out, user, lesson, locale)
    # every page also carries the site's layout, and the pages need their scripts and styles
    layout = len(render_template("base.html").encode())
    for entry in out.entries:
        if entry.kind == "page":
            entry.bytes = (entry.bytes or 0) + layout
    scripts = ["css/app.css", "js/offline.js"]
    if any(e.kind in ("video", "audio") for e in out.entries):
        scripts += ["js/media-player.js", "vendor/hls.js/hls.min.js", "vendor/hls.js/hls.worker.js"]
    if any("/attempts/" in e.url for e in out.entries):
        scripts.append("js/quiz-autosave.js")
    for name in scripts:
        url = asset_url(name)
        out.entries.append(Entry(url, "static", _static_size(url)))
    return out


def _text_bytes(*texts: str) -> int:
    return sum(len((t or "").encode()) for t in texts)


def _lesson_entries(out: Manifest, user: User, lesson: Lesson, locale: str) -> None:
    course = out.course
    body, _loc = lesson.text("body", locale)
    title, _tloc = lesson.text("title", locale)
    out.entries.append(
        Entry(
            url_for("catalog.lesson", code=course.code, key=lesson.key),
            "page",
            _text_bytes(title, str(render(body))),
            lesson.key,
        )
    )
    for src in _IMG.findall(str(render(body))):
        if src.startswith("/") and not src.startswith("//"):
            out.entries.append(Entry(src, "image", _static_size(src), lesson.key))
    if lesson.media_asset_id:
        asset = media.get_asset(lesson.media_asset_id)
        if media.may_view(user, asset):
            _media_entries(out, user, asset, lesson.key)
    if lesson.kind in ("quiz", "assignment"):
        quiz = assessment.assessment_for_lesson(lesson)
        if quiz is not None and enrolment.active_enrolment(user, course) is not None:
            out.entries.append(
                Entry(
                    url_for("assessment.overview", assessment_id=quiz.id), "page", None, lesson.key
                )
            )
            for attempt in attempts.attempts_of(user, quiz):
                if attempt.status == "in_progress":
                    out.entries.append(
                        Entry(
                            url_for("assessment.attempt", attempt_id=attempt.id),
                            "page",
                            None,
                            lesson.key,
                        )
                    )


def _static_size(src: str) -> int | None:
    path = src.split("?", 1)[0]
    if not path.startswith("/static/"):
        return None
    root = Path(current_app.static_folder or "").resolve()
    file = (root / path[len("/static/") :]).resolve()
    if root not in file.parents or not file.is_file():
        return None
    return file.stat().st_size


def offline_rendition(user: User, asset: MediaAsset) -> dict[str, Any] | None:
    """The rendition kept offline: audio only when the student chose that data saver (and
    the video has it), else the lowest video rendition (240p on the standard ladder)."""
    renditions = asset.renditions or []
    if media.data_saver(user) == "audio":
        audio = next((r for r in renditions if r["name"] == "audio"), None)
        if audio is not None:
            return audio
    return min((r for r in renditions if r["height"]), key=lambda r: r["height"], default=None)


def _size(key: str) -> int | None:
    try:
        return get_storage().size(key)
    except (FileNotFoundError, OSError):
        return None


def _media_entries(out: Manifest, user: User, asset: MediaAsset, lesson: str) -> None:
    urls = Urls(asset, user)
    if asset.kind == "document" and asset.status == "ready":
        out.entries.append(Entry(urls.document(), "document", asset.size, lesson))
        return
    if asset.kind != "video" or not asset.output_prefix:
        return
    chosen = offline_rendition(user, asset)
    if chosen is None:
        return
    name = chosen["name"]
    kind = "audio" if name == "audio" else "video"
    storage = get_storage()
    folder = f"{asset.output_prefix}/hls/{name}/"
    for key in storage.list(folder.rstrip("/")):
        rest = key[len(folder) :]
        if key.startswith(folder) and _SEGMENT.fullmatch(rest):
            out.entries.append(Entry(urls.file(f"hls/{name}/{rest}"), kind, _size(key), lesson))
    master = _master_for(asset, name)
    if master:
        out.playlists.append({"url": urls.hls(), "body": master, "lesson": lesson})
    if kind == "video":
        out.entries.append(
            Entry(urls.poster(), "poster", _size(f"{asset.output_prefix}/poster.jpg"), lesson)
        )
    for sub in asset.subtitles:
        out.entries.append(Entry(urls.subtitle(sub.lang), "subtitle", _size(sub.key), lesson))


def _master_for(asset: MediaAsset, name: str) -> str | None:
    """The master playlist with only the kept rendition, so a player that asks for the
    adaptive stream offline picks what was saved."""
    try:
        text = get_storage().read_bytes(f"{asset.output_prefix}/hls/master.m3u8").decode()
    except (FileNotFoundError, OSError, UnicodeDecodeError):
        return None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#EXT-X-STREAM-INF") and i + 1 < len(lines):
            if lines[i + 1].split("/", 1)[0] == name:
                kept += [line, lines[i + 1]]
            i += 2
            continue
        kept.append(line)
        i += 1
    if not any(ln.startswith("#EXT-X-STREAM-INF") for ln in kept):
        return None
    return "\n".join(kept) + "\n"
