"""Accounts API: tokens, the current user, institutions and memberships."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms.accounts import services, sessions
from lms.accounts.models import INSTITUTION_KINDS
from lms.accounts.throttle import login_attempts
from lms.core.api import PageArgs, api_blueprint, auth_required, bearer_user, page_body, page_schema
from lms.core.errors import NotAuthenticated, field_error
from lms.core.i18n import LOCALES, current_locale
from lms.core.pagination import paginate
from lms.core.security import Role, require

blp = api_blueprint(
    "accounts_api", __name__, "Authentication, the current user, institutions and roles"
)


# ---------------------------------------------------------------------------- schemas


class TokenRequest(Schema):
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, validate=validate.Length(max=1024), load_only=True)


class TokenResponse(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds"})


class RoleSchema(Schema):
    id = fields.Integer(required=True)
    institution = fields.Function(lambda m: m.institution.slug, required=True)
    role = fields.String(required=True, metadata={"enum": [r.value for r in Role]})
    status = fields.String(required=True, metadata={"enum": ["active", "pending"]})


class MembershipSchema(RoleSchema):
    user_email = fields.Function(lambda m: m.user.email, required=True)


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    name_native = fields.String(required=True)
    name_latin = fields.String(required=True)
    country = fields.String(required=True)
    locale = fields.String(required=True)
    timezone = fields.String(required=True)
    is_platform_admin = fields.Boolean(required=True)
    memberships = fields.List(fields.Nested(RoleSchema), required=True)


class ProfilePatch(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    name_native = fields.String(validate=validate.Length(max=200))
    name_latin = fields.String(validate=validate.Length(max=200))
    country = fields.String(validate=validate.Length(max=2))
    locale = fields.String(validate=validate.OneOf(["", *LOCALES]))
    timezone = fields.String(validate=validate.Length(max=64))


class InstitutionSchema(Schema):
    slug = fields.String(required=True)
    name = fields.Method("_name", required=True)
    name_locale = fields.Method(
        "_name_locale", required=True, metadata={"description": "Locale of `name` actually served"}
    )
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    country = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(INSTITUTION_KINDS)})
    timezone = fields.String(required=True)
    default_locale = fields.String(required=True)
    website = fields.String(required=True)

    def _name(self, inst) -> str:
        return inst.name_in(current_locale())[0]

    def _name_locale(self, inst) -> str | None:
        return inst.name_in(current_locale())[1]


class InstitutionCreate(Schema):
    slug = fields.String(required=True, validate=validate.Length(min=1, max=64))
    names = fields.Dict(
        keys=fields.String(validate=validate.OneOf(LOCALES)),
        values=fields.String(validate=validate.Length(max=300)),
        required=True,
    )
    country = fields.String(required=True, validate=validate.Length(equal=2))
    kind = fields.String(required=True, validate=validate.OneOf(INSTITUTION_KINDS))
    timezone = fields.String(load_default="UTC", validate=validate.Length(max=64))
    default_locale = fields.String(load_default="en", validate=validate.OneOf(LOCALES))
    website = fields.String(load_default="", validate=validate.Length(max=300))


class MembershipCreate(Schema):
    email = fields.String(required=True, validate=validate.Length(max=320))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))


InstitutionPage = page_schema(InstitutionSchema, "InstitutionPage")
MembershipPage = page_schema(MembershipSchema, "MembershipPage")


# ---------------------------------------------------------------------------- endpoints


@blp.route("/auth/token", methods=["POST"])
@login_attempts
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
def create_token(body):
    """Exchange an e-mail and password for a bearer token."""
    user = services.authenticate(body["email"], body["password"])
    if user is None:
        raise NotAuthenticated(_("The e-mail address or password is not correct."))
    token, ttl = services.issue_token(user)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
@auth_required
def revoke_token():
    """Revoke the bearer token this request carries."""
    raw = request.headers["Authorization"].partition(" ")[2].strip()
    services.revoke_token(raw)


class TokenInfo(Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)


class TokenList(Schema):
    items = fields.List(fields.Nested(TokenInfo), required=True)


@blp.route("/auth/tokens", methods=["GET"])
@blp.response(200, TokenList)
@auth_required
def list_tokens():
    """Your usable API tokens (their values are never shown again)."""
    return {"items": sessions.tokens_of(bearer_user())}


@blp.route("/auth/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@auth_required
def revoke_token_by_id(token_id):
    """Revoke one of your API tokens (for example one left on a lost device)."""
    sessions.revoke_user_token(bearer_user(), token_id)


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@auth_required
def me():
    """The signed-in user, with their roles."""
    return bearer_user()


@blp.route("/me", methods=["PATCH"])
@blp.arguments(ProfilePatch)
@blp.response(200, UserSchema)
@auth_required
def update_me(body):
    """Change your own profile (names, country, language, time zone)."""
    user = bearer_user()
    return services.update_profile(user, user, **body)


@blp.route("/institutions", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, InstitutionPage)
def list_institutions(args):
    """All institutions on the platform (public)."""
    return page_body(paginate(services.list_institutions(), args["page"], args["per_page"]))


@blp.route("/institutions", methods=["POST"])
@blp.arguments(InstitutionCreate)
@blp.response(201, InstitutionSchema)
@auth_required
def create_institution(body):
    """Create an institution (platform administrators)."""
    return services.create_institution(bearer_user(), **body)


@blp.route("/institutions/<slug>", methods=["GET"])
@blp.response(200, InstitutionSchema)
def get_institution(slug):
    """One institution (public)."""
    return services.get_institution(slug)


@blp.route("/institutions/<slug>/memberships", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, MembershipPage)
@auth_required
def list_memberships(args, slug):
    """The people of an institution and their roles (its administrators and registrars)."""
    inst = services.get_institution(slug)
    require(bearer_user(), "institution.view_members", inst)
    return page_body(paginate(services.members(inst), args["page"], args["per_page"]))


@blp.route("/institutions/<slug>/memberships", methods=["POST"])
@blp.arguments(MembershipCreate)
@blp.response(201, MembershipSchema)
@auth_required
def grant_membership(body, slug):
    """Give an existing user a role at the institution (its administrators)."""
    inst = services.get_institution(slug)
    actor = bearer_user()
    require(actor, "institution.manage_members", inst)
    user = services.find_user_by_email(body["email"])
    if user is None:
        raise field_error("email", _("No account with this e-mail address."))
    return services.grant_role(actor, user, inst, body["role"])


@blp.route("/memberships/<int:membership_id>", methods=["DELETE"])
@blp.response(204)
@auth_required
def revoke_membership(membership_id):
    """Remove a role (the institution's administrators)."""
    membership = services.get_membership(membership_id)
    require(bearer_user(), "institution.manage_members", membership.institution)
    services.revoke_role(bearer_user(), membership)
