"""Transcripts: verifiable credentials — signing keys, DID documents, status lists,
the eddsa-jcs-2022 signature, the CLR 2.0 shape, verification, and issuance of transcripts."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.core.web import InstitutionLink, NavLink, add_institution_link, add_nav_link


def init_app(app: Flask) -> None:
    from lms.transcripts import issuance, issuance_views, permissions, verify, views  # noqa: F401

    app.register_blueprint(views.bp)
    verify.register_superseded_check(issuance.is_superseded)
    add_nav_link(NavLink("transcripts.my_transcripts", _l("My transcripts"), None, 35))
    add_institution_link(
        InstitutionLink(
            "transcripts.institution_transcripts", _l("Transcripts"), issuance.ISSUE, 10
        )
    )
    add_institution_link(
        InstitutionLink(
            "transcripts.signing_keys", _l("Signing keys"), "transcripts.manage_keys", 30
        )
    )
