"""catalogue listing index: published courses newest first without sorting them all

Revision ID: 0010_catalogue_index
Revises: 0009_ledger_transcripts
Create Date: 2026-11-30

"""

from alembic import op

revision = "0010_catalogue_index"
down_revision = "0009_ledger_transcripts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_courses_catalogue", ["status", "published_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index("ix_courses_catalogue")
