"""Transcripts API: public verification of credentials."""

from __future__ import annotations

from flask import current_app, request
from marshmallow import INCLUDE, Schema, fields

from lms.core import inputs
from lms.core.api import api_blueprint
from lms.core.extensions import limiter
from lms.transcripts import untrusted, verify

blp = api_blueprint(
    "transcripts_api", __name__, "Verifiable transcripts: verification of credentials"
)


class CheckSchema(Schema):
    check = fields.String(
        required=True,
        metadata={
            "description": "What was checked",
            "enum": [
                "format",
                "embedded_keys",
                "proof",
                "key",
                "signature",
                "embedded_credentials",
                "status",
                "status_list",
                "revocation",
                "superseded",
                "validity_period",
            ],
        },
    )
    ok = fields.Boolean(required=True)
    detail = fields.String(required=True, metadata={"description": "Translated explanation"})


class VerificationSchema(Schema):
    status = fields.String(required=True, metadata={"enum": list(verify.STATUSES)})
    checks = fields.List(fields.Nested(CheckSchema), required=True)


class CredentialSchema(Schema):
    """A W3C Verifiable Credential 2.0 secured with an ``eddsa-jcs-2022`` proof, exactly as
    issued (any other members are kept: they are part of what was signed)."""

    class Meta:
        unknown = INCLUDE

    context = fields.List(fields.Raw(), data_key="@context", required=True)
    id = fields.String()
    type = fields.Raw(required=True)
    issuer = fields.Raw(required=True)
    validFrom = fields.String()
    credentialSubject = fields.Raw(required=True)
    credentialStatus = fields.Raw()
    proof = fields.Dict(required=True)


def _verify_limit() -> str:
    return current_app.config["RATELIMIT_VERIFY"]


@blp.route("/credentials/verify", methods=["POST"])
@inputs.reads_own_body  # untrusted.parse_untrusted is stricter, with its own problem types
@limiter.limit(_verify_limit)
@blp.doc(
    requestBody={
        "required": True,
        "description": f"The credential as JSON, at most {untrusted.MAX_BYTES // 1024} KiB.",
        "content": {"application/json": {"schema": CredentialSchema}},
    }
)
@blp.response(200, VerificationSchema)
def verify_credential():
    """Verify a credential (public, no sign-in).

    `status` is `valid`, `revoked`, `superseded`, `tampered` or `unknown_issuer`; `checks`
    says what was checked. The issuer's key is taken from its DID document on this platform,
    never from the credential. A body that is not a JSON object, too large (413), too deeply
    nested or not UTF-8 is answered with problem details."""
    length = request.content_length
    if length is not None and length > untrusted.MAX_BYTES:
        raise untrusted.too_large()
    document = untrusted.parse_untrusted(request.stream.read(untrusted.MAX_BYTES + 1))
    return verify.verify_credential(document, resolver=verify.platform_resolver)
