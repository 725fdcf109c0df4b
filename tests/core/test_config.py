import os
import stat

import pytest
from sqlalchemy import text

from lms import create_app


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    cfg = {"INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://"}
    first = create_app(dict(cfg)).config["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert key_file.read_text() == first and len(first) >= 40
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert create_app(dict(cfg)).config["SECRET_KEY"] == first


def test_environment_then_instance_file_then_argument(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("LMS_TOKEN_TTL_SECONDS", "120")
    monkeypatch.setenv("LMS_DEFAULT_LOCALE", "th")
    monkeypatch.setenv("LMS_SECURE_COOKIES", "true")
    (instance / "config.py").write_text('DEFAULT_LOCALE = "vi"\n')
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://"})
    assert app.config["TOKEN_TTL_SECONDS"] == 120  # env, typed
    assert app.config["SECURE_COOKIES"] is True
    assert app.config["DEFAULT_LOCALE"] == "vi"  # instance/config.py beats env
    app = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://", "DEFAULT_LOCALE": "km"}
    )
    assert app.config["DEFAULT_LOCALE"] == "km"


def test_default_database_is_sqlite_file_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'i' / 'lms.sqlite3'}"


def test_postgres_urls_use_psycopg3():
    app = create_app({"DATABASE_URL": "postgresql://u@h/db", "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


@pytest.mark.backend("sqlite")
def test_sqlite_runs_in_wal_with_foreign_keys(app, db_session):
    assert db_session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    mode = db_session.execute(text("PRAGMA journal_mode")).scalar()
    assert mode == "wal"
