"""Assessment: question bank (GIFT / Moodle XML), quizzes and exams, attempts, grading,
gradebook."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.assessment import gradebook, models, permissions, tasks, views  # noqa: F401
    from lms.catalog import signals
    from lms.enrolment import services as enrolment

    app.register_blueprint(views.bp)
    enrolment.completion_checks["assessments"] = gradebook.assessments_passed
    if views.lesson_panel not in signals.lesson_panels:
        signals.lesson_panels.append(views.lesson_panel)
