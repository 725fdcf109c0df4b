"""Labels the assessment pages show (translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

QUESTION_TYPE_LABELS = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple response"),
    "truefalse": _l("True / false"),
    "short": _l("Short answer"),
    "numerical": _l("Numerical"),
    "matching": _l("Matching"),
    "cloze": _l("Fill in the blanks"),
    "ordering": _l("Ordering"),
    "essay": _l("Essay"),
    "upload": _l("File upload"),
}

CATEGORY_LABELS = {
    "quizzes": _l("Quizzes"),
    "assignments": _l("Assignments"),
    "exams": _l("Exams"),
    "attendance": _l("Attendance"),
}
