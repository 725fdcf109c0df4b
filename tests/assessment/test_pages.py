"""Pages: a quiz taken with plain forms (no JavaScript), the lesson's start button, the
teacher's bank, grading queue and gradebook (with CSV), and no access to others' attempts."""

from __future__ import annotations

from lms.assessment import attempts, gradebook, services
from lms.catalog import services as catalog
from lms.core.db import utcnow
from tests.assessment.conftest import SAMPLE_GIFT
from tests.conftest import login


def _quiz(teacher, course, **kw):
    bank = {
        q.name: q
        for q in services.import_questions(
            teacher, course, "gift", SAMPLE_GIFT.read_bytes()
        ).imported
    }
    lesson = catalog.add_lesson(
        None, course.modules[0], "quiz1", "quiz", {"zh_Hans": {"title": "测验"}}, check=False
    )
    quiz = services.create_assessment(
        teacher,
        course,
        "Engine quiz",
        lesson=lesson,
        time_limit_minutes=15,
        question_ids=[
            bank[n].id for n in ("Spark", "Tyres", "Oil", "Greeting", "Capitals", "Essay")
        ],
        **kw,
    )
    return quiz, bank, lesson


def test_quiz_without_javascript(client, teacher, course, student):
    quiz, bank, lesson = _quiz(teacher, course, review="immediately")
    login(client, student)
    page = client.get(f"/courses/{course.code}/lessons/{lesson.key}")
    assert page.status_code == 200
    assert f"/assessments/{quiz.id}" in page.get_data(as_text=True)
    started = client.post(f"/assessments/{quiz.id}/start")
    assert started.status_code == 302
    attempt_url = started.headers["Location"]
    html = client.get(attempt_url).get_data(as_text=True)
    assert "Time left: 14 min" in html or "Time left: 15 min" in html
    assert "<script" not in html.split("<main", 1)[-1].split("</main>", 1)[0]
    ids = {name: bank[name].id for name in bank}
    form = {
        f"q-{ids['Spark']}": "c1",
        f"q-{ids['Tyres']}-present": "1",
        f"q-{ids['Tyres']}": ["c1", "c2"],
        f"q-{ids['Oil']}": "true",
        f"q-{ids['Greeting']}": "xin chào",
        f"q-{ids['Capitals']}-0": "Hà Nội",
        f"q-{ids['Capitals']}-1": "Bangkok",
        f"q-{ids['Capitals']}-2": "Vientiane",
        f"q-{ids['Essay']}": "Suck, squeeze, bang, blow.",
        "action": "save",
    }
    saved = client.post(attempt_url, data=form)
    assert saved.status_code == 302
    again = client.get(attempt_url).get_data(as_text=True)
    assert "Suck, squeeze, bang, blow." in again and 'value="xin chào"' in again
    done = client.post(attempt_url, data={"action": "submit"})
    assert done.status_code == 302
    result = client.get(attempt_url).get_data(as_text=True)
    assert "Waiting for grading" in result
    (row,) = attempts.attempts_of(student, quiz)
    assert row.status == "needs_grading"
    assert sorted(str(r.score) for r in row.responses if r.score is not None) == [
        "1.00",
        "1.00",
        "1.00",
        "1.00",
        "1.00",
    ]


def test_pages_refuse_others_attempts_and_teacher_pages(
    client, teacher, course, student, other_student
):
    quiz, _bank, _lesson = _quiz(teacher, course)
    attempt = attempts.start_attempt(student, quiz, now=utcnow())
    login(client, other_student)
    assert client.get(f"/attempts/{attempt.id}").status_code == 404
    assert client.post(f"/attempts/{attempt.id}", data={"action": "submit"}).status_code == 404
    assert client.get(f"/teach/courses/{course.code}/questions").status_code == 403
    assert client.get(f"/teach/courses/{course.code}/questions?export=gift").status_code == 403
    assert client.get(f"/teach/courses/{course.code}/grading").status_code == 403
    assert client.get(f"/teach/courses/{course.code}/gradebook").status_code == 403
    assert attempt.status == "in_progress"


def test_teacher_pages(client, teacher, course, student):
    quiz, bank, _lesson = _quiz(teacher, course)
    now = utcnow()
    attempt = attempts.start_attempt(student, quiz, now=now)
    attempts.submit_attempt(
        student,
        attempt,
        now=now,
        answers={bank["Essay"].id: "Four strokes.", bank["Spark"].id: "c1"},
    )
    gradebook.set_category(teacher, course, "quizzes", 100)
    login(client, teacher)
    bank_page = client.get(f"/teach/courses/{course.code}/questions").get_data(as_text=True)
    assert "Matching" in bank_page and "Spark" in bank_page
    imported = client.post(
        f"/teach/courses/{course.code}/questions",
        data={"format": "gift", "file": (__import__("io").BytesIO(b"Bad {~a ~b}"), "x.gift")},
    )
    assert "line 1: No answer earns any credit." in imported.get_data(as_text=True)
    queue = client.get(f"/teach/courses/{course.code}/grading").get_data(as_text=True)
    assert "Four strokes." in queue
    essay_response = next(r for r in attempt.responses if r.question_id == bank["Essay"].id)
    graded = client.post(
        f"/teach/responses/{essay_response.id}/grade", data={"score": "1", "feedback": "Good"}
    )
    assert graded.status_code == 302
    assert attempt.status == "graded"
    csv = client.get(f"/teach/courses/{course.code}/gradebook?format=csv")
    assert csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert student.email in text
    # 6 questions of 1 point: Spark right + the essay's 1 point → 2 / 6 = 33.33 %
    assert "Quizzes" in text.splitlines()[0]
    assert f"{student.email},33.33,,,,33.33,60,Fail" in text
    assert client.get(f"/teach/courses/{course.code}/gradebook").status_code == 200


def test_teacher_creates_assessment_and_weights_by_form(client, teacher, course, student):
    bank = {
        q.name: q
        for q in services.import_questions(
            teacher, course, "gift", SAMPLE_GIFT.read_bytes()
        ).imported
    }
    catalog.add_lesson(
        None, course.modules[0], "quiz2", "quiz", {"zh_Hans": {"title": "测验"}}, check=False
    )
    login(client, teacher)
    page = client.get(f"/teach/courses/{course.code}/questions").get_data(as_text=True)
    assert "New assessment" in page
    made = client.post(
        f"/teach/courses/{course.code}/assessments",
        data={
            "title": "Form quiz",
            "kind": "quiz",
            "category": "quizzes",
            "lesson": "quiz2",
            "question": [bank["Spark"].id, bank["Oil"].id],
            "time_limit_minutes": "10",
            "max_attempts": "2",
            "closes_at": "2030-06-01T09:00",
            "late_policy": "refuse",
            "review": "immediately",
        },
    )
    assert made.status_code == 302
    (quiz,) = services.assessments_of(course)
    assert quiz.lesson_id is not None and quiz.max_attempts == 2
    # 09:00 typed in the teacher's zone (Asia/Shanghai, UTC+8 by default) → 01:00 UTC
    assert quiz.closes_at.isoformat() == "2030-06-01T01:00:00+00:00"
    saved = client.post(
        f"/teach/courses/{course.code}/gradebook",
        data={"weight-quizzes": "70", "drop-quizzes": "1", "weight-exams": "30", "pass_mark": "65"},
    )
    assert saved.status_code == 302
    assert gradebook.pass_mark_of(course) == 65
    assert {c.key: c.weight for c in gradebook.categories_of(course)} == {
        "quizzes": 70,
        "exams": 30,
    }
    assert (
        client.post(
            f"/teach/courses/{course.code}/gradebook", data={"pass_mark": "abc"}
        ).status_code
        == 422
    )


def test_autosave_stores_answers_and_answers_204(client, teacher, course, student):
    """The attempt page's script (an enhancement) posts ``action=autosave`` on every change:
    the answers are stored and the reply is an empty 204, with no message piling up."""
    quiz, bank, _lesson = _quiz(teacher, course, review="immediately")
    login(client, student)
    attempt_url = client.post(f"/assessments/{quiz.id}/start").headers["Location"]
    page = client.get(attempt_url).get_data(as_text=True)
    assert "quiz-autosave.js" in page.split("</head>")[0] and "data-autosave" in page
    essay = f"q-{bank['Essay'].id}"
    resp = client.post(attempt_url, data={"action": "autosave", essay: "typed, not yet saved"})
    assert resp.status_code == 204 and resp.data == b""
    again = client.get(attempt_url).get_data(as_text=True)
    assert "typed, not yet saved" in again
    assert "Your answers were saved." not in again
