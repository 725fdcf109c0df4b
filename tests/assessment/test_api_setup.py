"""Setting up assessments and the gradebook through the API, as the course's teacher only."""

from __future__ import annotations

from lms.assessment import gradebook, services
from lms.core.db import utcnow
from lms.enrolment import services as enrolment
from tests.assessment.conftest import SAMPLE_GIFT
from tests.conftest import bearer


def test_teacher_sets_up_assessment_and_gradebook(client, teacher, course, student, make, gx):
    services.import_questions(teacher, course, "gift", SAMPLE_GIFT.read_bytes())
    ids = [q.id for q in services.questions(course)][:3]
    cohort = enrolment.create_cohort(teacher, course, name="Night class")
    auth = bearer(client, teacher)
    created = client.post(
        f"/api/v1/courses/{course.code}/assessments",
        json={
            "title": "Week 1",
            "question_ids": ids,
            "pools": [{"tag": "Engines", "draw": 2}],
            "time_limit_minutes": 20,
            "late_policy": "late",
            "late_grace_minutes": 5,
            "review": "immediately",
            "windows": [
                {
                    "cohort_id": cohort.id,
                    "opens_at": "2026-01-01T00:00:00Z",
                    "closes_at": "2030-01-01T00:00:00Z",
                }
            ],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.json
    quiz = services.get_assessment(created.json["id"])
    assert [i.question_id for i in quiz.items][:3] == ids
    assert (quiz.items[3].tag, quiz.items[3].draw) == ("Engines", 2)
    assert quiz.windows[0].cohort_id == cohort.id
    listed = client.get(
        f"/api/v1/courses/{course.code}/assessments", headers=bearer(client, student)
    )
    assert [a["title"] for a in listed.json] == ["Week 1"]
    outsider = make.user("student", gx)
    assert (
        client.get(
            f"/api/v1/courses/{course.code}/assessments", headers=bearer(client, outsider)
        ).status_code
        == 404
    )
    bad = client.post(
        f"/api/v1/courses/{course.code}/assessments",
        json={"title": "X", "pools": [{"tag": "none", "draw": 1}]},
        headers=auth,
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "pools"
    put = client.put(
        f"/api/v1/courses/{course.code}/gradebook/categories/exams",
        json={"weight": "40", "drop_lowest": 0},
        headers=auth,
    )
    assert put.status_code == 200 and float(put.json["weight"]) == 40
    mark = client.put(
        f"/api/v1/courses/{course.code}/gradebook/pass-mark", json={"pass_mark": "55"}, headers=auth
    )
    assert float(mark.json["pass_mark"]) == 55
    grade = client.post(
        f"/api/v1/courses/{course.code}/gradebook/grades",
        json={
            "student_id": student.id,
            "category": "attendance",
            "title": "Week 1",
            "score": "9",
            "max_score": "10",
        },
        headers=auth,
    )
    assert grade.status_code == 201, grade.json
    result = gradebook.student_result(course, student, now=utcnow())
    assert result.final_percent == 90 and result.pass_mark == 55
    stu = bearer(client, student)
    assert (
        client.put(
            f"/api/v1/courses/{course.code}/gradebook/pass-mark",
            json={"pass_mark": "0"},
            headers=stu,
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/courses/{course.code}/gradebook/grades",
            json={
                "student_id": student.id,
                "category": "exams",
                "title": "Self-given",
                "score": "10",
                "max_score": "10",
            },
            headers=stu,
        ).status_code
        == 403
    )


def test_question_api_create_translate_and_list(client, teacher, course, student):
    auth = bearer(client, teacher)
    made = client.post(
        f"/api/v1/courses/{course.code}/questions",
        json={
            "qtype": "short",
            "stem": "广西的首府是哪座城市？",
            "locale": "zh_Hans",
            "data": {
                "answers": [{"text": "南宁", "fraction": 1}, {"text": "Nanning", "fraction": 1}],
                "diacritics": False,
            },
            "tags": ["geo"],
            "points": 2,
        },
        headers=auth,
    )
    assert made.status_code == 201, made.json
    qid = made.json["id"]
    tr = client.put(
        f"/api/v1/courses/{course.code}/questions/{qid}/translations/th",
        json={"stem": "เมืองหลวงของกวางสีคือเมืองใด"},
        headers=auth,
    )
    assert tr.status_code == 200 and tr.json["locales"] == ["th", "zh_Hans"]
    listed = client.get(f"/api/v1/courses/{course.code}/questions?lang=th", headers=auth)
    assert listed.json[0]["stem"] == "เมืองหลวงของกวางสีคือเมืองใด"
    assert listed.json[0]["stem_locale"] == "th"
    bad = client.post(
        f"/api/v1/courses/{course.code}/questions",
        json={"qtype": "single", "stem": "?", "data": {"choices": []}},
        headers=auth,
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "data"
    stu = bearer(client, student)
    assert client.get(f"/api/v1/courses/{course.code}/questions", headers=stu).status_code == 403
    assert (
        client.put(
            f"/api/v1/courses/{course.code}/questions/{qid}/translations/vi",
            json={"stem": "x"},
            headers=stu,
        ).status_code
        == 403
    )
