"""Credits API: grade scales, their conversion, and credit systems.

Scales and systems are addressed by ``ref``: the code of a national default (``PH-5``) or
``institution-slug:CODE`` for an institution's own. Decimals travel as strings with two
places (``"85.00"``); they are accepted as JSON numbers or strings."""

from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms.accounts import services as accounts
from lms.core.api import PageArgs, api_blueprint, auth_required, bearer_user, page_body, page_schema
from lms.core.errors import ValidationError
from lms.core.i18n import LOCALES, current_locale
from lms.core.pagination import paginate
from lms.credits import services
from lms.credits.models import DIRECTIONS, ROUNDING_MODES
from lms.credits.validation import ROUNDING_STEPS

blp = api_blueprint(
    "credits_api", __name__, "Grade scales, grade conversion between scales, credit systems"
)


def _dec(**kw) -> fields.Decimal:
    return fields.Decimal(places=2, as_string=True, **kw)


def _in_dec(**kw) -> fields.Decimal:
    return fields.Decimal(allow_nan=False, **kw)


def _names(**kw) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(LOCALES)),
        values=fields.String(validate=validate.Length(max=200)),
        **kw,
    )


class _Localised(Schema):
    name = fields.Method("_name", required=True)
    name_locale = fields.Method(
        "_name_locale", metadata={"description": "Locale of `name` actually served"}
    )

    def _name(self, obj) -> str:
        return obj.name_in(current_locale())[0]

    def _name_locale(self, obj) -> str | None:
        return obj.name_in(current_locale())[1]


class BandSchema(_Localised):
    label = fields.String(required=True)
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    min_percent = _dec(required=True, metadata={"description": "Lowest percentage, included"})
    max_percent = _dec(
        required=True,
        metadata={"description": "Upper bound, excluded (included when it is 100)"},
    )
    points = _dec(required=True)
    passing = fields.Boolean(required=True)


class GradeScaleSchema(_Localised):
    ref = fields.String(required=True, metadata={"description": "How to address this scale"})
    code = fields.String(required=True)
    institution = fields.Function(
        lambda s: s.institution.slug if s.institution else None,
        allow_none=True,
        metadata={"description": "Owner institution; null for a national default"},
    )
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    country = fields.String(required=True)
    direction = fields.String(required=True, metadata={"enum": list(DIRECTIONS)})
    pass_mark = _dec(required=True, metadata={"description": "Lowest passing percentage"})
    notes = fields.String(required=True)
    bands = fields.List(
        fields.Nested(BandSchema), required=True, metadata={"description": "Best first"}
    )


class BandInput(Schema):
    label = fields.String(required=True, validate=validate.Length(max=16))
    min_percent = _in_dec(required=True)
    max_percent = _in_dec(required=True)
    points = _in_dec(required=True)
    passing = fields.Boolean(
        metadata={"description": "Optional; follows from the pass mark when left out"}
    )
    names = _names()


class GradeScaleUpdate(Schema):
    names = _names()
    country = fields.String(validate=validate.Length(equal=2))
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    pass_mark = _in_dec()
    bands = fields.List(fields.Nested(BandInput), validate=validate.Length(max=40))
    notes = fields.String(validate=validate.Length(max=1000))


class GradeScaleCreate(GradeScaleUpdate):
    institution = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "Owner institution's slug; null for a national default"},
    )
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    names = _names(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    pass_mark = _in_dec(required=True)
    bands = fields.List(fields.Nested(BandInput), required=True, validate=validate.Length(max=40))


class ListArgs(PageArgs):
    country = fields.String(validate=validate.Length(equal=2))
    institution = fields.String(
        metadata={"description": "Slug: that institution's own and the national defaults"}
    )


class ConvertRequest(Schema):
    source = fields.String(required=True, data_key="from", metadata={"description": "Scale ref"})
    target = fields.String(required=True, data_key="to", metadata={"description": "Scale ref"})
    percent = _in_dec(metadata={"description": "A percentage, 0-100 (give this or `grade`)"})
    grade = fields.String(
        validate=validate.Length(max=16),
        metadata={"description": "A grade label of the `from` scale (give this or `percent`)"},
    )


class GradeResult(Schema):
    scale = fields.String(required=True)
    grade = fields.String(required=True)
    points = _dec(required=True)
    passing = fields.Boolean(required=True)
    min_percent = _dec(required=True)
    max_percent = _dec(required=True)


class ConvertResponse(Schema):
    source = fields.Nested(GradeResult, required=True, data_key="from")
    target = fields.Nested(GradeResult, required=True, data_key="to")
    percent = _dec(
        required=True,
        metadata={"description": "The percentage converted (a grade's is its band's midpoint)"},
    )
    passing = fields.Boolean(required=True)
    adjusted = fields.Boolean(
        required=True,
        metadata={"description": "True when the grade was moved to keep pass or fail"},
    )
    possible_grades = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Grades of `to` the `from` band overlaps (same result)"},
    )


class CreditSystemSchema(_Localised):
    ref = fields.String(required=True)
    code = fields.String(required=True)
    institution = fields.Function(
        lambda s: s.institution.slug if s.institution else None, allow_none=True
    )
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    country = fields.String(required=True)
    hours_per_credit = _dec(required=True)
    rounding_step = _dec(required=True)
    rounding_mode = fields.String(required=True, metadata={"enum": list(ROUNDING_MODES)})
    notes = fields.String(required=True)


class CreditSystemUpdate(Schema):
    names = _names()
    country = fields.String(validate=validate.Length(equal=2))
    hours_per_credit = _in_dec()
    rounding_step = fields.String(validate=validate.OneOf(ROUNDING_STEPS))
    rounding_mode = fields.String(validate=validate.OneOf(ROUNDING_MODES))
    notes = fields.String(validate=validate.Length(max=1000))


class CreditSystemCreate(CreditSystemUpdate):
    institution = fields.String(load_default=None, allow_none=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    names = _names(required=True)
    hours_per_credit = _in_dec(required=True)


class CreditConvertRequest(Schema):
    source = fields.String(
        data_key="from", metadata={"description": "System ref the credits are in"}
    )
    target = fields.String(required=True, data_key="to")
    hours = _in_dec(metadata={"description": "Hours of learning (give this or `credits`)"})
    credits = _in_dec(metadata={"description": "Credits of `from` (give this or `hours`)"})


class CreditConvertResponse(Schema):
    target = fields.String(required=True, data_key="to")
    hours = _dec(required=True, metadata={"description": "Notional hours"})
    credits = _dec(required=True, metadata={"description": "Credits in `to`, rounded by its rule"})


GradeScalePage = page_schema(GradeScaleSchema, "GradeScalePage")
CreditSystemPage = page_schema(CreditSystemSchema, "CreditSystemPage")


def _owner(slug: str | None):
    return accounts.get_institution(slug) if slug else None


# ---------------------------------------------------------------------------- grade scales


@blp.route("/grade-scales", methods=["GET"])
@blp.arguments(ListArgs, location="query")
@blp.response(200, GradeScalePage)
def list_grade_scales(args):
    """Grade scales: national defaults first, then institutions' own (public)."""
    stmt = services.list_scales(
        country=args.get("country"), institution=_owner(args.get("institution"))
    )
    return page_body(paginate(stmt, args["page"], args["per_page"]))


@blp.route("/grade-scales", methods=["POST"])
@blp.arguments(GradeScaleCreate)
@blp.response(201, GradeScaleSchema)
@auth_required
def create_grade_scale(body):
    """Create a grade scale for an institution (its registrars and administrators) or a
    national default (platform administrators)."""
    owner = _owner(body.pop("institution", None))
    return services.create_scale(bearer_user(), owner, **body)


@blp.route("/grade-scales/<ref>", methods=["GET"])
@blp.response(200, GradeScaleSchema)
def get_grade_scale(ref):
    """One grade scale with its bands, best first (public)."""
    return services.get_scale(ref)


@blp.route("/grade-scales/<ref>", methods=["PATCH"])
@blp.arguments(GradeScaleUpdate)
@blp.response(200, GradeScaleSchema)
@auth_required
def update_grade_scale(body, ref):
    """Change a grade scale; `bands`, when given, replaces all bands (the owner's
    registrars and administrators)."""
    return services.update_scale(bearer_user(), services.get_scale(ref), **body)


@blp.route("/grade-scales/convert", methods=["POST"])
@blp.arguments(ConvertRequest)
@blp.response(200, ConvertResponse)
def convert_grade(body):
    """Convert a percentage or a grade from one scale to another, through the percentage.
    A pass never becomes a fail nor a fail a pass: when the percentage falls on the other
    side of the target's pass mark, the nearest grade that keeps the result is given and
    `adjusted` is true (public)."""
    source = services.get_scale(body["source"])
    target = services.get_scale(body["target"])
    conv = services.convert_grade(
        source, target, percent=body.get("percent"), grade=body.get("grade")
    )

    def result(scale, band):
        return {
            "scale": scale.ref,
            "grade": band.label,
            "points": band.points,
            "passing": band.passing,
            "min_percent": band.min_percent,
            "max_percent": band.max_percent,
        }

    return {
        "source": result(source, conv.source),
        "target": result(target, conv.target),
        "percent": conv.percent,
        "passing": conv.passing,
        "adjusted": conv.adjusted,
        "possible_grades": [b.label for b in conv.possible],
    }


# ---------------------------------------------------------------------------- credit systems


@blp.route("/credit-systems", methods=["GET"])
@blp.arguments(ListArgs, location="query")
@blp.response(200, CreditSystemPage)
def list_credit_systems(args):
    """Credit systems: national defaults first, then institutions' own (public)."""
    stmt = services.list_credit_systems(
        country=args.get("country"), institution=_owner(args.get("institution"))
    )
    return page_body(paginate(stmt, args["page"], args["per_page"]))


@blp.route("/credit-systems", methods=["POST"])
@blp.arguments(CreditSystemCreate)
@blp.response(201, CreditSystemSchema)
@auth_required
def create_credit_system(body):
    """Create a credit system for an institution (its registrars and administrators) or a
    national default (platform administrators)."""
    owner = _owner(body.pop("institution", None))
    return services.create_credit_system(bearer_user(), owner, **body)


@blp.route("/credit-systems/<ref>", methods=["GET"])
@blp.response(200, CreditSystemSchema)
def get_credit_system(ref):
    """One credit system (public)."""
    return services.get_credit_system(ref)


@blp.route("/credit-systems/<ref>", methods=["PATCH"])
@blp.arguments(CreditSystemUpdate)
@blp.response(200, CreditSystemSchema)
@auth_required
def update_credit_system(body, ref):
    """Change a credit system (the owner's registrars and administrators)."""
    return services.update_credit_system(bearer_user(), services.get_credit_system(ref), **body)


@blp.route("/credit-systems/convert", methods=["POST"])
@blp.arguments(CreditConvertRequest)
@blp.response(200, CreditConvertResponse)
def convert_credits(body):
    """Credits for hours of learning in the `to` system, or credits of `from` in `to`
    (through notional hours), rounded by the `to` system's rule (public)."""
    target = services.get_credit_system(body["target"])
    hours, credits = body.get("hours"), body.get("credits")
    if (hours is None) == (credits is None) or (credits is not None and not body.get("source")):
        message = _("Give either hours, or credits with the system they are in.")
        raise ValidationError(message, errors=[{"field": "hours", "message": message}])
    if hours is None:
        source = services.get_credit_system(body["source"])
        hours = services.hours_for_credits(source, credits)
    return {
        "target": target.ref,
        "hours": hours,
        "credits": services.credits_for_hours(target, hours),
    }
