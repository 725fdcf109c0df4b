"""Transcripts: verifiable credentials — signing keys, DID documents, status lists,
the eddsa-jcs-2022 signature, the CLR 2.0 shape, verification, and issuance of transcripts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.transcripts import issuance, permissions, verify, views  # noqa: F401

    app.register_blueprint(views.bp)
    verify.register_superseded_check(issuance.is_superseded)
