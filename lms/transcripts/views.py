"""Pages and public documents of the transcripts domain: the DID documents and status lists
verifiers fetch, the public verification page, and signing-key management."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from lms.accounts import services as accounts
from lms.core.errors import DomainError
from lms.core.extensions import csrf, limiter
from lms.core.security import require
from lms.transcripts import credential, did, issuance, keys, statuslist, untrusted, verify
from lms.transcripts.forms import RotateKeyForm, VerifyForm

bp = Blueprint("transcripts", __name__, template_folder="templates")


def _document(body: dict[str, Any], mimetype: str) -> Response:
    """A public JSON document, readable by browser-based verifiers on other sites."""
    resp = Response(json.dumps(body, ensure_ascii=False, indent=2), mimetype=mimetype)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/institutions/<slug>/did.json")
def did_document(slug: str):
    """The institution's DID document (did:web path resolution)."""
    institution = accounts.get_institution(slug)
    return _document(did.did_document(institution), "application/did+ld+json")


@bp.get("/institutions/<slug>/status/<list_id>")
def status_list(slug: str, list_id: str):
    """The signed BitstringStatusListCredential of one of the institution's lists."""
    return _document(
        statuslist.list_credential(statuslist.get_list(slug, list_id)), "application/vc"
    )


# ---------------------------------------------------------------------------- verification


def _verify_limit() -> str:
    return current_app.config["RATELIMIT_VERIFY"]


def _submitted_bytes(form: VerifyForm) -> bytes:
    upload = request.files.get(form.file.name)
    if upload is not None and upload.filename:
        return upload.stream.read(untrusted.MAX_BYTES + 1)
    pasted = form.credential.data or ""
    if not pasted.strip():
        raise untrusted.CredentialUnreadable(_("Paste a credential or choose its file."))
    return pasted.encode("utf-8", "surrogatepass")


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_verify_limit, methods=["POST"])
@csrf.exempt  # the form checks its own token, after the size limits below are in place
def verify_page():
    """Anyone can check a credential here, without signing in."""
    if request.method == "POST":
        request.max_content_length = untrusted.MAX_BYTES + 64 * 1024
        request.max_form_memory_size = untrusted.MAX_BYTES + 16 * 1024
    try:
        form = VerifyForm()
    except RequestEntityTooLarge:
        form = VerifyForm(formdata=None)
        return _verify_error(form, untrusted.too_large())
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("transcripts/verify.html", form=form, result=None), status
    try:
        document = untrusted.parse_untrusted(_submitted_bytes(form))
        result = verify.verify_credential(document, resolver=verify.platform_resolver)
    except (untrusted.CredentialTooLarge, untrusted.CredentialUnreadable) as exc:
        return _verify_error(form, exc)
    # What a credential says is shown only when its issuer's signature holds.
    signed = result["status"] in {"valid", "revoked", "superseded"}
    summary = credential.summarise(document) if signed else None
    return render_template("transcripts/verify.html", form=form, result=result, summary=summary)


@bp.get("/verify/code")
@bp.get("/verify/<code>")
@limiter.limit(_verify_limit)
def verify_code(code: str | None = None):
    """A printed code or the QR code of a transcript leads here: the stored credential is
    verified as any verifier would verify it (revoked and superseded ones say so)."""
    code = code or request.args.get("code", "")
    form = VerifyForm(formdata=None)
    if not code.strip():
        return render_template("transcripts/verify.html", form=form, result=None, code="")
    try:
        transcript = issuance.by_code(code)
    except DomainError as exc:
        return render_template(
            "transcripts/verify.html", form=form, result=None, error=exc.message, code=code
        ), exc.status
    document = issuance.credential(transcript)
    result = verify.verify_credential(document, resolver=verify.platform_resolver)
    signed = result["status"] in {"valid", "revoked", "superseded"}
    return render_template(
        "transcripts/verify.html",
        form=form,
        result=result,
        summary=credential.summarise(document) if signed else None,
        code=issuance.format_code(transcript.verification_code),
    )


def _verify_error(form: VerifyForm, exc: DomainError):
    return render_template(
        "transcripts/verify.html", form=form, result=None, error=exc.message
    ), exc.status


# ---------------------------------------------------------------------------- keys


@bp.route("/admin/institutions/<slug>/keys", methods=["GET", "POST"])
@login_required
def signing_keys(slug: str):
    """The institution's signing keys; rotating retires the active one (still published)."""
    institution = accounts.get_institution(slug)
    require(current_user, "transcripts.manage_keys", institution)
    form = RotateKeyForm()
    if form.validate_on_submit():
        key = keys.rotate_key(current_user, institution)
        flash(
            _("A new signing key %(key)s is active. Older keys stay published.", key=key.fragment),
            "success",
        )
        return redirect(url_for("transcripts.signing_keys", slug=slug))
    return render_template(
        "transcripts/keys.html",
        inst=institution,
        keys=did.issuer_keys(institution),
        did=did.did_for(institution),
        form=form,
    )
