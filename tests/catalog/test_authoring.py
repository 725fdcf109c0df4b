import pytest
from sqlalchemy import select

from lms.catalog import services
from lms.catalog.models import Course, Lesson
from lms.core.models import AuditEvent
from tests.conftest import bearer, login


@pytest.fixture
def teacher(make, gx):
    return make.user("teacher", gx)


@pytest.fixture
def admin(make, gx):
    return make.user("admin", gx)


def test_teacher_builds_a_course_on_pages(client, teacher, db_session):
    login(client, teacher)
    resp = client.post(
        "/teach/institutions/gx/courses/new",
        data={
            "code": "lz-auto-9",
            "title": "汽车维修中文",
            "track": "zh_plus",
            "kind": "course",
            "industry": "automotive",
            "credits": "2",
            "learning_hours": "32",
            "instruction_languages": ["zh_Hans", "vi"],
            "source_locale": "zh_Hans",
            "aqrf_level": "4",
        },
    )
    assert resp.status_code == 302
    course = db_session.scalar(select(Course).filter_by(code="LZ-AUTO-9"))
    assert course.status == "draft" and course.teachers == [teacher]
    client.post("/teach/courses/LZ-AUTO-9/modules", data={"key": "engine", "title": "发动机"})
    module = course.modules[0]
    for key, title in (("a", "甲"), ("b", "乙"), ("c", "丙")):
        client.post(
            f"/teach/modules/{module.id}/lessons",
            data={"key": key, "title": title, "kind": "text", "minutes": "10", "required": "y"},
        )
    # reorder without JavaScript: plain form posts
    c_id = db_session.scalar(select(Lesson.id).filter_by(key="c"))
    assert client.post(f"/teach/lessons/{c_id}/move", data={"direction": "up"}).status_code == 302
    db_session.expire_all()
    assert [x.key for x in course.modules[0].lessons] == ["a", "c", "b"]
    # side-by-side translation of the course texts
    resp = client.post(
        "/teach/courses/LZ-AUTO-9/texts?locale=vi&reference=zh_Hans",
        data={
            "title": "Tiếng Trung sửa ô tô",
            "summary": "",
            "description": "",
            "outcomes": "A\nB",
            "status": "machine",
        },
    )
    assert resp.status_code == 302
    db_session.expire_all()
    vi = course.translation("vi")
    assert (vi.title, vi.outcomes, vi.status) == ("Tiếng Trung sửa ô tô", ["A", "B"], "machine")
    page = client.get("/teach/courses/LZ-AUTO-9/texts?locale=th").get_data(as_text=True)
    assert "missing" in page  # the matrix shows what is not translated


def test_bad_course_input_is_reported_and_writes_nothing(client, teacher, db_session):
    login(client, teacher)
    resp = client.post(
        "/teach/institutions/gx/courses/new",
        data={
            "code": "x",
            "title": "",
            "track": "asean_plus",
            "kind": "course",
            "industry": "automotive",
            "instruction_languages": [],
            "source_locale": "zh_Hans",
        },
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Choose the ASEAN language this course teaches." in page
    assert "Choose at least one language of instruction." in page
    assert db_session.scalar(select(Course.id)) is None


def test_review_workflow(client, teacher, admin, course_factory, db_session):
    course = course_factory("REV-1", status="draft", teachers=[teacher.email])
    login(client, teacher)
    assert client.post("/teach/courses/REV-1/submit").status_code == 302
    # the author cannot publish their own course
    assert (
        client.post("/teach/courses/REV-1/review", data={"decision": "approve"}).status_code == 403
    )
    client.post("/logout")
    login(client, admin)
    resp = client.post(
        "/teach/courses/REV-1/review",
        data={"decision": "return", "comment": "Add Vietnamese outcomes"},
    )
    assert resp.status_code == 302
    db_session.expire_all()
    assert course.status == "draft" and course.reviews[-1].comment == "Add Vietnamese outcomes"
    services.submit_for_review(teacher, course)
    client.post("/teach/courses/REV-1/review", data={"decision": "approve"})
    db_session.expire_all()
    assert course.status == "published" and course.published_at is not None
    actions = db_session.scalars(select(AuditEvent.action).filter_by(object_id="REV-1")).all()
    assert {"course.submitted", "course.returned", "course.approved"} <= set(actions)


def test_return_needs_a_comment(client, admin, course_factory):
    course_factory("REV-2", status="draft")
    course = services.get_course("REV-2")
    services.submit_for_review(admin, course)
    login(client, admin)
    resp = client.post("/teach/courses/REV-2/review", data={"decision": "return", "comment": ""})
    assert resp.status_code == 422


def test_api_authoring(client, teacher, admin, db_session):
    headers = bearer(client, teacher)
    resp = client.post(
        "/api/v1/courses",
        headers=headers,
        json={
            "institution": "gx",
            "code": "API-101",
            "track": "asean_plus",
            "asean_language": "km",
            "industry": "modern_agriculture",
            "instruction_languages": ["km", "zh_Hans"],
            "source_locale": "zh_Hans",
            "credits": "1.5",
            "texts": {
                "zh_Hans": {"title": "高棉语农业"},
                "km": {"title": "ភាសាខ្មែរ", "status": "reviewed"},
            },
        },
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["credits"] == "1.5" and resp.json["status"] == "draft"
    module = client.post(
        "/api/v1/courses/API-101/modules",
        headers=headers,
        json={"key": "rice", "texts": {"zh_Hans": {"title": "水稻"}}},
    ).json
    lesson = client.post(
        f"/api/v1/modules/{module['id']}/lessons",
        headers=headers,
        json={
            "key": "planting",
            "kind": "text",
            "minutes": 15,
            "texts": {"zh_Hans": {"title": "插秧", "body": "**插秧**"}},
        },
    )
    assert lesson.status_code == 201
    assert lesson.json["body_html"] == "<p><strong>插秧</strong></p>"
    patched = client.patch(
        f"/api/v1/lessons/{lesson.json['id']}",
        headers=headers,
        json={"texts": {"km": {"title": "ការដាំកូនស្រូវ"}}},
    )
    assert patched.status_code == 200
    assert client.post("/api/v1/courses/API-101/submit", headers=headers).status_code == 200
    assert (
        client.post(
            "/api/v1/courses/API-101/review", headers=headers, json={"decision": "approve"}
        ).status_code
        == 403
    )
    approved = client.post(
        "/api/v1/courses/API-101/review",
        headers=bearer(client, admin),
        json={"decision": "approve"},
    )
    assert approved.status_code == 200 and approved.json["status"] == "published"
    detail = client.get("/api/v1/courses/API-101?lang=km").json
    assert detail["modules"][0]["lessons"][0]["title"] == "ការដាំកូនស្រូវ"
    assert detail["locales"] == ["km", "zh_Hans"]


def test_api_validation_errors(client, teacher):
    headers = bearer(client, teacher)
    resp = client.post(
        "/api/v1/courses",
        headers=headers,
        json={
            "institution": "gx",
            "code": "??",
            "track": "zh_plus",
            "industry": "automotive",
            "instruction_languages": ["zh_Hans"],
            "texts": {"zh_Hans": {"title": "x"}},
        },
    )
    assert resp.status_code == 422
    assert resp.json["errors"][0]["field"] == "code"
    missing_title = client.post(
        "/api/v1/courses",
        headers=headers,
        json={
            "institution": "gx",
            "code": "OK-101",
            "track": "zh_plus",
            "industry": "automotive",
            "instruction_languages": ["zh_Hans"],
            "texts": {"en": {"title": "x"}},
        },
    )
    assert missing_title.status_code == 422


def test_lesson_markdown_is_sanitised(staff_client, course_factory, db_session):
    client = staff_client
    course = course_factory("XSS-1")
    lesson = course.modules[0].lessons[0]
    services.set_lesson_texts(
        None,
        lesson,
        "zh_Hans",
        {
            "body": "<script>alert(1)</script><img src=x onerror=alert(2)>"
            '[x](javascript:alert(3))<iframe src="//evil"></iframe>'
        },
        check=False,
    )
    db_session.commit()
    resp = client.get("/courses/XSS-1/lessons/l1")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "<script>alert" not in page and "onerror" not in page
    assert "javascript:" not in page and "<iframe" not in page


def test_pinyin_ruby_on_request(staff_client, course_factory):
    client = staff_client
    course = course_factory("PY-1")
    services.set_glossary_term(None, course, "发动机", check=False)
    assert course.glossary[0].pinyin == "fādòngjī"
    plain = client.get("/courses/PY-1/lessons/l1").get_data(as_text=True)
    ruby = client.get("/courses/PY-1/lessons/l1?pinyin=1").get_data(as_text=True)
    assert "<ruby>" not in plain
    assert "<ruby>发动机<rp>(</rp><rt>fādòngjī</rt><rp>)</rp></ruby>" in ruby


def test_glossary_terms_pop_up_without_javascript(staff_client, course_factory):
    course = course_factory("GL-1")
    services.set_glossary_term(None, course, "发动机", translations={"en": "engine"}, check=False)
    page = staff_client.get("/courses/GL-1/lessons/l1?lang=en").get_data(as_text=True)
    assert (
        '<span class="term" tabindex="0">发动机<span class="term-pop" role="tooltip">'
        "fādòngjī — engine</span></span>"
    ) in page
