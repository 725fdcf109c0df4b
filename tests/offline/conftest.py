from __future__ import annotations

import pytest

from lms.assessment import services
from tests.assessment.conftest import (  # noqa: F401  (fixtures)
    SAMPLE_GIFT,
    course,
    enrolled,
    other_student,
    student,
    teacher,
)
from tests.catalog.conftest import course_factory, gx  # noqa: F401  (fixtures)


@pytest.fixture
def bank(teacher, course):  # noqa: F811
    result = services.import_questions(teacher, course, "gift", SAMPLE_GIFT.read_bytes())
    return {q.name: q for q in result.imported}


@pytest.fixture
def quiz(teacher, course, bank):  # noqa: F811
    return services.create_assessment(
        teacher,
        course,
        "Engine quiz",
        question_ids=[bank[n].id for n in ("Spark", "Greeting", "Pi")],
        time_limit_minutes=20,
        late_policy="refuse",
        review="immediately",
    )


MASTER = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=1500000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"
720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=426x240,CODECS="avc1.42c015,mp4a.40.2"
240p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2"
audio/index.m3u8
"""


def publish_video(owner, files: dict[str, bytes], subtitles: dict[str, bytes] | None = None):
    """A video asset whose transcoded files (``hls/…``, ``poster.jpg``) are ``files``, as the
    transcoder publishes them under an output prefix."""
    from lms.core.extensions import db
    from lms.core.storage import get_storage
    from lms.media.models import MediaAsset, MediaSubtitle, new_id

    storage = get_storage()
    asset_id = new_id()
    prefix = f"media/{asset_id}/out-1"
    for name, data in files.items():
        storage.put_bytes(f"{prefix}/{name}", data)
    asset = MediaAsset(
        id=asset_id,
        owner_id=owner.id,
        kind="video",
        title="Engine tour",
        original_key=f"media/{asset_id}/original",
        size=1000,
        sha256=asset_id * 2,
        mime="video/mp4",
        container="mp4",
        status="ready",
        output_prefix=prefix,
        duration=4.0,
        renditions=[
            {"name": "720p", "height": 720, "width": 1280, "bandwidth": 1500000, "codecs": ""},
            {"name": "240p", "height": 240, "width": 426, "bandwidth": 300000, "codecs": ""},
            {"name": "audio", "height": 0, "width": 0, "bandwidth": 70000, "codecs": ""},
        ],
    )
    db.session.add(asset)
    for lang, data in (subtitles or {}).items():
        key = f"media/{asset_id}/subtitles/{lang}.vtt"
        storage.put_bytes(key, data)
        asset.subtitles.append(MediaSubtitle(lang=lang, key=key, source_format="vtt", cues=1))
    db.session.flush()
    return asset


def video_lesson(author, target_course, asset):
    """The course's first lesson turned into a video lesson showing ``asset``."""
    from sqlalchemy import select

    from lms.catalog import services as catalog
    from lms.catalog.models import Lesson
    from lms.core.extensions import db

    lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == target_course.id))
    return catalog.update_lesson(author, lesson, kind="video", media_asset_id=asset.id)
