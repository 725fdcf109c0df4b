"""HTML forms of the catalogue. They collect input; the services validate."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

TRACK_LABELS = {
    "zh_plus": _l("Chinese + vocational skills"),
    "en_plus": _l("English +"),
    "asean_plus": _l("ASEAN language +"),
    "vocational": _l("Vocational"),
}
KIND_LABELS = {
    "course": _l("Course"),
    "resource_library": _l("Project resource library"),
    "textbook": _l("Textbook"),
    "training_package": _l("Training package"),
}
INDUSTRY_LABELS = {
    "automotive": _l("Automotive"),
    "electronics_it": _l("Electronics and IT"),
    "advanced_manufacturing": _l("Advanced manufacturing"),
    "new_materials": _l("New materials"),
    "modern_agriculture": _l("Modern agriculture"),
    "transport_logistics": _l("Transport and logistics"),
    "light_chemical": _l("Light and chemical industry"),
    "food_pharma": _l("Food and pharmaceuticals"),
    "commerce_services": _l("Commerce and services"),
    "healthcare": _l("Healthcare"),
    "culture_tourism": _l("Culture and tourism"),
    "nonferrous_metals": _l("Non-ferrous metals"),
    "tcm": _l("Traditional Chinese medicine"),
}
CN_LEVEL_LABELS = {
    "zhongzhi": _l("Secondary vocational (中职)"),
    "gaozhi_zhuanke": _l("Higher vocational diploma (高职专科)"),
    "zhiye_benke": _l("Vocational bachelor (职业本科)"),
    "benke": _l("Bachelor (本科)"),
}
LESSON_KIND_LABELS = {
    "text": _l("Text"),
    "video": _l("Video"),
    "document": _l("Document"),
    "live": _l("Live session"),
    "quiz": _l("Quiz"),
    "assignment": _l("Assignment"),
}
TRANSLATION_STATUS_LABELS = {
    "original": _l("Original"),
    "machine": _l("Machine translation"),
    "reviewed": _l("Reviewed translation"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "in_review": _l("In review"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}
REVIEW_ACTION_LABELS = {
    "submitted": _l("submitted for review"),
    "approved": _l("approved and published"),
    "returned": _l("returned with comments"),
    "archived": _l("archived"),
    "reopened": _l("reopened as a draft"),
}


def _select(label, **kw) -> SelectField:
    return SelectField(label, choices=[], validate_choice=False, **kw)


class CourseForm(FlaskForm):
    code = StringField(_l("Course code"), description=_l("e.g. LZ-AUTO-101"))
    track = _select(_l("Track"))
    asean_language = _select(_l("ASEAN language taught"))
    kind = _select(_l("Kind"))
    industry = _select(_l("Industry"))
    aqrf_level = _select(_l("AQRF level"))
    cn_level = _select(_l("Chinese level"))
    credits = DecimalField(_l("Credits"), places=1, validators=[Optional()])
    learning_hours = IntegerField(_l("Notional learning hours"), validators=[Optional()])
    instruction_languages = SelectMultipleField(
        _l("Languages of instruction"), choices=[], validate_choice=False
    )
    source_locale = _select(_l("Source language of the texts"))
    capacity = IntegerField(
        _l("Capacity"), validators=[Optional()], description=_l("Leave empty for no limit")
    )
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    prerequisites = StringField(
        _l("Prerequisites"), description=_l("Course codes separated by spaces")
    )
    teachers = StringField(_l("Teachers"), description=_l("E-mail addresses separated by spaces"))
    title = StringField(_l("Title"), description=_l("In the source language"))
    submit = SubmitField(_l("Save"))


class TextsForm(FlaskForm):
    """One language's texts of a course, module or lesson (fields used as needed)."""

    title = StringField(_l("Title"))
    summary = TextAreaField(_l("Summary"))
    description = TextAreaField(_l("Description"), description=_l("Markdown"))
    outcomes = TextAreaField(_l("Learning outcomes"), description=_l("One per line"))
    body = TextAreaField(_l("Lesson text"), description=_l("Markdown"))
    status = _select(_l("Translation status"))
    submit = SubmitField(_l("Save"))


class ModuleForm(FlaskForm):
    key = StringField(_l("Key"), description=_l("Lower-case letters, digits and hyphens"))
    title = StringField(_l("Title"))
    submit = SubmitField(_l("Add module"))


class LessonForm(FlaskForm):
    key = StringField(_l("Key"), description=_l("Lower-case letters, digits and hyphens"))
    kind = _select(_l("Kind"))
    title = StringField(_l("Title"))
    minutes = IntegerField(_l("Minutes of study"), validators=[Optional()])
    required = BooleanField(_l("Required for completion"), default=True)
    submit = SubmitField(_l("Add lesson"))


class GlossaryForm(FlaskForm):
    term = StringField(_l("Chinese term"))
    pinyin = StringField(_l("Pinyin"), description=_l("Leave empty to generate it"))
    translation = StringField(_l("Meaning"))
    translation_locale = _select(_l("Language of the meaning"))
    submit = SubmitField(_l("Save term"))


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment"))
    submit = SubmitField(_l("Send"))
