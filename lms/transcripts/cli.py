"""``lms transcripts issue|revoke|verify`` for registrars and ``lms keys rotate``."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from lms.accounts import services as accounts
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.transcripts import issuance, pdf, untrusted, verify
from lms.transcripts import keys as keys_service

transcripts = AppGroup("transcripts", help="Verifiable transcripts.")
keys = AppGroup("keys", help="Institutions' signing keys.")


@transcripts.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def verify_file(path: str) -> None:
    """Verify a credential file; exit status 0 only when it is valid."""
    with open(path, "rb") as fh:
        raw = fh.read(untrusted.MAX_BYTES + 1)
    try:
        result = verify.verify_credential(
            untrusted.parse_untrusted(raw), resolver=verify.platform_resolver
        )
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.rollback()  # verification changes nothing
    click.echo(result["status"])
    for check in result["checks"]:
        mark = "ok" if check["ok"] else "FAIL"
        click.echo(f"  [{mark}] {check['check']}: {check['detail']}")
    if result["status"] != "valid":
        raise click.exceptions.Exit(1)


@transcripts.command("issue")
@click.option("--student", "email", required=True, help="The student's e-mail address.")
@click.option("--institution", "slug", help="Issuing institution (default: the student's).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, writable=True))
def issue(email: str, slug: str | None, out: str, pdf_path: str | None) -> None:
    """Issue (or re-issue) a student's transcript: the signed credential to FILE.json and,
    with --pdf, the printable transcript. A previous version becomes superseded."""
    try:
        student = accounts.find_user_by_email(email)
        if student is None:
            raise click.ClickException(f"no user with the e-mail address {email}")
        institution = (
            accounts.get_institution(slug) if slug else issuance.default_institution(student)
        )
        transcript = issuance.issue(None, student, institution)
        document = issuance.credential(transcript)
        printable = pdf.render(transcript) if pdf_path else None
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=2)
    if pdf_path and printable is not None:
        with open(pdf_path, "wb") as fh:
            fh.write(printable)
    click.echo(
        f"{transcript.public_id} v{transcript.version} "
        f"{issuance.format_code(transcript.verification_code)} {pdf.verification_url(transcript)}"
    )


@transcripts.command("revoke")
@click.argument("transcript_id")
@click.option("--reason", required=True, help="Why the transcript is withdrawn (audited).")
def revoke(transcript_id: str, reason: str) -> None:
    """Revoke a transcript by its id (as printed by ``issue``) or its verification code."""
    try:
        try:
            transcript = issuance.get(transcript_id)
        except DomainError:
            transcript = issuance.by_code(transcript_id)
        issuance.revoke(None, transcript, reason=reason)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{transcript.public_id} revoked")


@keys.command("rotate")
@click.option("--institution", "slug", required=True, help="Institution identifier.")
def rotate(slug: str) -> None:
    """Retire an institution's signing key and create a new one (old keys stay published,
    so the credentials they signed still verify)."""
    try:
        key = keys_service.rotate_key(None, accounts.get_institution(slug))
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{slug}: new signing key {key.fragment} {key.public_multikey}")
