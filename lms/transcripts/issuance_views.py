"""Pages of issued transcripts: a student's own transcripts with their downloads and the
link to share, and a registrar's register of the institution's transcripts, where they
issue, re-issue and revoke."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services as accounts
from lms.core.errors import DomainError, NotFound, ValidationError, field_error
from lms.core.forms import show_errors
from lms.core.pagination import paginate
from lms.core.security import can, require
from lms.transcripts import credential, issuance, pdf
from lms.transcripts.forms import IssueForm, ReissueForm, RevokeForm
from lms.transcripts.models import TRANSCRIPT_STATUSES, Transcript
from lms.transcripts.views import bp


@bp.get("/transcripts")
@login_required
def my_transcripts():
    """Every version of the signed-in student's transcripts, newest first per institution."""
    return render_template(
        "transcripts/mine.html", transcripts=issuance.transcripts_of(current_user)
    )


@bp.get("/transcripts/<public_id>")
@login_required
def transcript(public_id: str):
    """One transcript as it was signed, with its status, downloads and (for registrars)
    re-issue and revocation."""
    item = issuance.readable(current_user, issuance.get(public_id))
    registrar = _is_registrar(item)
    return render_template(
        "transcripts/transcript.html",
        t=item,
        summary=credential.summarise(issuance.credential(item)),
        verification_url=pdf.verification_url(item),
        code=issuance.format_code(item.verification_code),
        registrar=registrar,
        reissue_form=ReissueForm() if registrar else None,
        revoke_form=RevokeForm() if registrar and item.status != "revoked" else None,
    )


@bp.get("/transcripts/<public_id>/transcript.pdf")
@login_required
def transcript_pdf(public_id: str):
    """The printable transcript (bilingual, with a QR code leading to verification)."""
    item = issuance.readable(current_user, issuance.get(public_id))
    return _download(pdf.render(item), "application/pdf", item, "pdf")


@bp.get("/transcripts/<public_id>/credential.json")
@login_required
def transcript_credential(public_id: str):
    """The signed credential exactly as issued, to hand to a verifier or a wallet."""
    item = issuance.readable(current_user, issuance.get(public_id))
    return _download(item.signed_credential.encode(), "application/vc", item, "json")


@bp.route("/institutions/<slug>/transcripts", methods=["GET", "POST"])
@login_required
def institution_transcripts(slug: str):
    """The institution's register of transcripts (filter by student and status) and the
    form to issue one for a student (its registrars and administrators)."""
    institution = accounts.get_institution(slug)
    require(current_user, issuance.ISSUE, institution)
    form = IssueForm()
    if form.validate_on_submit():
        student = accounts.find_user_by_email(form.student.data)
        try:
            if student is None:
                raise field_error("student", _("No user with this e-mail address."))
            issued = issuance.issue(current_user, student, institution)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(_("Transcript version %(version)s issued.", version=issued.version), "success")
            return redirect(url_for("transcripts.transcript", public_id=issued.public_id))
    status = request.args.get("status", "")
    student_q = request.args.get("student", "")
    page = paginate(
        issuance.issued_by(institution, status=status, student=student_q),
        request.args.get("page", 1),
        50,
    )
    return render_template(
        "transcripts/register.html",
        inst=institution,
        form=form,
        page=page,
        status=status if status in TRANSCRIPT_STATUSES else "",
        student=student_q,
        statuses=TRANSCRIPT_STATUSES,
        format_code=issuance.format_code,
    )


@bp.post("/transcripts/<public_id>/reissue")
@login_required
def reissue(public_id: str):
    """Issue a new version from the student's current records; this one is superseded."""
    item = issuance.get(public_id)
    require(current_user, issuance.ISSUE, item.institution)
    form = ReissueForm()
    if form.validate_on_submit():
        issued = issuance.issue(current_user, item.student, item.institution)
        flash(_("Transcript version %(version)s issued.", version=issued.version), "success")
        return redirect(url_for("transcripts.transcript", public_id=issued.public_id))
    return redirect(url_for("transcripts.transcript", public_id=public_id))


@bp.post("/transcripts/<public_id>/revoke")
@login_required
def revoke(public_id: str):
    """Withdraw a transcript, with the reason on record."""
    item = issuance.get(public_id)
    require(current_user, "transcripts.revoke", item.institution)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            issuance.revoke(current_user, item, reason=form.reason.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The transcript is revoked."), "success")
    else:
        flash(_("Give a reason for revoking the transcript."), "error")
    return redirect(url_for("transcripts.transcript", public_id=public_id))


def _is_registrar(item: Transcript) -> bool:
    return can(current_user, issuance.ISSUE, item.institution)


def _download(body: bytes, mimetype: str, item: Transcript, ext: str) -> Response:
    if not body:
        raise NotFound()
    resp = Response(body, mimetype=mimetype)
    name = f"transcript-{item.public_id}-v{item.version}.{ext}"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
