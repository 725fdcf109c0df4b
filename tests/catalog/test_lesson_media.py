"""Video and document lessons: the lesson points at a media asset; whoever may open the
lesson may see the asset, nobody else."""

import pytest

from lms.catalog import services
from lms.core.db import utcnow
from lms.core.errors import ValidationError
from lms.core.security import can
from lms.enrolment import services as enrolment
from lms.media import services as media
from tests.conftest import login
from tests.media.test_uploads import _pdf


@pytest.fixture
def handout(make, gx, tmp_path, db_session):
    teacher = make.user("teacher", gx)
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(_pdf(b"Torque table"))
    asset, _dup = media.ingest_file(
        teacher, pdf, kind="document", filename="handout.pdf", title="Torque table"
    )
    return teacher, asset


def test_a_document_lesson_shows_its_document_to_enrolled_students_only(
    client, course_factory, handout, gx, make
):
    teacher, asset = handout
    course = course_factory("DOC-1", teachers=[teacher.email])
    lesson = services.add_lesson(
        teacher,
        course.modules[0],
        "torque",
        "document",
        {"zh_Hans": {"title": "扭矩表"}},
        media_asset_id=asset.id,
    )
    student, stranger = make.user("student", gx), make.user("student", make.institution())
    assert not can(student, "media.view", asset)
    enrolment.enrol(student, course, now=utcnow())
    assert can(student, "media.view", asset)  # vouched for by the lesson
    assert not can(stranger, "media.view", asset)
    login(client, student)
    page = client.get(f"/courses/DOC-1/lessons/{lesson.key}")
    assert page.status_code == 200
    link = page.get_data(as_text=True).split('href="/media/')[1].split('"')[0]
    pdf = client.get("/media/" + link.replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_lesson_only_takes_media_of_its_kind_that_its_author_may_use(
    course_factory, handout, gx, make
):
    teacher, asset = handout
    course = course_factory("DOC-2", teachers=[teacher.email])
    with pytest.raises(ValidationError):
        services.add_lesson(teacher, course.modules[0], "v", "video", {}, media_asset_id=asset.id)
    other = make.user("teacher", make.institution())
    other_course = course_factory(
        "DOC-3", institution=other.memberships[0].institution, teachers=[other.email]
    )
    with pytest.raises(ValidationError):
        services.add_lesson(
            other, other_course.modules[0], "d", "document", {}, media_asset_id=asset.id
        )
