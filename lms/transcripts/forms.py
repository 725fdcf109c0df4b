"""HTML forms of the transcripts domain. They only collect input; the services validate."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SubmitField, TextAreaField


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
