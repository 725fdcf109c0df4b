"""The JSON API toolkit every domain's ``api.py`` uses: blueprints, bearer authentication,
the pagination envelope. Wiring (which blueprints, the OpenAPI document) is in ``lms.api``.

Validation and the OpenAPI document come from the same marshmallow schemas (flask-smorest),
so what the document says is what the server checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from lms.core.errors import NotAuthenticated
from lms.core.pagination import MAX_PAGE, MAX_PER_PAGE, Page

#: resolves a raw bearer token to a user or None; set by the accounts domain
token_resolver: Callable[[str], Any] = lambda raw: None  # noqa: E731

BEARER = [{"bearerAuth": []}]


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String()
    errors = fields.List(fields.Dict(keys=fields.String(), values=fields.String()))


class Api(_SmorestApi):
    """flask-smorest's Api without its app-wide error handler: errors are mapped in one
    place, ``lms.core.errors``, for pages and API alike."""

    def _register_error_handlers(self) -> None:
        return None


Api.ERROR_SCHEMA = ProblemSchema  # documented error body: RFC 9457 problem details


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    return Blueprint(name, import_name, url_prefix="/api/v1", description=description)


def bearer_user() -> Any:
    """The user of this API request's bearer token, or None. Session cookies never
    authenticate the API, so cross-site requests cannot ride on a browser's login."""
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        g.api_user = token_resolver(raw.strip()) if scheme.lower() == "bearer" else None
    return g.api_user


def auth_required(fn: Callable) -> Callable:
    """Refuse the request with 401 problem+json unless a valid bearer token came with it."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if bearer_user() is None:
            raise NotAuthenticated()
        return fn(*args, **kwargs)

    doc = getattr(wrapper, "_apidoc", {})
    doc.setdefault("manual_doc", {})["security"] = BEARER
    wrapper._apidoc = doc
    wrapper._lms_auth_required = True  # copied outwards by functools.wraps (see below)
    return wrapper


def authenticate_first() -> None:
    """``before_request`` hook: an endpoint marked ``auth_required`` refuses a request
    without a valid bearer token with 401 before anything else runs. The decorators
    outside it (flask-smorest's body and query parsing) would otherwise answer an
    anonymous caller with validation details first."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_lms_auth_required", False) and bearer_user() is None:
        raise NotAuthenticated()


class PageArgs(Schema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": f"Page number, from 1 to {MAX_PAGE}"},
    )
    per_page = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page, at most {MAX_PER_PAGE}"},
    )


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """The list envelope ``{"items", "total", "page", "per_page"}`` around ``item``."""
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        },
    )


def page_body(page: Page) -> dict[str, Any]:
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}
