"""Pages of the credit ledger and the recognition workflow: a student's ledger with the
request form, a registrar's queue of requests and the review page where they decide."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services as accounts
from lms.core.db import utcnow
from lms.core.errors import ValidationError
from lms.core.extensions import db
from lms.core.forms import options, show_errors
from lms.core.security import require
from lms.credits import ledger, recognition
from lms.credits.forms import RecognitionDecisionForm, RecognitionRequestForm
from lms.credits.views import bp


@bp.route("/ledger", methods=["GET", "POST"])
@login_required
def my_ledger():
    """The student's own records (every version) and the form to ask for recognition."""
    form = RecognitionRequestForm()
    form.target.choices = options(
        [
            (i.slug, i.name_in(i.default_locale)[0])
            for i in db.session.scalars(accounts.list_institutions())
        ]
    )
    standing = ledger.standing(current_user)
    if form.validate_on_submit():
        wanted = {int(v) for v in request.form.getlist("records") if v.isdigit()}
        records = [r for r in standing if r.id in wanted]
        try:
            recognition.submit(
                current_user,
                accounts.get_institution(form.target.data),
                records,
                message=form.message.data or "",
                now=utcnow(),
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(_("Your request for recognition was sent."), "success")
            return redirect(url_for("credits.my_ledger"))
    return render_template(
        "credits/ledger.html",
        form=form,
        records=ledger.history(current_user),
        standing={r.id for r in standing},
        requests=recognition.requests_of(current_user),
    )


@bp.get("/institutions/<slug>/recognition")
@login_required
def recognition_queue(slug: str):
    """Open recognition requests to the institution (its registrars and administrators)."""
    institution = accounts.get_institution(slug)
    require(current_user, recognition.DECIDE, institution)
    return render_template(
        "credits/recognition_queue.html", inst=institution, requests=recognition.queue(institution)
    )


@bp.route("/recognition/<int:request_id>", methods=["GET", "POST"])
@login_required
def recognition_review(request_id: int):
    """The source records with the agreement's suggestions, and the decision."""
    req = recognition.get_request(request_id)
    reviews = recognition.review(current_user, req)
    form = RecognitionDecisionForm()
    if form.validate_on_submit():
        approved = {int(v) for v in request.form.getlist("approve") if v.isdigit()}
        try:
            recognition.decide(
                current_user,
                req,
                {item.id: item.id in approved for item in req.items},
                reason=form.reason.data or "",
                now=utcnow(),
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(_("The decision was recorded and the student informed."), "success")
            return redirect(url_for("credits.recognition_queue", slug=req.target.slug))
    return render_template("credits/recognition_review.html", req=req, reviews=reviews, form=form)
