"""``lms credits seed`` and the demo data."""

from sqlalchemy import func, select

from lms.credits.models import CreditSystem, GradeScale


def test_seed_command_is_idempotent(runner, db_session):
    first = runner.invoke(args=["lms", "credits", "seed"])
    assert first.exit_code == 0, first.output
    assert "CN-100" in first.output and "PH-5" in first.output and "TL-CREDIT" in first.output
    second = runner.invoke(args=["lms", "credits", "seed"])
    assert second.exit_code == 0 and "none (all present)" in second.output
    assert db_session.scalar(select(func.count()).select_from(GradeScale)) == 12
    listing = runner.invoke(args=["lms", "credits", "list"])
    assert "PH-5\tlower_better\tpass 75.00" in listing.output


def test_demo_has_the_national_defaults(runner, db_session):
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(func.count()).select_from(GradeScale)) == 12
    assert db_session.scalar(select(func.count()).select_from(CreditSystem)) == 12
