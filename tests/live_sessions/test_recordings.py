"""Recordings: a provider link or a video uploaded through the media pipeline (real ffmpeg
on a clip generated here); enrolled students replay them, others do not."""

import pytest

from lms.core.db import utcnow
from lms.core.errors import ValidationError
from lms.enrolment import services as enrolment
from lms.live import recordings
from lms.media import services as media
from tests.conftest import login
from tests.live_sessions.conftest import schedule
from tests.media.conftest import make_clip


@pytest.fixture
def session(teacher, course):
    return schedule(teacher, course)


def test_link_recording_is_shown_to_enrolled_students(client, session, teacher, student):
    recordings.add_recording(teacher, session, url="https://bbb.example/playback/rec-9")
    with pytest.raises(ValidationError):
        recordings.add_recording(teacher, session, url="http://insecure.example/rec")
    with pytest.raises(ValidationError):
        recordings.add_recording(teacher, session)
    login(client, student)
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert "https://bbb.example/playback/rec-9" in page


def test_uploaded_recording_replays_for_enrolled_students_only(
    client, session, teacher, student, make, gx, course_factory, tmp_path
):
    clip = make_clip(tmp_path / "class.mp4", seconds=1)
    asset, _dup = media.ingest_file(teacher, clip, kind="video", filename="class.mp4")
    other = make.user("student", gx)
    assert not media.may_view(student, asset)
    recordings.add_recording(teacher, session, media_asset_id=asset.id)
    with pytest.raises(ValidationError):
        recordings.add_recording(teacher, session, media_asset_id="no-such-asset")
    assert media.may_view(student, asset)
    assert not media.may_view(other, asset)
    enrolment.enrol(other, course_factory("GX-ELSE"), now=utcnow())
    login(client, student)
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert f"/media/{asset.id}" in page
    assert client.get(f"/media/{asset.id}").status_code == 200
    client.post("/logout")
    login(client, other)
    assert client.get(f"/media/{asset.id}").status_code == 403
