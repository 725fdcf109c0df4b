"""Services: national defaults seeded from the packaged file, validation that locates every
problem and writes nothing, audit events, and each institution's settings."""

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.core.errors import NotFound, ValidationError
from lms.core.models import AuditEvent
from lms.credits import national, services
from lms.credits.models import CreditSystem, GradeBand, GradeScale
from tests.credits.conftest import FIVE_LEVEL, band_rows


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_seed_loads_china_and_every_asean_country_once(db_session):
    first = services.seed_national_defaults()
    assert len(first.scales_created) == 12 and len(first.systems_created) == 12
    countries = set(db_session.scalars(select(GradeScale.country)))
    assert countries == {"CN", "BN", "KH", "ID", "LA", "MM", "MY", "PH", "SG", "TH", "TL", "VN"}
    assert set(db_session.scalars(select(CreditSystem.country))) == countries
    again = services.seed_national_defaults()
    assert again.scales_created == [] and again.systems_created == []
    assert _count(db_session, GradeScale) == 12 and _count(db_session, CreditSystem) == 12
    events = db_session.scalars(select(AuditEvent).filter_by(action="grade_scale.created"))
    assert len(list(events)) == 12


def test_seeded_scales_read_back_exactly(seeded, db_session):
    """Stored as Numeric and read back as the same Decimals, on SQLite and PostgreSQL."""
    db_session.expire_all()
    for spec in national.national_scales():
        scale = services.scale_of(services.get_scale(spec.code))
        assert scale.direction == spec.direction and scale.pass_mark == spec.pass_mark
        assert [
            (b.label, b.min_percent, b.max_percent, b.points, b.passing) for b in scale.bands
        ] == [(b.label, b.min_percent, b.max_percent, b.points, b.passing) for b in spec.bands]
    ph = services.get_scale("PH-5")
    assert ph.direction == "lower_better" and ph.pass_mark == 75
    assert [b.label for b in ph.bands][:3] == ["1.00", "1.25", "1.50"]  # best first
    cn = services.get_scale("cn-100")
    assert cn.bands[0].names == {"zh_Hans": "优秀", "en": "Excellent"}
    assert services.get_credit_system("CN-CREDIT").hours_per_credit == 16


def test_the_package_carries_its_own_copy_of_the_data():
    packaged = Path(national.DATA_FILE)
    assert packaged.is_relative_to(Path(services.__file__).parent)
    data = json.loads(packaged.read_text(encoding="utf-8"))
    assert data["PH"]["direction"] == "lower_better" and data["CN"]["pass"] == 60


def test_registrar_creates_a_scale_for_their_institution(world, db_session):
    scale = services.create_scale(
        world["registrar"],
        world["gx"],
        code="gx-100",
        names={"en": "GX marks", "zh_Hans": "广西百分制"},
        direction="higher_better",
        pass_mark=60,
        bands=FIVE_LEVEL,
    )
    assert scale.ref == "gx:GX-100" and scale.country == "CN"
    assert [b.label for b in scale.bands] == ["A", "B", "C", "D", "F"]
    assert [b.passing for b in scale.bands] == [True, True, True, True, False]
    assert services.get_scale("gx:GX-100") is scale
    event = db_session.scalar(
        select(AuditEvent).filter_by(action="grade_scale.created", object_id=str(scale.id))
    )
    assert event.actor_id == world["registrar"].id
    assert event.after["pass_mark"] == "60.00" and len(event.after["bands"]) == 5
    # the same code may exist elsewhere, never twice for one owner
    with pytest.raises(ValidationError) as exc:
        services.create_scale(
            world["registrar"],
            world["gx"],
            code="GX-100",
            names={"en": "again"},
            direction="higher_better",
            pass_mark=60,
            bands=FIVE_LEVEL,
        )
    assert exc.value.errors[0]["field"] == "code"


@pytest.mark.parametrize(
    "bands, pass_mark, field",
    [
        # B (75-90) reaches down into C (70-80): located at B, the band that overlaps
        (
            band_rows(("A", 90, 100, 4), ("B", 75, 90, 3), ("C", 70, 80, 2), ("F", 0, 70, 0)),
            70,
            "bands.1.min_percent",
        ),
        # nothing covers 80-85
        (
            band_rows(("A", 85, 100, 4), ("B", 60, 80, 3), ("F", 0, 60, 0)),
            60,
            "bands.0.min_percent",
        ),
        # the top band stops at 99
        (band_rows(("A", 60, 99, 4), ("F", 0, 60, 0)), 60, "bands.0.max_percent"),
        # the lowest band starts at 10
        (band_rows(("A", 60, 100, 4), ("F", 10, 60, 0)), 60, "bands.1.min_percent"),
        # pass mark outside the bands, and inside a band
        (FIVE_LEVEL, 120, "pass_mark"),
        (FIVE_LEVEL, 65, "pass_mark"),
        (FIVE_LEVEL, "sixty", "pass_mark"),
        # more than two decimals, and points that get better as marks drop
        (band_rows(("A", "60.001", 100, 4), ("F", 0, "60.001", 0)), "60.001", "pass_mark"),
        (band_rows(("A", 60, 100, 1), ("F", 0, 60, 2)), 60, "bands.0.points"),
        ([], 60, "bands"),
    ],
)
def test_a_broken_scale_is_refused_with_located_errors_and_nothing_written(
    world, db_session, bands, pass_mark, field
):
    before = (
        _count(db_session, GradeScale),
        _count(db_session, GradeBand),
        _count(db_session, AuditEvent),
    )
    with pytest.raises(ValidationError) as exc:
        services.create_scale(
            world["registrar"],
            world["gx"],
            code="BROKEN",
            names={"en": "Broken"},
            direction="higher_better",
            pass_mark=pass_mark,
            bands=bands,
        )
    fields = [e["field"] for e in exc.value.errors]
    assert field in fields, exc.value.errors
    assert all(e["message"] for e in exc.value.errors)
    after = (
        _count(db_session, GradeScale),
        _count(db_session, GradeBand),
        _count(db_session, AuditEvent),
    )
    assert before == after


def test_errors_are_translated(world, app, db_session):
    with app.test_request_context("/?lang=vi"), pytest.raises(ValidationError) as vi:
        services.create_scale(
            world["registrar"],
            world["gx"],
            code="X",
            names={"en": "X"},
            direction="higher_better",
            pass_mark=65,
            bands=FIVE_LEVEL,
        )
    with app.test_request_context("/?lang=en"), pytest.raises(ValidationError) as en:
        services.create_scale(
            world["registrar"],
            world["gx"],
            code="X",
            names={"en": "X"},
            direction="higher_better",
            pass_mark=65,
            bands=FIVE_LEVEL,
        )
    assert en.value.errors[0]["message"].startswith("The pass mark must be where a band starts")
    assert vi.value.errors[0]["field"] == "pass_mark"


def test_update_replaces_bands_and_audits_before_and_after(world, db_session):
    scale = services.create_scale(
        world["registrar"],
        world["gx"],
        code="GX",
        names={"en": "GX"},
        direction="higher_better",
        pass_mark=60,
        bands=FIVE_LEVEL,
    )
    services.update_scale(
        world["admin"],
        scale,
        pass_mark=50,
        bands=band_rows(("P", 50, 100, 1), ("F", 0, 50, 0)),
    )
    db_session.expire_all()
    assert [(b.label, b.min_percent, b.passing) for b in scale.bands] == [
        ("P", 50, True),
        ("F", 0, False),
    ]
    event = db_session.scalar(select(AuditEvent).filter_by(action="grade_scale.updated"))
    assert event.before["pass_mark"] == "60.00" and event.after["pass_mark"] == "50.00"
    assert len(event.before["bands"]) == 5 and len(event.after["bands"]) == 2
    # a broken update changes nothing
    with pytest.raises(ValidationError):
        services.update_scale(world["registrar"], scale, pass_mark=70)
    db_session.expire_all()
    assert scale.pass_mark == 50 and len(scale.bands) == 2


def test_credit_systems_validate_and_convert(world, db_session):
    system = services.create_credit_system(
        world["registrar"],
        world["gx"],
        code="GX-CREDIT",
        names={"zh_Hans": "学分"},
        hours_per_credit=18,
        rounding_step="0.5",
        rounding_mode="half_up",
    )
    assert services.credits_for_hours(system, 54) == 3
    assert services.convert_credits(services.get_credit_system("CN-CREDIT"), system, 3) == D(
        "2.5"
    )  # 48 h at 18 h per credit = 2.67
    with pytest.raises(ValidationError) as exc:
        services.create_credit_system(
            world["registrar"],
            world["gx"],
            code="bad code!",
            names={},
            hours_per_credit=0,
            rounding_step="0.3",
            rounding_mode="sideways",
        )
    fields = {e["field"] for e in exc.value.errors}
    assert {"code", "names", "hours_per_credit", "rounding_step"} <= fields


def test_settings_fall_back_to_the_national_default(world, db_session):
    gx = services.settings_for(world["gx"])
    assert gx.grade_scale.code == "CN-100" and gx.credit_system.code == "CN-CREDIT"
    assert gx.scale_inherited and gx.system_inherited
    ph = services.settings_for(world["ph"])
    assert ph.grade_scale.code == "PH-5" and ph.credit_system.hours_per_credit == 18
    own = services.create_scale(
        world["registrar"],
        world["gx"],
        code="GX",
        names={"en": "GX"},
        direction="higher_better",
        pass_mark=60,
        bands=FIVE_LEVEL,
    )
    services.set_institution_settings(
        world["registrar"], world["gx"], credit_system=None, grade_scale=own
    )
    chosen = services.settings_for(world["gx"])
    assert chosen.grade_scale is own and not chosen.scale_inherited
    assert chosen.credit_system.code == "CN-CREDIT" and chosen.system_inherited
    event = db_session.scalar(select(AuditEvent).filter_by(action="credit_settings.changed"))
    assert event.after == {"credit_system": None, "grade_scale": "gx:GX"}
    # another institution's scale cannot be chosen
    with pytest.raises(ValidationError) as exc:
        services.set_institution_settings(
            world["ph_registrar"], world["ph"], credit_system=None, grade_scale=own
        )
    assert exc.value.errors[0]["field"] == "grade_scale"


def test_unknown_refs_are_not_found(seeded):
    for ref in ("XX-1", "gx:CN-100", "nope:nothing", ""):
        with pytest.raises(NotFound):
            services.get_scale(ref)
    with pytest.raises(NotFound):
        services.get_credit_system("CN-100")


def test_conversion_service_reports_bad_input_on_the_field(seeded):
    cn, ph = services.get_scale("CN-100"), services.get_scale("PH-5")
    for kwargs, field in (
        ({"percent": 101}, "percent"),
        ({"grade": "Z"}, "grade"),
        ({}, "percent"),
        ({"percent": 50, "grade": "A"}, "percent"),
    ):
        with pytest.raises(ValidationError) as exc:
            services.convert_grade(cn, ph, **kwargs)
        assert exc.value.errors[0]["field"] == field


def test_the_database_keeps_national_codes_unique(seeded, db_session):
    """Behind the service's check: a partial unique index, since NULL owners never collide
    in a plain unique constraint (SQLite and PostgreSQL alike)."""
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            CreditSystem(code="CN-CREDIT", names={"en": "x"}, country="CN", hours_per_credit=1)
        )
        db_session.flush()
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            GradeBand(
                scale=services.get_scale("TH-4"),
                position=99,
                label="Z",
                min_percent=50,
                max_percent=40,
                points=0,
                passing=False,
            )
        )
        db_session.flush()
