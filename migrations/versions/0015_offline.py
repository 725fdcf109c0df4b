"""offline study: processed sync operations (a replayed batch is a no-op)

Revision ID: 0015_offline
Revises: 0014_privacy
Create Date: 2026-11-30

"""

from alembic import op
import sqlalchemy as sa

import lms.core.db


revision = "0015_offline"
down_revision = "0014_privacy"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sync_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason_slug", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('lesson.complete', 'quiz.answer', 'quiz.submit')",
            name=op.f("ck_sync_operations_kind_known"),
        ),
        sa.CheckConstraint(
            "outcome IN ('applied', 'rejected')", name=op.f("ck_sync_operations_outcome_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sync_operations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_operations")),
        sa.UniqueConstraint(
            "user_id", "operation_id", name=op.f("uq_sync_operations_user_id_operation_id")
        ),
    )
    with op.batch_alter_table("sync_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_operations_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("sync_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_operations_user_id"))
    op.drop_table("sync_operations")
