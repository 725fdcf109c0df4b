"""Pages of the accounts domain: home, sign-in, registration, profile, language, admin."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts import services, sessions
from lms.accounts.forms import (
    KIND_LABELS,
    InstitutionForm,
    LoginForm,
    MemberForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    language_choices,
    zone_choices,
)
from lms.accounts.models import INSTITUTION_KINDS, SESSION_KEY, Institution
from lms.accounts.throttle import login_attempts
from lms.core.errors import ValidationError, field_error
from lms.core.extensions import csrf, db
from lms.core.forms import options, show_errors
from lms.core.i18n import LANG_COOKIE, LANGUAGES, current_locale, normalise_locale
from lms.core.pagination import paginate
from lms.core.security import Role, can, require

bp = Blueprint("accounts", __name__, template_folder="templates")


def _safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return fallback
    return target


def _countries() -> list[tuple[str, str]]:
    locale = current_locale()
    names = [(code, services.country_name(code, locale)) for code in services.country_codes()]
    return [("", "—"), *sorted(names, key=lambda c: c[1])]


# ---------------------------------------------------------------------------- public


@bp.post("/language")
@csrf.exempt  # checked below for a signed-in reader, whose profile it changes
def set_language():
    """The language switcher (a plain form, so it works without JavaScript). For a visitor
    it only sets a cookie, so their pages need no session for a CSRF token (and can be
    shared by every visitor); a signed-in reader's form carries the token as any other."""
    if current_user.is_authenticated and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    chosen = normalise_locale(request.form.get("lang"))
    target = _safe_next(request.form.get("next"), url_for("catalog.home"))
    resp = make_response(redirect(target))
    if chosen:
        resp.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure,
        )
        if current_user.is_authenticated:
            services.update_profile(current_user, current_user, locale=chosen)
    return resp


@bp.route("/login", methods=["GET", "POST"])
@login_attempts
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            _sign_in(user)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(_safe_next(request.args.get("next"), url_for("catalog.home")))
        form.password.errors = [_("The e-mail address or password is not correct.")]
        return render_template("accounts/login.html", form=form), 401
    return render_template("accounts/login.html", form=form)


def _sign_in(user) -> None:
    """A fresh session at sign-in (no fixation), backed by a server-side row that signing
    out ends (a copied cookie stops working too)."""
    session.clear()
    key = sessions.start_session(user, user_agent=request.user_agent.string or "")
    login_user(user)
    session[SESSION_KEY] = key
    session.permanent = True


@bp.post("/logout")
def logout():
    sessions.end_session(session.get(SESSION_KEY))
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("catalog.home"))


def _fill_profile_choices(form) -> None:
    form.country.choices = options(_countries())
    form.locale.choices = options(language_choices())
    form.timezone.choices = options(zone_choices())


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    _fill_profile_choices(form)
    locale = current_locale()
    institutions = db.session.scalars(services.list_institutions()).all()
    form.institution.choices = options(
        [("", "—")] + [(i.slug, i.name_in(locale)[0]) for i in institutions]
    )
    if request.method == "GET":
        form.locale.data = current_locale()
    if form.validate_on_submit():
        try:
            user = services.register(
                services.Registration(
                    email=form.email.data,
                    password=form.password.data,
                    display_name=form.display_name.data,
                    name_native=form.name_native.data or "",
                    name_latin=form.name_latin.data or "",
                    country=form.country.data or "",
                    locale=form.locale.data or "",
                    timezone=form.timezone.data or "",
                    institution_slug=form.institution.data or "",
                )
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template("accounts/register.html", form=form), 422
        _sign_in(user)
        flash(_("Your account is ready."), "success")
        return redirect(url_for("accounts.profile"))
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


# ---------------------------------------------------------------------------- profile


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    _fill_profile_choices(form)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user,
                current_user,
                **{f: getattr(form, f).data or "" for f in services.PROFILE_FIELDS},
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template("accounts/profile.html", form=form, user=current_user), 422
        g.pop("locale", None)
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, user=current_user)


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template("accounts/password.html", form=form), 422
        login_user(current_user._get_current_object())  # the session follows the new version
        flash(_("Your password is changed. Other sessions were signed out."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/password.html", form=form)


@bp.get("/users/<int:user_id>")
@login_required
def user_page(user_id: int):
    user = services.get_user(user_id)
    require(current_user, "user.view", user)
    return render_template("accounts/user.html", user=user)


@bp.post("/users/<int:user_id>/active")
@login_required
def user_active(user_id: int):
    user = services.get_user(user_id)
    services.set_active(current_user, user, request.form.get("active") == "1")
    flash(_("Saved."), "success")
    return redirect(url_for("accounts.user_page", user_id=user.id))


# ---------------------------------------------------------------------------- admin


@bp.get("/admin/")
@login_required
def admin_home():
    require(current_user, "admin.access")
    if current_user.is_platform_admin:
        stmt = services.list_institutions()
    else:
        ids = current_user.institutions_with(Role.ADMIN, Role.REGISTRAR)
        stmt = services.list_institutions().where(Institution.id.in_(ids))
    page = paginate(stmt, request.args.get("page", 1), 50)
    return render_template("accounts/admin_home.html", page=page)


def _fill_institution_choices(form: InstitutionForm) -> None:
    form.country.choices = options(_countries())
    form.kind.choices = options([(k, KIND_LABELS[k]) for k in INSTITUTION_KINDS])
    form.timezone.choices = options(zone_choices(blank=False))
    form.default_locale.choices = options(language_choices(blank=False))


def _institution_data(form: InstitutionForm) -> dict:
    return {
        "names": {code: getattr(form, f"name_{code}").data or "" for code in LANGUAGES},
        "country": form.country.data,
        "kind": form.kind.data,
        "timezone": form.timezone.data,
        "default_locale": form.default_locale.data,
        "website": form.website.data or "",
    }


@bp.route("/admin/institutions/new", methods=["GET", "POST"])
@login_required
def institution_new():
    require(current_user, "institution.create")
    form = InstitutionForm()
    _fill_institution_choices(form)
    if form.validate_on_submit():
        try:
            inst = services.create_institution(
                current_user, slug=form.slug.data, **_institution_data(form)
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template("accounts/institution_form.html", form=form, inst=None), 422
        flash(_("The institution is created."), "success")
        return redirect(url_for("accounts.institution_members", slug=inst.slug))
    return render_template("accounts/institution_form.html", form=form, inst=None)


@bp.route("/admin/institutions/<slug>/edit", methods=["GET", "POST"])
@login_required
def institution_edit(slug: str):
    inst = services.get_institution(slug)
    require(current_user, "institution.manage", inst)
    form = InstitutionForm(obj=inst)
    _fill_institution_choices(form)
    if request.method == "GET":
        for code in LANGUAGES:
            getattr(form, f"name_{code}").data = inst.names.get(code, "")
    form.slug.data = inst.slug
    if form.validate_on_submit():
        try:
            services.update_institution(current_user, inst, **_institution_data(form))
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template("accounts/institution_form.html", form=form, inst=inst), 422
        flash(_("Saved."), "success")
        return redirect(url_for("accounts.institution_members", slug=inst.slug))
    return render_template("accounts/institution_form.html", form=form, inst=inst)


@bp.route("/admin/institutions/<slug>/members", methods=["GET", "POST"])
@login_required
def institution_members(slug: str):
    inst = services.get_institution(slug)
    require(current_user, "institution.view_members", inst)
    form = MemberForm()
    status = 200
    if request.method == "POST":
        require(current_user, "institution.manage_members", inst)
        if form.validate_on_submit():
            try:
                user = services.find_user_by_email(form.email.data)
                if user is None:
                    raise field_error("email", _("No account with this e-mail address."))
                services.grant_role(current_user, user, inst, form.role.data)
            except ValidationError as exc:
                db.session.rollback()
                show_errors(form, exc)
                status = 422
            else:
                flash(_("The role is granted."), "success")
                return redirect(url_for("accounts.institution_members", slug=slug))
        else:
            status = 422
    page = paginate(services.members(inst), request.args.get("page", 1), 50)
    return render_template(
        "accounts/members.html",
        inst=inst,
        page=page,
        form=form,
        can_manage=can(current_user, "institution.manage_members", inst),
        can_approve=can(current_user, "institution.approve_students", inst),
    ), status


@bp.post("/admin/memberships/<int:membership_id>/revoke")
@login_required
def membership_revoke(membership_id: int):
    membership = services.get_membership(membership_id)
    slug = membership.institution.slug
    services.revoke_role(current_user, membership)
    flash(_("The role is removed."), "success")
    return redirect(url_for("accounts.institution_members", slug=slug))


@bp.post("/admin/memberships/<int:membership_id>/approve")
@login_required
def membership_approve(membership_id: int):
    membership = services.get_membership(membership_id)
    services.approve_membership(current_user, membership)
    flash(_("The student is confirmed."), "success")
    return redirect(url_for("accounts.institution_members", slug=membership.institution.slug))
