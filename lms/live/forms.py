"""HTML forms of the live domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Optional

from lms.core.forms import options
from lms.core.i18n import LANGUAGES, timezone_choices

PROVIDER_LABELS = {
    "bigbluebutton": _l("BigBlueButton"),
    "jitsi": _l("Jitsi Meet"),
    "external": _l("External link (Tencent Meeting, VooV, Zoom …)"),
}


def language_choices() -> list[tuple[str, str]]:
    return [(code, names[0]) for code, names in LANGUAGES.items()]


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired()])
    starts_at = DateTimeLocalField(
        _l("Starts (local time)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    timezone = SelectField(_l("Time zone"), choices=[], validate_choice=False)
    duration_minutes = IntegerField(_l("Duration (minutes)"), default=60)
    weeks = IntegerField(
        _l("Repeat weekly, number of sessions"),
        validators=[Optional()],
        description=_l("Leave empty for a single session"),
    )
    provider = SelectField(
        _l("Meeting provider"), choices=options(PROVIDER_LABELS.items()), validate_choice=False
    )
    external_url = StringField(_l("Meeting link (external provider only)"))
    cohort = SelectField(_l("Class"), choices=[], validate_choice=False)
    instruction_languages = SelectMultipleField(
        _l("Languages of instruction"), choices=[], validate_choice=False
    )
    interpretation_languages = SelectMultipleField(
        _l("Interpretation into"), choices=[], validate_choice=False
    )
    submit = SubmitField(_l("Schedule"))

    def fill_choices(self, cohorts) -> None:
        self.timezone.choices = options([(z, z.replace("_", " ")) for z in timezone_choices()])
        self.cohort.choices = options(
            [("", _l("Whole course"))] + [(str(c.id), c.name) for c in cohorts]
        )
        self.instruction_languages.choices = options(language_choices())
        self.interpretation_languages.choices = options(language_choices())


class CancelForm(FlaskForm):
    date = DateField(_l("Date to cancel"), validators=[DataRequired()])
    submit = SubmitField(_l("Cancel this date"))


class RecordingForm(FlaskForm):
    url = StringField(_l("Recording link"))
    media_asset_id = StringField(_l("Uploaded video (media id)"))
    submit = SubmitField(_l("Attach recording"))


class SettingsForm(FlaskForm):
    bbb_url = StringField(_l("BigBlueButton server address"))
    bbb_secret = PasswordField(
        _l("BigBlueButton shared secret"), description=_l("Leave empty to keep the stored secret")
    )
    jitsi_domain = StringField(_l("Jitsi Meet server"), default="meet.jit.si")
    jitsi_app_id = StringField(_l("Jitsi application id (for JWT)"))
    jitsi_secret = PasswordField(
        _l("Jitsi application secret"), description=_l("Leave empty to keep the stored secret")
    )
    submit = SubmitField(_l("Save"))
