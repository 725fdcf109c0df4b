from sqlalchemy import func, select

from lms.accounts.models import Institution, User


def test_users_and_institutions_create(runner, db_session):
    result = runner.invoke(
        args=[
            "lms",
            "institutions",
            "create",
            "--slug",
            "gx-poly",
            "--name",
            "en=Guangxi Polytechnic",
            "--name",
            "zh_Hans=广西理工",
            "--country",
            "CN",
            "--kind",
            "vocational_college",
            "--timezone",
            "Asia/Shanghai",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "lms",
            "users",
            "create",
            "--email",
            "t@example.org",
            "--password",
            "long-enough-pass",
            "--name",
            "Teacher",
            "--role",
            "teacher",
            "--institution",
            "gx-poly",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalar(select(User).filter_by(email="t@example.org"))
    inst = db_session.scalar(select(Institution).filter_by(slug="gx-poly"))
    assert user.has_role(inst.id, "teacher")


def test_cli_reports_bad_input_and_writes_nothing(runner, db_session):
    result = runner.invoke(
        args=["lms", "users", "create", "--email", "bad", "--password", "x", "--name", "N"]
    )
    assert result.exit_code != 0
    assert "email" in result.output and "password" in result.output
    assert db_session.scalar(select(func.count()).select_from(User)) == 0


def test_admin_without_institution_is_platform_admin(runner, db_session):
    result = runner.invoke(
        args=[
            "lms",
            "users",
            "create",
            "--email",
            "root@example.org",
            "--password",
            "long-enough-pass",
            "--name",
            "Root",
            "--role",
            "admin",
        ]
    )
    assert result.exit_code == 0
    assert db_session.scalar(select(User).filter_by(email="root@example.org")).is_platform_admin


def test_demo_is_idempotent_and_prints_logins(runner, db_session):
    first = runner.invoke(args=["lms", "demo"])
    assert first.exit_code == 0, first.output
    counts = (
        db_session.scalar(select(func.count()).select_from(User)),
        db_session.scalar(select(func.count()).select_from(Institution)),
    )
    second = runner.invoke(args=["lms", "demo"])
    assert second.exit_code == 0
    assert counts == (
        db_session.scalar(select(func.count()).select_from(User)),
        db_session.scalar(select(func.count()).select_from(Institution)),
    )
    countries = set(db_session.scalars(select(Institution.country)))
    assert len(countries - {"CN"}) >= 6
    for role in ("student", "teacher", "registrar", "admin"):
        assert role in first.output
    assert "demo-password" in first.output
