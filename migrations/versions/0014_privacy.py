"""privacy and operations: audit log append-only on SQLite too, outbox delivery claims,
pseudonymised accounts

Revision ID: 0014_privacy
Revises: 0013_security
Create Date: 2026-11-30

"""

from alembic import op
import sqlalchemy as sa

import lms.core.db

revision = "0014_privacy"
down_revision = "0013_security"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_until", lms.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erased_at", lms.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    if op.get_bind().dialect.name == "sqlite":
        # PostgreSQL has had its trigger since 0001; SQLite refuses changes the same way.
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
