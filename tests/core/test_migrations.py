"""The schema changes only through migrations: after ``flask db upgrade`` the database and
the models agree exactly, on SQLite and on PostgreSQL (the ``app`` fixture runs both)."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from lms.core.audit import record
from lms.core.extensions import db
from lms.core.search import outside_models


def test_models_match_migration_head(app, db_session):
    conn = db_session.connection()
    opts = {
        "compare_type": True,
        "include_name": lambda name, type_, parents: not outside_models(name),
    }
    ctx = MigrationContext.configure(conn, opts=opts)
    diff = compare_metadata(ctx, db.metadata)
    assert diff == [], f"models and migrations disagree; run flask db migrate: {diff}"


def test_database_is_at_the_single_head(app, db_session):
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    heads = script.get_heads()
    assert len(heads) == 1, f"migration history has branched: {heads}"
    ctx = MigrationContext.configure(db_session.connection())
    assert ctx.get_current_heads() == tuple(heads)


@pytest.mark.backend("postgresql")
def test_audit_log_is_append_only_in_postgres(app, db_session):
    event = record(None, "test.event", "thing", 1)
    with pytest.raises(Exception, match="append-only"), db_session.begin_nested():
        db_session.execute(
            text("UPDATE audit_events SET action = 'x' WHERE id = :id"), {"id": event.id}
        )
