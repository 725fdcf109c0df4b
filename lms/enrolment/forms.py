"""HTML forms of the enrolment domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import Optional

from lms.core.forms import options

MODE_LABELS = {
    "open": _l("Open: students enrol themselves"),
    "approval": _l("Teacher approval"),
    "invitation": _l("Invitation code"),
    "closed": _l("Closed"),
}
AUDIENCE_LABELS = {
    "institution": _l("Students of the institution and of partner institutions"),
    "public": _l("Anyone with an account"),
}
STATUS_LABELS = {
    "pending": _l("Waiting for approval"),
    "enrolled": _l("Enrolled"),
    "waitlisted": _l("On the waiting list"),
    "withdrawn": _l("Withdrawn"),
    "rejected": _l("Not admitted"),
    "completed": _l("Completed"),
    "failed": _l("Not passed"),
}


class PolicyForm(FlaskForm):
    mode = SelectField(_l("Enrolment"), choices=options(MODE_LABELS.items()), validate_choice=False)
    audience = SelectField(
        _l("Who may enrol"), choices=options(AUDIENCE_LABELS.items()), validate_choice=False
    )
    invitation_code = StringField(
        _l("Invitation code"), description=_l("Leave empty to keep the current code")
    )
    require_lessons = BooleanField(_l("Completion needs every required lesson"))
    require_assessments = BooleanField(_l("Completion needs every graded assessment passed"))
    min_attendance_percent = IntegerField(
        _l("Minimum live-class attendance (per cent)"), validators=[Optional()]
    )
    submit = SubmitField(_l("Save"))


class CohortForm(FlaskForm):
    name = StringField(_l("Class name"))
    capacity = IntegerField(_l("Capacity"), validators=[Optional()])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    teachers = StringField(_l("Teachers"), description=_l("E-mail addresses separated by spaces"))
    submit = SubmitField(_l("Add class"))


class AgreementForm(FlaskForm):
    partner = SelectField(_l("Partner institution"), choices=[], validate_choice=False)
    term = StringField(_l("Term"), description=_l("e.g. 2027 spring"))
    valid_from = DateField(_l("Valid from"))
    valid_to = DateField(_l("Valid until"))
    quota = IntegerField(_l("Seats for the partner's students"))
    courses = StringField(_l("Courses"), description=_l("Course codes separated by spaces"))
    submit = SubmitField(_l("Save agreement"))
