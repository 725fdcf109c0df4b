"""Writing questions in the browser: GIFT typed into the bank page, one question's page with
its answer key, and its text added in another language; only the course's teachers."""

from __future__ import annotations

from lms.assessment.models import Question, QuestionTranslation
from lms.core.extensions import db
from tests.conftest import login


def test_questions_written_on_the_page_join_the_bank(client, teacher, course):
    login(client, teacher)
    bank = f"/teach/courses/{course.code}/questions"
    empty = client.post(bank, data={"format": "gift", "text": "   "})
    assert "Please choose a file or write the questions." in empty.text
    assert db.session.query(Question).count() == 0
    written = client.post(
        bank, data={"format": "gift", "text": "::Oil:: Which oil suits the engine? {=5W-30 ~ATF}"}
    )
    assert written.status_code == 200 and "1 question imported." in written.text
    question = db.session.query(Question).one()
    assert question.name == "Oil" and question.qtype == "single"
    assert f"/questions/{question.id}" in client.get(bank).text


def test_a_question_page_shows_the_key_and_takes_translations(client, teacher, course):
    login(client, teacher)
    client.post(
        f"/teach/courses/{course.code}/questions",
        data={"format": "gift", "text": "::Oil:: Which oil suits the engine? {=5W-30 ~ATF}"},
    )
    question = db.session.query(Question).one()
    url = f"/teach/courses/{course.code}/questions/{question.id}"
    page = client.get(url)
    assert page.status_code == 200 and "=5W-30" in page.text and "~ATF" in page.text
    bad = client.post(url, data={"locale": "th", "stem": "น้ำมันใด", "status": "bogus"})
    assert bad.status_code == 422 and "Unknown translation status." in bad.text
    assert db.session.query(QuestionTranslation).filter_by(locale="th").count() == 0
    blank = client.post(url, data={"locale": "th", "stem": "  ", "status": "original"})
    assert blank.status_code == 422 and "The question has no text." in blank.text
    saved = client.post(
        url, data={"locale": "th", "stem": "น้ำมัน\u200bใดเหมาะกับเครื่องยนต์", "status": "reviewed"}
    )
    assert saved.status_code == 302
    th = db.session.query(QuestionTranslation).filter_by(locale="th").one()
    assert th.stem == "น้ำมัน\u200bใดเหมาะกับเครื่องยนต์" and th.status == "reviewed"  # ZWSP kept
    assert 'lang="th"' in client.get(url).text


def test_only_the_courses_teachers_open_a_question(client, teacher, course, make, gx):
    login(client, teacher)
    client.post(
        f"/teach/courses/{course.code}/questions",
        data={"format": "gift", "text": "::Q:: Two and two? {#4}"},
    )
    question = db.session.query(Question).one()
    url = f"/teach/courses/{course.code}/questions/{question.id}"
    for other in (make.user("teacher", gx), make.user("student", gx)):
        client.post("/logout")
        login(client, other)
        assert client.get(url).status_code == 403
        assert client.post(url, data={"locale": "vi", "stem": "x"}).status_code == 403
    assert db.session.query(QuestionTranslation).count() == 1
