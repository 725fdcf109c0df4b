"""Transcripts: verifiable credentials — signing keys, DID documents, status lists,
the eddsa-jcs-2022 signature, the CLR 2.0 shape and verification. Issuance comes later."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.transcripts import permissions, views  # noqa: F401  (rules register)

    app.register_blueprint(views.bp)
