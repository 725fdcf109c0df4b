"""Pages of the credits domain: grade scales (bands and a converter) and credit systems,
their editing by registrars, and an institution's choice of both."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services as accounts
from lms.accounts.models import Institution
from lms.core.errors import DomainError, ValidationError
from lms.core.extensions import db
from lms.core.forms import options, show_errors
from lms.core.i18n import LANGUAGES, current_locale
from lms.core.pagination import paginate
from lms.core.security import Role, can, require
from lms.credits import services
from lms.credits.forms import (
    SPARE_ROWS,
    ConverterForm,
    CreditSystemForm,
    ScaleForm,
    SettingsForm,
)
from lms.credits.models import CreditSystem, GradeScale

bp = Blueprint("credits", __name__, url_prefix="/credits", template_folder="templates")


def _countries() -> list[tuple[str, str]]:
    locale = current_locale()
    names = [(c, accounts.country_name(c, locale)) for c in accounts.country_codes()]
    return sorted(names, key=lambda c: c[1])


def _names(form) -> dict[str, str]:
    return {code: getattr(form, f"name_{code}").data or "" for code in LANGUAGES}


def _fill_names(form, names: dict[str, str]) -> None:
    for code in LANGUAGES:
        getattr(form, f"name_{code}").data = names.get(code, "")


def _managed() -> list[Institution]:
    """Institutions whose scales or systems the user may keep (for "new" links)."""
    if not current_user.is_authenticated:
        return []
    stmt = accounts.list_institutions()
    if not current_user.is_platform_admin:
        ids = current_user.institutions_with(Role.REGISTRAR, Role.ADMIN)
        stmt = stmt.where(Institution.id.in_(ids))
    return list(db.session.scalars(stmt))


def _owner_from_query() -> Institution | None:
    slug = request.args.get("institution", "")
    return accounts.get_institution(slug) if slug else None


# ---------------------------------------------------------------------------- scales


@bp.get("/scales")
def scales():
    require(current_user, "credits.view_scales")
    owner = _owner_from_query()
    stmt = services.list_scales(country=request.args.get("country") or None, institution=owner)
    page = paginate(stmt, request.args.get("page", 1), 50)
    return render_template("credits/scales.html", page=page, owner=owner, managed=_managed())


@bp.get("/scales/<ref>")
def scale(ref: str):
    scale = services.get_scale(ref)
    require(current_user, "credits.view_scales", scale)
    others = list(db.session.scalars(services.list_scales()))
    form = ConverterForm(formdata=request.args)
    form.to.choices = options(
        [("", "—")] + [(s.ref, s.name_in(current_locale())[0]) for s in others]
    )
    here = other = None
    status = 200
    if (form.percent.data or "").strip():
        try:
            here = services.convert_grade(scale, scale, percent=form.percent.data.strip())
            if form.to.data:
                target = services.get_scale(form.to.data)
                other = (target, services.convert_grade(scale, target, percent=here.percent))
        except ValidationError as exc:
            show_errors(form, exc)
            status = 422
    return render_template(
        "credits/scale.html", scale=scale, form=form, here=here, other=other
    ), status


def _band_rows(form: ScaleForm, scale: GradeScale | None) -> list[services.BandInput]:
    """The filled-in rows as band inputs; the names a band had (e.g. 优秀 for A) stay
    with its label."""
    old = {b.label: b.names for b in scale.bands} if scale else {}
    rows = []
    for entry in form.bands:
        row = entry.form
        if row.is_blank():
            continue
        label = (row.label.data or "").strip()
        rows.append(
            services.BandInput(
                label=label,
                min_percent=(row.min_percent.data or "").strip(),
                max_percent=(row.max_percent.data or "").strip(),
                points=(row.points.data or "").strip(),
                names=old.get(label),
            )
        )
    return rows


def _scale_form(scale: GradeScale | None, owner: Institution | None) -> ScaleForm:
    # On POST the submitted form is the only source: a field left out must not be filled
    # from the model (its Decimal then reached string validators: a 500).
    form = ScaleForm(obj=scale if request.method == "GET" else None)
    form.country.choices = options(_countries())
    if request.method == "GET":
        form.bands.entries, form.bands.last_index = [], -1
        for band in scale.bands if scale else []:
            form.bands.append_entry(
                {
                    "label": band.label,
                    "min_percent": f"{band.min_percent.normalize():f}",
                    "max_percent": f"{band.max_percent.normalize():f}",
                    "points": f"{band.points:f}",
                }
            )
        for _ in range(SPARE_ROWS if scale else 6):
            form.bands.append_entry()
        if scale:
            _fill_names(form, scale.names)
            form.pass_mark.data = f"{scale.pass_mark.normalize():f}"
        elif owner:
            form.country.data = owner.country
    if scale:
        form.code.data = scale.code
    return form


@bp.route("/scales/new", methods=["GET", "POST"])
@login_required
def scale_new():
    owner = _owner_from_query()
    require(current_user, "credits.manage_scales", owner)
    form = _scale_form(None, owner)
    if form.validate_on_submit():
        try:
            created = services.create_scale(
                current_user,
                owner,
                code=form.code.data,
                names=_names(form),
                country=form.country.data,
                direction=form.direction.data,
                pass_mark=(form.pass_mark.data or "").strip(),
                bands=_band_rows(form, None),
                notes=form.notes.data or "",
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template(
                "credits/scale_form.html", form=form, scale=None, owner=owner
            ), 422
        flash(_("The grade scale is saved."), "success")
        return redirect(url_for("credits.scale", ref=created.ref))
    status = 422 if form.errors else 200
    return render_template("credits/scale_form.html", form=form, scale=None, owner=owner), status


@bp.route("/scales/<ref>/edit", methods=["GET", "POST"])
@login_required
def scale_edit(ref: str):
    scale = services.get_scale(ref)
    require(current_user, "credits.manage_scales", scale)
    form = _scale_form(scale, scale.institution)
    if form.validate_on_submit():
        try:
            services.update_scale(
                current_user,
                scale,
                names=_names(form),
                country=form.country.data,
                direction=form.direction.data,
                pass_mark=(form.pass_mark.data or "").strip(),
                bands=_band_rows(form, scale),
                notes=form.notes.data or "",
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template(
                "credits/scale_form.html", form=form, scale=scale, owner=scale.institution
            ), 422
        flash(_("The grade scale is saved."), "success")
        return redirect(url_for("credits.scale", ref=ref))
    status = 422 if form.errors else 200
    return render_template(
        "credits/scale_form.html", form=form, scale=scale, owner=scale.institution
    ), status


# ---------------------------------------------------------------------------- credit systems


@bp.get("/systems")
def systems():
    require(current_user, "credits.view_scales")
    owner = _owner_from_query()
    stmt = services.list_credit_systems(
        country=request.args.get("country") or None, institution=owner
    )
    page = paginate(stmt, request.args.get("page", 1), 50)
    return render_template("credits/systems.html", page=page, owner=owner, managed=_managed())


def _system_form(system: CreditSystem | None, owner: Institution | None) -> CreditSystemForm:
    form = CreditSystemForm(obj=system if request.method == "GET" else None)
    form.country.choices = options(_countries())
    if request.method == "GET":
        if system:
            _fill_names(form, system.names)
            form.hours_per_credit.data = f"{system.hours_per_credit.normalize():f}"
            form.rounding_step.data = f"{system.rounding_step.normalize():f}"
        else:
            form.rounding_step.data = "0.5"
            if owner:
                form.country.data = owner.country
    if system:
        form.code.data = system.code
    return form


def _system_data(form: CreditSystemForm) -> dict[str, Any]:
    return {
        "names": _names(form),
        "country": form.country.data,
        "hours_per_credit": (form.hours_per_credit.data or "").strip(),
        "rounding_step": form.rounding_step.data,
        "rounding_mode": form.rounding_mode.data,
        "notes": form.notes.data or "",
    }


@bp.route("/systems/new", methods=["GET", "POST"])
@login_required
def system_new():
    owner = _owner_from_query()
    require(current_user, "credits.manage_scales", owner)
    form = _system_form(None, owner)
    if form.validate_on_submit():
        try:
            services.create_credit_system(
                current_user, owner, code=form.code.data, **_system_data(form)
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template(
                "credits/system_form.html", form=form, system=None, owner=owner
            ), 422
        flash(_("The credit system is saved."), "success")
        return redirect(url_for("credits.systems", institution=owner.slug if owner else None))
    status = 422 if form.errors else 200
    return render_template("credits/system_form.html", form=form, system=None, owner=owner), status


@bp.route("/systems/<ref>/edit", methods=["GET", "POST"])
@login_required
def system_edit(ref: str):
    system = services.get_credit_system(ref)
    require(current_user, "credits.manage_scales", system)
    form = _system_form(system, system.institution)
    if form.validate_on_submit():
        try:
            services.update_credit_system(current_user, system, **_system_data(form))
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template(
                "credits/system_form.html", form=form, system=system, owner=system.institution
            ), 422
        flash(_("The credit system is saved."), "success")
        owner = system.institution
        return redirect(url_for("credits.systems", institution=owner.slug if owner else None))
    status = 422 if form.errors else 200
    return render_template(
        "credits/system_form.html", form=form, system=system, owner=system.institution
    ), status


# ---------------------------------------------------------------------------- settings


@bp.route("/institutions/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str):
    inst = accounts.get_institution(slug)
    require(current_user, "credits.manage_scales", inst)
    locale = current_locale()
    current = services.settings_for(inst)
    system_list = list(db.session.scalars(services.list_credit_systems(institution=inst)))
    scale_list = list(db.session.scalars(services.list_scales(institution=inst)))
    form = SettingsForm()
    national = _("National default of the institution's country")
    form.credit_system.choices = options(
        [("", national)] + [(s.ref, s.name_in(locale)[0]) for s in system_list]
    )
    form.grade_scale.choices = options(
        [("", national)] + [(s.ref, s.name_in(locale)[0]) for s in scale_list]
    )
    if request.method == "GET":
        form.credit_system.data = "" if current.system_inherited else current.credit_system.ref
        form.grade_scale.data = "" if current.scale_inherited else current.grade_scale.ref
    status = 200
    if form.validate_on_submit():
        try:
            services.set_institution_settings(
                current_user,
                inst,
                credit_system=(
                    services.get_credit_system(form.credit_system.data)
                    if form.credit_system.data
                    else None
                ),
                grade_scale=(
                    services.get_scale(form.grade_scale.data) if form.grade_scale.data else None
                ),
            )
        except DomainError as exc:
            db.session.rollback()
            if isinstance(exc, ValidationError):
                show_errors(form, exc)
            else:
                flash(exc.message, "error")
            status = 422
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("credits.settings", slug=slug))
    return render_template(
        "credits/settings.html",
        inst=inst,
        form=form,
        current=current,
        can_edit=can(current_user, "credits.manage_scales", inst),
    ), status
