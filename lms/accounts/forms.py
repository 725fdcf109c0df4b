"""HTML forms of the accounts domain. They only collect input; the services validate."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField, URLField
from wtforms.validators import DataRequired, Length

from lms.accounts.models import INSTITUTION_KINDS
from lms.core.forms import options
from lms.core.i18n import LANGUAGES, timezone_choices
from lms.core.security import ROLE_LABELS


def Required() -> DataRequired:
    return DataRequired(message=_l("This field is required."))


def MaxLength(n: int) -> Length:
    return Length(max=n, message=_l("This value is too long."))


KIND_LABELS = {
    "vocational_college": _l("Vocational college"),
    "university": _l("University"),
    "secondary_vocational": _l("Secondary vocational school"),
    "enterprise": _l("Enterprise"),
    "training_centre": _l("Training centre"),
    "authority": _l("Education authority"),
}
assert set(KIND_LABELS) == set(INSTITUTION_KINDS)


def language_choices(blank: bool = True) -> list[tuple[str, str]]:
    out = [("", _l("Automatic (from your browser)"))] if blank else []
    return out + [(code, name) for code, (name, _tag) in LANGUAGES.items()]


def zone_choices(blank: bool = True) -> list[tuple[str, str]]:
    out = [("", _l("Automatic (from your institution)"))] if blank else []
    return out + [(z, z.replace("_", " ")) for z in timezone_choices()]


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[Required(), MaxLength(320)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[Required(), MaxLength(1024)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class ProfileFields:
    display_name = StringField(
        _l("Display name"),
        validators=[Required(), MaxLength(200)],
        render_kw={"autocomplete": "nickname"},
    )
    name_native = StringField(
        _l("Full name in your own script"),
        validators=[MaxLength(200)],
        description=_l("As on your identity documents, e.g. ชื่อ นามสกุล, 阮文安, ឈ្មោះ"),
    )
    name_latin = StringField(
        _l("Full name in Latin letters"),
        validators=[MaxLength(200)],
        description=_l("As in your passport; printed on transcripts beside the native name"),
    )
    country = SelectField(_l("Country or region"), choices=[], validate_choice=False)
    locale = SelectField(_l("Language"), choices=[], validate_choice=False)
    timezone = SelectField(_l("Time zone"), choices=[], validate_choice=False)


class RegisterForm(ProfileFields, FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[Required(), MaxLength(320)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[Required(), MaxLength(1024)],
        description=_l("At least 10 characters"),
        render_kw={"autocomplete": "new-password"},
    )
    institution = SelectField(
        _l("Institution (optional)"),
        choices=[],
        validate_choice=False,
        description=_l("Your institution confirms that you study there"),
    )
    submit = SubmitField(_l("Create account"))


class ProfileForm(ProfileFields, FlaskForm):
    submit = SubmitField(_l("Save"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[Required()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[Required()],
        description=_l("At least 10 characters"),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[Required(), MaxLength(320)],
        render_kw={"autocomplete": "username"},
    )
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[Required()],
        description=_l("At least 10 characters"),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set new password"))


class InstitutionForm(FlaskForm):
    slug = StringField(
        _l("Identifier"),
        validators=[Required(), MaxLength(64)],
        description=_l("Lower-case letters, digits and hyphens, e.g. gxcvc"),
    )
    country = SelectField(_l("Country or region"), choices=[], validate_choice=False)
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    timezone = SelectField(_l("Time zone"), choices=[], validate_choice=False)
    default_locale = SelectField(_l("Default language"), choices=[], validate_choice=False)
    website = URLField(_l("Website"), validators=[MaxLength(300)])
    submit = SubmitField(_l("Save"))


class MemberForm(FlaskForm):
    email = EmailField(
        _l("E-mail address of an existing account"), validators=[Required(), MaxLength(320)]
    )
    role = SelectField(
        _l("Role"),
        validate_choice=False,
        choices=options((r.value, label) for r, label in ROLE_LABELS.items()),
    )
    submit = SubmitField(_l("Grant role"))


for _code, (_name, _tag) in LANGUAGES.items():
    setattr(
        InstitutionForm,
        f"name_{_code}",
        StringField(_name, validators=[MaxLength(300)], render_kw={"lang": _tag}),
    )
