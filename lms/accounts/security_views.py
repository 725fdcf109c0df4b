"""Pages for account security: forgotten password, the user's sessions and API tokens."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import reset, sessions
from lms.accounts.forms import ForgotPasswordForm, ResetPasswordForm
from lms.accounts.models import SESSION_KEY
from lms.accounts.throttle import reset_requests
from lms.accounts.views import bp
from lms.core.errors import ValidationError
from lms.core.extensions import db
from lms.core.forms import show_errors


@bp.route("/password/forgot", methods=["GET", "POST"])
@reset_requests
def forgot_password():
    """Ask for a reset link. The answer is the same whether or not the address has an
    account, so the form cannot be used to find out who is registered."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        reset.request_reset(form.email.data)
        return render_template("accounts/forgot_sent.html")
    status = 422 if form.errors else 200
    return render_template("accounts/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if reset.user_for_token(token) is None:
        return render_template("accounts/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset.reset_password(token, form.new_password.data)
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
            return render_template("accounts/reset.html", form=form), 422
        session.clear()  # whoever was signed in here, the new password starts afresh
        flash(_("Your password is set. Please sign in with it."), "success")
        return redirect(url_for("accounts.login"))
    status = 422 if form.errors else 200
    return render_template("accounts/reset.html", form=form), status


@bp.get("/profile/security")
@login_required
def security():
    """The user's own sign-in sessions and API tokens, each of which they can end."""
    key = session.get(SESSION_KEY)
    return render_template(
        "accounts/security.html",
        sessions=sessions.sessions_of(current_user),
        tokens=sessions.tokens_of(current_user),
        is_current=lambda row: sessions.is_current(row, key),
    )


@bp.post("/profile/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    sessions.end_user_session(current_user, session_id)
    flash(_("The session is ended."), "success")
    return redirect(url_for("accounts.security"))


@bp.post("/profile/sessions/end-others")
@login_required
def end_other_sessions():
    sessions.end_other_sessions(current_user, session.get(SESSION_KEY))
    flash(_("Your other sessions are ended."), "success")
    return redirect(url_for("accounts.security"))


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    sessions.revoke_user_token(current_user, token_id)
    flash(_("The token is revoked."), "success")
    return redirect(url_for("accounts.security"))


@bp.post("/profile/tokens/revoke-all")
@login_required
def revoke_all_tokens():
    sessions.revoke_all_tokens(current_user)
    flash(_("All your API tokens are revoked."), "success")
    return redirect(url_for("accounts.security"))
