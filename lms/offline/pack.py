"""The downloadable pack: a zip of static HTML pages and media a student opens without a
connection and without a service worker (phones whose browser keeps none). It is built from
the same lesson texts and permissions as the pages; each video is the rendition the service
worker would keep (240p, or audio only), its HLS segments joined into one MP4 / M4A file by
ffmpeg without re-encoding, so any browser's own player can open it from the file system."""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template

from lms.accounts.models import User
from lms.catalog.models import Course, Lesson
from lms.core.i18n import LANGUAGES
from lms.core.richtext import render
from lms.core.storage import get_storage
from lms.media import ffmpeg
from lms.media import services as media
from lms.media.models import MediaAsset
from lms.offline import services

_STATIC_IMG = re.compile(r"""(<img\b[^>]*?\bsrc=["'])(/static/[^"'?]+)(\?[^"']*)?(["'])""")
_SEGMENT = re.compile(r"seg_\d{5}\.ts")


def _lesson_file(index: int, lesson: Lesson) -> str:
    return f"lessons/{index:03d}-{re.sub(r'[^A-Za-z0-9_-]', '_', lesson.key)}.html"


def build_pack(user: User, course: Course, *, locale: str, now: datetime) -> tuple[bytes, str]:
    """The pack's bytes and file name; the same permission as reading the lessons."""
    services.check_may_save(user, course)
    buf = io.BytesIO()
    lessons = services.lessons_of(course)
    title, title_loc = course.title(locale)
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
        tempfile.TemporaryDirectory(prefix="lms-pack-") as tmp,
    ):
        css = Path(current_app.static_folder or "") / "css" / "app.css"
        if css.is_file():
            zf.write(css, "assets/app.css")
        copied: set[str] = set()
        links = []
        for i, lesson in enumerate(lessons, start=1):
            name = _lesson_file(i, lesson)
            ltitle, ltitle_loc = lesson.text("title", locale)
            links.append({"href": name, "title": ltitle, "lang": ltitle_loc})
            body, body_loc = lesson.text("body", locale)
            html = _local_images(str(render(body)), zf, copied)
            video = _lesson_media(user, lesson, zf, Path(tmp), i)
            page = render_template(
                "offline/pack_lesson.html",
                course_title=title,
                course_title_loc=title_loc,
                title=ltitle,
                title_loc=ltitle_loc,
                body=html,
                body_loc=body_loc,
                media=video,
                lesson=lesson,
                prev=_lesson_file(i - 1, lessons[i - 2]) if i > 1 else None,
                next=_lesson_file(i + 1, lessons[i]) if i < len(lessons) else None,
            )
            zf.writestr(name, page)
        zf.writestr(
            "index.html",
            render_template(
                "offline/pack_index.html",
                course=course,
                title=title,
                title_loc=title_loc,
                lessons=links,
                generated_at=now,
            ),
        )
    return buf.getvalue(), f"{course.code}-offline.zip"


def _local_images(html: str, zf: zipfile.ZipFile, copied: set[str]) -> str:
    """Copy the site's own images into the pack and point the page at the copies (images
    from elsewhere cannot be shown by the site's pages either: its CSP allows only 'self')."""
    root = Path(current_app.static_folder or "").resolve()

    def swap(m: re.Match) -> str:
        file = (root / m.group(2)[len("/static/") :]).resolve()
        if root not in file.parents or not file.is_file():
            return m.group(0)
        target = "assets/" + str(file.relative_to(root))
        if target not in copied:
            zf.write(file, target)
            copied.add(target)
        return f"{m.group(1)}../{target}{m.group(4)}"

    return _STATIC_IMG.sub(swap, html)


def _lesson_media(
    user: User, lesson: Lesson, zf: zipfile.ZipFile, tmp: Path, index: int
) -> dict[str, Any] | None:
    if not lesson.media_asset_id:
        return None
    asset = media.get_asset(lesson.media_asset_id)
    if not media.may_view(user, asset):
        return None
    store = get_storage()
    stem = f"media/{index:03d}"
    if asset.kind == "document" and asset.status == "ready":
        zf.writestr(f"{stem}.pdf", store.read_bytes(asset.original_key))
        return {"kind": "document", "src": f"../{stem}.pdf"}
    if asset.kind != "video" or not asset.output_prefix:
        return None
    chosen = services.offline_rendition(user, asset)
    if chosen is None:
        return None
    audio = chosen["name"] == "audio"
    out_name = f"{stem}.{'m4a' if audio else 'mp4'}"
    _remux(asset, chosen["name"], tmp / f"{index:03d}", zf, out_name)
    result: dict[str, Any] = {"kind": "audio" if audio else "video", "src": f"../{out_name}"}
    if not audio:
        try:
            zf.writestr(f"{stem}.jpg", store.read_bytes(f"{asset.output_prefix}/poster.jpg"))
            result["poster"] = f"../{stem}.jpg"
        except (FileNotFoundError, OSError):
            pass
    result["subtitles"] = []
    for sub in asset.subtitles:
        zf.writestr(f"{stem}.{sub.lang}.vtt", store.read_bytes(sub.key))
        result["subtitles"].append(
            {
                "src": f"../{stem}.{sub.lang}.vtt",
                "tag": LANGUAGES[sub.lang][1],
                "label": LANGUAGES[sub.lang][0],
            }
        )
    return result


def _remux(asset: MediaAsset, rendition: str, work: Path, zf: zipfile.ZipFile, name: str) -> None:
    """Join the rendition's MPEG-TS segments and copy the streams into an MP4 container
    (no re-encoding: seconds, not minutes). The input is the platform's own transcoder
    output, read with the demuxer forced and the ``file`` protocol only."""
    store = get_storage()
    work.mkdir(parents=True)
    folder = f"{asset.output_prefix}/hls/{rendition}/"
    joined = work / "joined.ts"
    with joined.open("wb") as out:
        for key in store.list(folder.rstrip("/")):
            if key.startswith(folder) and _SEGMENT.fullmatch(key[len(folder) :]):
                out.write(store.read_bytes(key))
    target = work / ("out.m4a" if name.endswith(".m4a") else "out.mp4")
    args = ["-protocol_whitelist", "file", "-f", "mpegts", "-i", ffmpeg.input_url(joined)]
    args += ["-map", "0", "-c", "copy", "-movflags", "+faststart"]
    if target.suffix == ".m4a":
        args += ["-vn"]
    args += [str(target)]
    ffmpeg.run(args, timeout=float(current_app.config["FFMPEG_TIMEOUT"]), cwd=work)
    zf.write(target, name)
