"""HTML forms of the transcripts domain. They only collect input; the services validate."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length


class VerifyForm(FlaskForm):
    credential = TextAreaField(
        _l("Credential (JSON)"),
        description=_l("Paste the credential exactly as you received it, or choose its file."),
        render_kw={"rows": 12, "spellcheck": "false", "autocomplete": "off"},
    )
    file = FileField(_l("Credential file (.json)"), render_kw={"accept": ".json,application/json"})
    submit = SubmitField(_l("Verify"))


class RotateKeyForm(FlaskForm):
    submit = SubmitField(_l("Create a new signing key"))


class IssueForm(FlaskForm):
    student = EmailField(
        _l("Student's e-mail address"),
        validators=[InputRequired(), Length(max=320)],
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("Issue the transcript"))


class ReissueForm(FlaskForm):
    submit = SubmitField(_l("Issue a new version"))


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for revoking"),
        validators=[InputRequired(), Length(max=1000)],
        description=_l("Verifiers are told the transcript is revoked; the reason stays on record."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Revoke the transcript"))
