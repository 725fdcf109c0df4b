"""HTML forms of the media domain. They only collect input; the services validate."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import Length


class UploadForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    title = StringField(
        _l("Title"),
        validators=[Length(max=200, message=_l("This value is too long."))],
        description=_l("Shown to students; the file name is used when empty"),
    )
    file = FileField(
        _l("File"),
        description=_l(
            "Video: MP4, WebM, MKV, MOV or AVI. Document: PDF. Large files continue where they "
            "stopped if the connection drops."
        ),
        render_kw={"accept": "video/*,.mp4,.m4v,.mov,.mkv,.webm,.avi,.ts,application/pdf,.pdf"},
    )
    submit = SubmitField(_l("Upload"))


class SubtitleForm(FlaskForm):
    lang = SelectField(_l("Language"), choices=[], validate_choice=False)
    file = FileField(
        _l("Subtitle file"),
        description=_l("SRT or WebVTT, saved as UTF-8"),
        render_kw={"accept": ".srt,.vtt,text/vtt"},
    )
    submit = SubmitField(_l("Add subtitles"))


class DataSaverForm(FlaskForm):
    data_saver = SelectField(_l("Video quality"), choices=[], validate_choice=False)
    next = HiddenField()
    submit = SubmitField(_l("Save"))
