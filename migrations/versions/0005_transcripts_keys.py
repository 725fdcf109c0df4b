"""transcripts: issuer signing keys, status lists and their entries

Revision ID: 0005_transcripts_keys
Revises: 0004_credits
Create Date: 2026-12-01

"""

from alembic import op
import sqlalchemy as sa

import lms.core.db


# revision identifiers, used by Alembic.
revision = "0005_transcripts_keys"
down_revision = "0004_credits"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "issuer_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("fragment", sa.String(length=64), nullable=False),
        sa.Column("public_multikey", sa.String(length=64), nullable=False),
        sa.Column("private_key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_issuer_keys_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_keys")),
        sa.UniqueConstraint(
            "institution_id", "fragment", name=op.f("uq_issuer_keys_institution_id_fragment")
        ),
        sa.UniqueConstraint("public_multikey", name=op.f("uq_issuer_keys_public_multikey")),
    )
    with op.batch_alter_table("issuer_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issuer_keys_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            "uq_issuer_keys_one_active",
            ["institution_id"],
            unique=True,
            sqlite_where=sa.text("retired_at IS NULL"),
            postgresql_where=sa.text("retired_at IS NULL"),
        )

    op.create_table(
        "status_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("signed_credential", sa.Text(), nullable=False),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("purpose IN ('revocation')", name=op.f("ck_status_lists_purpose_known")),
        sa.CheckConstraint("size >= 131072", name=op.f("ck_status_lists_size_min")),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_status_lists_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
        sa.UniqueConstraint("public_id", name=op.f("uq_status_lists_public_id")),
    )
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_lists_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "status_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status_list_id", sa.Integer(), nullable=False),
        sa.Column("bit_index", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=200), nullable=False),
        sa.Column("allocated_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("set_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("bit_index >= 0", name=op.f("ck_status_list_entries_index_positive")),
        sa.ForeignKeyConstraint(
            ["status_list_id"],
            ["status_lists.id"],
            name=op.f("fk_status_list_entries_status_list_id_status_lists"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_list_entries")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_status_list_entries_credential_id")),
        sa.UniqueConstraint(
            "status_list_id",
            "bit_index",
            name=op.f("uq_status_list_entries_status_list_id_bit_index"),
        ),
    )


def downgrade():
    op.drop_table("status_list_entries")
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_lists_institution_id"))
    op.drop_table("status_lists")
    with op.batch_alter_table("issuer_keys", schema=None) as batch_op:
        batch_op.drop_index("uq_issuer_keys_one_active")
        batch_op.drop_index(batch_op.f("ix_issuer_keys_institution_id"))
    op.drop_table("issuer_keys")
