"""xAPI statements and learners' xAPI pseudonyms

Revision ID: 0012_xapi
Revises: 0011_search_index
Create Date: 2026-12-01

"""

from alembic import op
import sqlalchemy as sa

import lms.core.db


revision = "0012_xapi"
down_revision = "0011_search_index"
branch_labels = None
depends_on = None

VERBS = (
    "registered",
    "launched",
    "progressed",
    "completed",
    "attempted",
    "passed",
    "failed",
    "attended",
)


def upgrade():
    op.create_table(
        "xapi_actors",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=36), nullable=False),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_xapi_actors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_xapi_actors")),
        sa.UniqueConstraint("name", name=op.f("uq_xapi_actors_name")),
    )
    op.create_table(
        "xapi_statements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("verb", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("timestamp", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stored", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("forwarded_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("forward_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "verb IN (" + ", ".join(f"'{v}'" for v in VERBS) + ")",
            name=op.f("ck_xapi_statements_verb_known"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_xapi_statements_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_xapi_statements_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_statements")),
    )
    with op.batch_alter_table("xapi_statements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_xapi_statements_course_stored", ["course_id", "stored"], unique=False
        )
        batch_op.create_index(
            "ix_xapi_statements_pending", ["forwarded_at", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_xapi_statements_stored", ["stored", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_xapi_statements_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("xapi_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_xapi_statements_user_id"))
        batch_op.drop_index("ix_xapi_statements_stored")
        batch_op.drop_index("ix_xapi_statements_pending")
        batch_op.drop_index("ix_xapi_statements_course_stored")
    op.drop_table("xapi_statements")
    op.drop_table("xapi_actors")
