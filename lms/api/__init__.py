"""The JSON API under ``/api/v1``: wires every domain's ``api.py`` into one flask-smorest
Api, whose OpenAPI 3.1 document is served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from flask import Flask
from marshmallow import fields

from lms.core.api import Api, authenticate_first
from lms.core.extensions import csrf

DESCRIPTION = """JSON API of the China–ASEAN Vocational Cloud LMS.

Authenticate with `POST /api/v1/auth/token` and send `Authorization: Bearer <token>`.
Errors are RFC 9457 `application/problem+json` with a translated `detail`; choose the
language with `?lang=` or `Accept-Language`. Lists are `{"items", "total", "page",
"per_page"}`; times are RFC 3339 UTC."""


def _blueprints():
    from lms.accounts import api as accounts_api
    from lms.analytics import api as analytics_api
    from lms.analytics import xapi_api
    from lms.assessment import api as assessment_api
    from lms.catalog import api as catalog_api
    from lms.credits import api as credits_api
    from lms.credits import recognition_api
    from lms.enrolment import api as enrolment_api
    from lms.live import api as live_api
    from lms.media import api as media_api
    from lms.offline import api as offline_api
    from lms.operations import api as operations_api
    from lms.transcripts import api as transcripts_api
    from lms.transcripts import issuance_api

    return [
        accounts_api.blp,
        media_api.blp,
        catalog_api.blp,
        enrolment_api.blp,
        assessment_api.blp,
        live_api.blp,
        transcripts_api.blp,
        credits_api.blp,
        recognition_api.blp,
        issuance_api.blp,
        xapi_api.blp,
        analytics_api.blp,
        operations_api.blp,
        offline_api.blp,
    ]


def _decimal_as_string(self, field, ret, **kwargs) -> dict:
    """A ``Decimal(as_string=True)`` travels as a JSON string ("2.5", exact), so the document
    says ``string``, not apispec's default ``number``."""
    if not (isinstance(field, fields.Decimal) and field.as_string):
        return {}
    kind = ret.get("type")
    if isinstance(kind, list):
        return {"type": ["string" if k == "number" else k for k in kind]}
    return {"type": "string"}


def init_app(app: Flask) -> None:
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/"}],
        },
    )
    api = Api(app)
    api.ma_plugin.converter.add_attribute_function(_decimal_as_string)
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "Token from POST /api/v1/auth/token"},
    )
    app.before_request(authenticate_first)
    for blp in _blueprints():
        api.register_blueprint(blp)
        csrf.exempt(blp)
