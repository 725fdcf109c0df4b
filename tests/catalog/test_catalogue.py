import pytest
from sqlalchemy import event, insert, select

from lms.catalog import services
from lms.catalog.models import Course, CourseTranslation
from lms.core.extensions import db
from lms.core.text import fold
from tests.conftest import bearer, login


def test_search_finds_substrings_in_every_script(course_factory, client):
    course_factory(
        "TH-101",
        {"zh_Hans": "泰语旅游服务", "th": "ภาษาไทยเพื่อการท่องเที่ยว", "en": "Thai for tourism"},
    )
    course_factory(
        "KM-101", {"zh_Hans": "高棉语农业", "km": "ភាសាខ្មែរសម្រាប់កសិកម្ម", "en": "Khmer for farming"}
    )
    course_factory(
        "VN-101",
        {
            "zh_Hans": "越南语电子",
            "vi": "Tiếng Việt ngành điện tử",
            "en": "Vietnamese for electronics",
        },
    )
    course_factory("MM-101", {"zh_Hans": "缅甸语", "my": "မြန်မာဘာသာစကား", "en": "Burmese"})
    course_factory("LO-101", {"zh_Hans": "老挝语", "lo": "ພາສາລາວສຳລັບການຄ້າ", "en": "Lao"})

    def codes(q):
        body = client.get("/api/v1/courses", query_string={"q": q}).json
        return {c["code"] for c in body["items"]}

    assert codes("ท่องเที่ยว") == {"TH-101"}  # Thai word inside unspaced text
    assert codes("កសិកម្ម") == {"KM-101"}  # Khmer substring
    assert codes("农业") == {"KM-101"}  # two Chinese characters
    assert codes("dien") == {"VN-101"}  # điện without diacritics
    assert codes("ĐIỆN TỬ") == {"VN-101"}  # and with, in capitals
    assert codes("ဘာသာ") == {"MM-101"}
    assert codes("ການຄ້າ") == {"LO-101"}
    assert codes("vn-101") == {"VN-101"}  # the code
    assert codes("thai tourism") == {"TH-101"}  # every word must match
    assert codes("100%_") == set()  # LIKE wildcards are literal


def test_search_ranks_title_matches_first(course_factory, client):
    course_factory(
        "A-AAA",
        {"zh_Hans": "物流", "en": "Logistics"},
    )
    b = course_factory("B-BBB", {"zh_Hans": "发动机", "en": "Engines"})
    services.set_course_texts(None, b, "en", {"summary": "Not about logistics really"})
    items = client.get("/api/v1/courses?q=logistics").json["items"]
    assert [c["code"] for c in items] == ["A-AAA", "B-BBB"]


def test_filters(course_factory, make, client):
    vn = make.institution("vn", country="VN", default_locale="vi")
    course_factory(
        "F-ONE",
        track="en_plus",
        industry="electronics_it",
        langs=["en"],
        source="zh_Hans",
        aqrf_level=4,
    )
    course_factory(
        "F-TWO",
        institution=vn,
        track="asean_plus",
        asean_language="vi",
        industry="transport_logistics",
        langs=["vi", "zh_Hans"],
    )

    def codes(**args):
        return {c["code"] for c in client.get("/api/v1/courses", query_string=args).json["items"]}

    assert codes(track="en_plus") == {"F-ONE"}
    assert codes(industry="transport_logistics") == {"F-TWO"}
    assert codes(lang="vi") == {"F-TWO"}
    assert codes(country="VN") == {"F-TWO"}
    assert codes(institution="gx") == {"F-ONE"}
    page = client.get("/courses?level=4&max_credits=5").get_data(as_text=True)
    assert "F-ONE" in page and "F-TWO" not in page
    assert client.get("/api/v1/courses?track=bogus").status_code == 422


def test_thai_reader_sees_thai_and_marked_fallbacks(course_factory, client, make, gx):
    course = course_factory(
        "GL-TH", {"zh_Hans": "导游泰语", "th": "ภาษาไทยสำหรับมัคคุเทศก์", "en": "Thai for guides"}
    )
    services.set_course_texts(None, course, "zh_Hans", {"summary": "在漓江接待泰国游客。"})
    body = client.get("/api/v1/courses/GL-TH?lang=th").json
    assert (body["title"], body["title_locale"]) == ("ภาษาไทยสำหรับมัคคุเทศก์", "th")
    assert (body["summary"], body["summary_locale"]) == ("在漓江接待泰国游客。", "zh_Hans")
    page = client.get("/courses/GL-TH?lang=th").get_data(as_text=True)
    assert 'lang="th">ภาษาไทยสำหรับมัคคุเทศก์</h1>' in page
    assert '<p class="lead" lang="zh-Hans">在漓江接待泰国游客。</p>' in page  # marked by lang
    login(client, make.user("admin", gx, locale="th"))
    lesson = client.get("/courses/GL-TH/lessons/l1").get_data(as_text=True)
    assert "fallback-note" in lesson  # the lesson exists only in Chinese: said so


def test_students_never_see_drafts(course_factory, make, client):

    course_factory("DRAFT-1", status="draft")
    student = make.user("student", make.institution())
    assert client.get("/courses/DRAFT-1").status_code == 404
    assert client.get("/api/v1/courses/DRAFT-1").status_code == 404
    login(client, student)
    assert client.get("/courses/DRAFT-1").status_code == 404
    assert client.get("/courses/DRAFT-1/lessons/l1").status_code == 404
    assert client.get("/api/v1/courses/DRAFT-1", headers=bearer(client, student)).status_code == 404
    assert "DRAFT-1" not in client.get("/courses").get_data(as_text=True)


def test_teacher_cannot_edit_another_institutions_course(course_factory, make, client):

    course_factory("GX-OWN")
    other = make.user("teacher", make.institution("vn", country="VN"))
    login(client, other)
    assert client.get("/teach/courses/GX-OWN").status_code == 403
    assert client.post("/teach/courses/GX-OWN/modules", data={"title": "x"}).status_code == 403
    headers = bearer(client, other)
    resp = client.patch(
        "/api/v1/courses/GX-OWN", json={"texts": {"en": {"title": "Hijacked"}}}, headers=headers
    )
    assert resp.status_code == 403
    assert client.get("/api/v1/courses/GX-OWN").json["title"] != "Hijacked"


def test_listing_costs_a_constant_number_of_queries(app, course_factory, db_session, client):
    """10,000 courses: page 1 and page 40, 20 or 100 per page, cost the same queries."""
    course = course_factory("SEED-0")
    inst_id = course.institution_id
    rows = [
        {
            "code": f"BULK-{i:05d}",
            "institution_id": inst_id,
            "track": "zh_plus",
            "kind": "course",
            "industry": "automotive",
            "credits": 2,
            "learning_hours": 32,
            "instruction_languages": ["zh_Hans"],
            "source_locale": "zh_Hans",
            "status": "published",
            "search_text": f"bulk-{i:05d} 课程{i}",
            "created_at": course.created_at,
            "updated_at": course.created_at,
            "published_at": course.created_at,
        }
        for i in range(10_000)
    ]
    db_session.execute(insert(Course), rows)
    ids = dict(db_session.execute(select(Course.code, Course.id)).all())
    db_session.execute(
        insert(CourseTranslation),
        [
            {
                "course_id": ids[r["code"]],
                "locale": loc,
                "status": "original",
                "title": f"{r['code']} {loc}",
                "summary": "",
                "description": "",
                "outcomes": [],
            }
            for r in rows
            for loc in ("zh_Hans", "en")
        ],
    )
    db_session.commit()

    counts = {}
    for args in (
        "page=1&per_page=20",
        "page=40&per_page=20",
        "page=1&per_page=100",
        "q=bulk-01&per_page=100",
    ):
        counter = _count_queries(db.engines[None])
        resp = client.get(f"/api/v1/courses?{args}")
        counts[args] = counter()
        assert resp.status_code == 200
    assert resp.json["total"] == 1000
    assert len(set(counts.values())) == 1, counts
    counter = _count_queries(db.engines[None])
    assert client.get("/courses?page=3").status_code == 200
    html_queries = counter()
    counter = _count_queries(db.engines[None])
    client.get("/courses?page=300")
    assert counter() == html_queries


def _count_queries(bind):
    engine = getattr(bind, "engine", bind)
    seen = []

    def listener(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", listener)

    def stop():
        event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    return stop


@pytest.mark.parametrize(
    "text, folded", [("Điện Tử", "dien tu"), ("ＧＸ１０１", "gx101"), ("สวัสดี", "สวัสดี")]
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_the_page_counts_up_to_its_cap_and_says_there_are_more(course_factory, client, monkeypatch):
    """Counting every match grows with the catalogue; the page stops at its cap ("3+")."""
    from lms.catalog import views
    from lms.core.pagination import paginate

    for n in range(5):
        course_factory(f"CAP-{n:03d}")
    monkeypatch.setattr(views, "CATALOGUE_COUNT_CAP", 3)
    page = client.get("/courses?q=CAP-&lang=en").get_data(as_text=True)
    assert "3+ courses found" in page
    monkeypatch.setattr(views, "CATALOGUE_COUNT_CAP", 10)
    assert "5 courses found" in client.get("/courses?q=CAP-&lang=en").get_data(as_text=True)
    stmt = services.catalogue(services.CatalogueFilter(q="CAP-"))
    capped = paginate(stmt, 1, 2, count_up_to=3)
    assert (capped.total, capped.more, capped.pages, len(capped.items)) == (3, True, 2, 2)
    exact = paginate(stmt, 1, 2)
    assert (exact.total, exact.more, exact.pages) == (5, False, 3)
