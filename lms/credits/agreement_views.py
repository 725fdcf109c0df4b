"""Pages of recognition agreements: an institution's agreements (both directions) with the
form that records a new one, and one agreement's page, where the receiving institution's
registrars change its validity, limits and course equivalences."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services as accounts
from lms.core.errors import ValidationError, field_error
from lms.core.extensions import db
from lms.core.forms import options, show_errors
from lms.core.security import can, require
from lms.credits import agreements
from lms.credits.forms import CONVERSION_LABELS, AgreementForm
from lms.credits.models import Agreement
from lms.credits.views import bp

VIEW = "credits.view_agreements"


@bp.route("/institutions/<slug>/agreements", methods=["GET", "POST"])
@login_required
def institution_agreements(slug: str):
    """Agreements the institution is a party to; its registrars record new ones under which
    it recognises a partner's credit."""
    institution = accounts.get_institution(slug)
    require(current_user, VIEW, institution)
    manage = can(current_user, agreements.MANAGE, institution)
    form = AgreementForm()
    form.partner.choices = options(
        [
            (i.slug, i.name_in(i.default_locale)[0])
            for i in db.session.scalars(accounts.list_institutions())
            if i.id != institution.id
        ]
    )
    if manage and form.validate_on_submit():
        try:
            created = agreements.create_agreement(
                current_user,
                institution,
                source=accounts.get_institution(form.partner.data),
                code=form.code.data or "",
                **_terms(form),
            )
        except ValidationError as exc:
            show_errors(form, _equivalence_errors(exc))
        else:
            flash(_("Agreement %(code)s recorded.", code=created.code), "success")
            return redirect(url_for("credits.agreement", code=created.code))
    return render_template(
        "credits/agreements.html",
        inst=institution,
        items=agreements.list_agreements(institution),
        form=form if manage else None,
        today=date.today(),
    )


@bp.route("/agreements/<code>", methods=["GET", "POST"])
@login_required
def agreement(code: str):
    """One agreement: its terms and equivalences; the receiving side edits them."""
    item = agreements.get_agreement(code)
    if not can(current_user, VIEW, item.source):
        require(current_user, VIEW, item.target)
    if request.method == "POST":  # only the receiving side changes an agreement
        require(current_user, agreements.MANAGE, item.target)
    manage = can(current_user, agreements.MANAGE, item.target)
    form = AgreementForm(data=None if request.method == "POST" else _form_data(item))
    del form.partner, form.code  # an agreement's parties and code are its identity
    if manage and form.validate_on_submit():
        try:
            agreements.update_agreement(current_user, item, **_terms(form))
        except ValidationError as exc:
            show_errors(form, _equivalence_errors(exc))
        else:
            flash(_("The agreement is saved."), "success")
            return redirect(url_for("credits.agreement", code=item.code))
    return render_template(
        "credits/agreement.html",
        a=item,
        form=form if manage else None,
        conversion_labels=CONVERSION_LABELS,
    )


def _terms(form: AgreementForm) -> dict[str, Any]:
    """The form's terms as the service takes them (dates parsed; a bad one is an error)."""
    errors = []
    dates = {}
    for name in ("valid_from", "valid_to"):
        raw = (getattr(form, name).data or "").strip()
        try:
            dates[name] = date.fromisoformat(raw)
        except ValueError:
            dates[name] = None
            errors.append(field_error(name, _("Enter a date.")))
    if errors:
        raise ValidationError(errors=[e for err in errors for e in err.errors])
    return {
        **dates,
        "max_credits": (form.max_credits.data or "").strip() or None,
        "min_percent": (form.min_percent.data or "").strip() or None,
        "conversion": form.conversion.data,
        "notes": form.notes.data or "",
        "equivalences": parse_equivalences(form.equivalences.data or ""),
    }


def parse_equivalences(text: str) -> list[dict[str, str]]:
    """``partner code; our code; our title`` per line (blank lines skipped)."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        parts += [""] * (3 - len(parts))
        rows.append(
            {"source_code": parts[0], "target_code": parts[1], "target_title": ";".join(parts[2:])}
        )
    return rows


def _equivalence_errors(exc: ValidationError) -> ValidationError:
    """Errors about ``equivalences.N.source_code`` belong to the text area, naming the line."""
    errors = []
    for err in exc.errors:
        field = err["field"] or ""
        if field.startswith("equivalences."):
            line = int(field.split(".")[1]) + 1
            message = _("Line %(line)s: %(message)s", line=line, message=err["message"])
            errors.append({"field": "equivalences", "message": message})
        else:
            errors.append(err)
    return ValidationError(exc.message, errors=errors)


def _form_data(item: Agreement) -> dict[str, Any]:
    return {
        "partner": item.source.slug,
        "code": item.code,
        "valid_from": item.valid_from.isoformat(),
        "valid_to": item.valid_to.isoformat(),
        "max_credits": "" if item.max_credits is None else str(item.max_credits),
        "min_percent": "" if item.min_percent is None else str(item.min_percent),
        "conversion": item.conversion,
        "notes": item.notes,
        "equivalences": "\n".join(
            "; ".join(p for p in (e.source_code, e.target_code, e.target_title))
            for e in item.equivalences
        ),
    }
