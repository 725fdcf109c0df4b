"""HTML forms of the credits domain. They only collect input; the services validate (so a
registrar sees the same translated, located messages as an API client)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.core.forms import options
from lms.core.i18n import LANGUAGES
from lms.credits.validation import ROUNDING_STEPS

#: blank band rows offered below the existing ones when editing a scale
SPARE_ROWS = 3

DIRECTION_LABELS = {
    "higher_better": _l("Higher grade points are better (4.0 = A)"),
    "lower_better": _l("Lower grade points are better (1.00 is best)"),
}
ROUNDING_LABELS = {
    "half_up": _l("To the nearest step, halves upwards"),
    "down": _l("Down: only completed hours count"),
}


def _max(n: int) -> Length:
    return Length(max=n, message=_l("This value is too long."))


class BandRow(Form):
    """One row of the bands table (a sub-form: the outer form carries the CSRF token)."""

    label = StringField(_l("Grade"), validators=[_max(16)])
    min_percent = StringField(
        _l("From, in percent"), validators=[_max(12)], render_kw={"inputmode": "decimal"}
    )
    max_percent = StringField(
        _l("Up to, not including, in percent"),
        validators=[_max(12)],
        render_kw={"inputmode": "decimal"},
    )
    points = StringField(
        _l("Grade points"), validators=[_max(12)], render_kw={"inputmode": "decimal"}
    )

    def is_blank(self) -> bool:
        return not any(
            (f.data or "").strip()
            for f in (self.label, self.min_percent, self.max_percent, self.points)
        )


class ScaleForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("This field is required.")), _max(32)],
        description=_l("Letters, digits and . - _ (e.g. NVTC-100). It cannot change later."),
    )
    country = SelectField(_l("Country or region"), choices=[], validate_choice=False)
    direction = SelectField(
        _l("Grade points"), choices=options(DIRECTION_LABELS.items()), validate_choice=False
    )
    pass_mark = StringField(
        _l("Pass mark, in percent"),
        validators=[_max(12)],
        render_kw={"inputmode": "decimal"},
        description=_l("The lowest passing percentage; it must be where a band starts."),
    )
    notes = TextAreaField(_l("Notes"), validators=[_max(1000)])
    bands = FieldList(FormField(BandRow), min_entries=0)
    submit = SubmitField(_l("Save"))


class CreditSystemForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("This field is required.")), _max(32)],
        description=_l("Letters, digits and . - _ (e.g. NVTC-CREDIT). It cannot change later."),
    )
    country = SelectField(_l("Country or region"), choices=[], validate_choice=False)
    hours_per_credit = StringField(
        _l("Hours of learning per credit"),
        validators=[_max(12)],
        render_kw={"inputmode": "decimal"},
    )
    rounding_step = SelectField(
        _l("Round credits to a multiple of"),
        choices=options((s, s) for s in ROUNDING_STEPS),
        validate_choice=False,
    )
    rounding_mode = SelectField(
        _l("Rounding"), choices=options(ROUNDING_LABELS.items()), validate_choice=False
    )
    notes = TextAreaField(_l("Notes"), validators=[_max(1000)])
    submit = SubmitField(_l("Save"))


class ConverterForm(FlaskForm):
    """Read from the query string (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    percent = StringField(
        _l("Percentage"), validators=[_max(12)], render_kw={"inputmode": "decimal"}
    )
    to = SelectField(_l("Compare with"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Convert"))


class SettingsForm(FlaskForm):
    credit_system = SelectField(_l("Credit system"), choices=[], validate_choice=False)
    grade_scale = SelectField(_l("Grade scale"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save"))


for _form in (ScaleForm, CreditSystemForm):
    for _code, (_name, _tag) in LANGUAGES.items():
        setattr(
            _form,
            f"name_{_code}",
            StringField(_name, validators=[_max(200)], render_kw={"lang": _tag}),
        )


class RecognitionRequestForm(FlaskForm):
    """A student's request; the courses are checkboxes named ``records`` in the page."""

    target = SelectField(_l("Institution asked to recognise them"), choices=[])
    message = TextAreaField(_l("Message to the registrar"), render_kw={"rows": 3})
    submit = SubmitField(_l("Ask for recognition"))


class RecognitionDecisionForm(FlaskForm):
    """A registrar's decision; each item's approval is a checkbox named ``approve``."""

    reason = TextAreaField(_l("Reason (required when a course is not recognised)"))
    submit = SubmitField(_l("Record the decision"))


CONVERSION_LABELS = {
    "percent": _l("Through the result percentage, placed on our grade scale"),
    "grade": _l("Through the grade: its representative percentage on our grade scale"),
}


class AgreementForm(FlaskForm):
    """A recognition agreement: ``partner`` and ``code`` are fixed once it exists."""

    partner = SelectField(_l("Partner institution (where the credit is earned)"))
    code = StringField(_l("Agreement code"), validators=[_max(40)])
    valid_from = StringField(_l("Valid from"), render_kw={"type": "date"})
    valid_to = StringField(_l("Valid until"), render_kw={"type": "date"})
    max_credits = StringField(
        _l("Most credits a student may transfer"),
        description=_l("Leave empty for no limit."),
        render_kw={"inputmode": "decimal"},
    )
    min_percent = StringField(
        _l("Lowest result accepted, in percent"),
        description=_l("Leave empty to accept every pass."),
        render_kw={"inputmode": "decimal"},
    )
    conversion = SelectField(
        _l("Grade conversion"), choices=options(CONVERSION_LABELS.items()), default="percent"
    )
    equivalences = TextAreaField(
        _l("Course equivalences"),
        description=_l(
            "One per line: the partner's course code; our course code; our course title. "
            "For example: GX-AUTO-101; AUTO 110; Automotive basics"
        ),
        render_kw={"rows": 6, "spellcheck": "false"},
    )
    notes = TextAreaField(_l("Notes"), validators=[_max(1000)], render_kw={"rows": 3})
    submit = SubmitField(_l("Save the agreement"))
