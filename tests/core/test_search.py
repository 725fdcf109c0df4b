"""The search index (lms.core.search): it exists on each database, the queries use it, and
every change — through the services, through a translation, through plain SQL — keeps it
in step with the rows, so a course is found by its new words and never by its old ones."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update

from lms.assessment import services as bank
from lms.catalog import services
from lms.catalog.models import Course
from lms.core import search
from lms.core.extensions import db
from tests.catalog.conftest import course_factory, gx  # noqa: F401


def codes(q: str) -> set[str]:
    stmt = services.catalogue(services.CatalogueFilter(q=q))
    return {c.code for c in db.session.scalars(stmt)}


def test_search_text_puts_titles_before_the_rest(course_factory):  # noqa: F811
    course = course_factory("IDX-1", {"zh_Hans": "汽车维修", "vi": "Sửa chữa ô tô"})
    services.set_course_texts(None, course, "vi", {"summary": "Động cơ điện"})
    db.session.flush()
    head, tail = course.search_text.split(search.SECTION)
    assert "idx-1" in head and "汽车维修" in head and "sua chua o to" in head
    assert tail.strip() == "đong co đien".replace("đ", "d")


def test_changes_to_titles_and_translations_reindex(course_factory):  # noqa: F811
    course = course_factory("IDX-2", {"zh_Hans": "物流管理", "th": "การจัดการโลจิสติกส์"})
    assert codes("โลจิสติกส์") == {"IDX-2"}
    services.set_course_texts(None, course, "th", {"title": "การท่องเที่ยวเชิงเกษตร"})
    db.session.flush()
    assert codes("โลจิสติกส์") == set()
    assert codes("ท่องเที่ยว") == {"IDX-2"}
    row = course.translation("th")
    course.translations.remove(row)
    db.session.flush()
    assert codes("ท่องเที่ยว") == set()
    assert codes("物流") == {"IDX-2"}


def test_plain_sql_writes_and_deletes_stay_in_step(course_factory, db_session):  # noqa: F811
    course = course_factory("IDX-3", {"zh_Hans": "电工", "en": "Electrician"})
    db_session.execute(
        update(Course).where(Course.id == course.id).values(search_text="khmer ភាសាខ្មែរ")
    )
    db_session.expire_all()
    assert codes("ភាសា") == {"IDX-3"}
    assert codes("electrician") == set()
    db_session.execute(delete(Course).where(Course.id == course.id))
    assert codes("ភាសា") == set()


def test_long_words_are_served_by_the_index(app, db_session, course_factory):  # noqa: F811
    course_factory("IDX-4", {"zh_Hans": "汽车电子", "en": "Automotive electronics"})
    stmt = select(Course.id).where(search.matches(Course, ["electronics"]))
    conn = db_session.connection()
    compiled = stmt.compile(conn)
    if conn.dialect.name == "sqlite":
        names = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE name LIKE 'courses_fts%' "
            "OR name LIKE 'questions_fts%'"
        ).scalars()
        assert {"courses_fts", "questions_fts", "courses_fts_au"} <= set(names)
        params = tuple(compiled.params[k] for k in compiled.positiontup)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params)
        assert "courses_fts VIRTUAL TABLE INDEX" in " ".join(str(r) for r in rows)
    else:
        indexes = conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%search_trgm'")
        ).scalars()
        assert {"ix_courses_search_trgm", "ix_questions_search_trgm"} <= set(indexes)
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).scalars()
        assert "ix_courses_search_trgm" in " ".join(rows)
    assert set(db_session.scalars(stmt)) == {
        db_session.scalar(select(Course.id).where(Course.code == "IDX-4"))
    }


@pytest.mark.parametrize("q", ["电", "汽车", "ele", "tronic"])
def test_short_and_long_words_both_match(course_factory, q):  # noqa: F811
    course_factory("IDX-5", {"zh_Hans": "汽车电子", "en": "Automotive electronics"})
    course_factory("IDX-6", {"zh_Hans": "旅游", "en": "Tourism"})
    assert codes(q) == {"IDX-5"}


def test_ranking_code_then_titles_then_the_rest(course_factory):  # noqa: F811
    a = course_factory("WELD-2", {"zh_Hans": "焊接二", "en": "Pipe work"})
    services.set_course_texts(None, a, "en", {"summary": "welding of pipes"})
    course_factory("WELD-1", {"zh_Hans": "焊接", "en": "Welding basics"})
    course_factory("AA-WELD", {"zh_Hans": "焊接三", "en": "Advanced welding"})
    db.session.flush()
    stmt = services.catalogue(services.CatalogueFilter(q="welding"))
    assert [c.code for c in db.session.scalars(stmt)] == ["AA-WELD", "WELD-1", "WELD-2"]
    stmt = services.catalogue(services.CatalogueFilter(q="weld-2"))
    assert next(c.code for c in db.session.scalars(stmt)) == "WELD-2"


def test_question_bank_index_follows_edits(make, gx, course_factory):  # noqa: F811
    teacher = make.user("teacher", gx)
    course = course_factory("IDX-Q", teachers=[teacher.email])
    bank.import_questions(
        teacher, course, "gift", "::ສຳລັບ::ພາສາລາວສຳລັບການຄ້າ {T}\n\n::vi::Mạch điện {T}\n".encode()
    )
    assert [q.name for q in bank.questions(course, q="ການຄ້າ")] == ["ສຳລັບ"]
    # a name match ranks before a match in the text
    assert [q.name for q in bank.questions(course, q="ສຳລັບ")] == ["ສຳລັບ"]
    question = next(q for q in bank.questions(course) if q.name == "vi")
    question.translations[0].stem = "Động cơ xăng"
    db.session.flush()
    assert bank.questions(course, q="mach dien") == []
    assert [q.name for q in bank.questions(course, q="dong co")] == ["vi"]
    rows = db.session.scalars(select(Course.search_text).where(Course.code == "IDX-Q")).all()
    assert rows and search.SECTION in rows[0]
