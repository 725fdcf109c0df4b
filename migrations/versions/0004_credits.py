"""credit systems, grade scales and bands, institution credit settings

Revision ID: 0004_credits
Revises: 0003_catalog
Create Date: 2026-12-01

"""

from alembic import op
import sqlalchemy as sa

import lms.core.db


# revision identifiers, used by Alembic.
revision = "0004_credits"
down_revision = "0003_catalog"
branch_labels = None
depends_on = None

NATIONAL = sa.text("institution_id IS NULL")


def upgrade():
    op.create_table(
        "credit_systems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("hours_per_credit", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("rounding_step", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("rounding_mode", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=False),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rounding_mode IN ('half_up', 'down')", name=op.f("ck_credit_systems_rounding_known")
        ),
        sa.CheckConstraint("hours_per_credit > 0", name=op.f("ck_credit_systems_hours_positive")),
        sa.CheckConstraint("length(country) = 2", name=op.f("ck_credit_systems_country_iso2")),
        sa.CheckConstraint("rounding_step > 0", name=op.f("ck_credit_systems_step_positive")),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_credit_systems_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_systems")),
        sa.UniqueConstraint(
            "institution_id", "code", name=op.f("uq_credit_systems_institution_id_code")
        ),
    )
    with op.batch_alter_table("credit_systems", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_systems_institution_id"), ["institution_id"], unique=False
        )
        # national defaults (no owner) have unique codes too; NULLs never collide in a
        # plain unique constraint, so a partial index covers them
        batch_op.create_index(
            "uq_credit_systems_national_code",
            ["code"],
            unique=True,
            sqlite_where=NATIONAL,
            postgresql_where=NATIONAL,
        )

    op.create_table(
        "grade_scales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("pass_mark", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=False),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "direction IN ('higher_better', 'lower_better')",
            name=op.f("ck_grade_scales_direction_known"),
        ),
        sa.CheckConstraint("length(country) = 2", name=op.f("ck_grade_scales_country_iso2")),
        sa.CheckConstraint(
            "pass_mark > 0 AND pass_mark < 100", name=op.f("ck_grade_scales_pass_mark_range")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_grade_scales_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_scales")),
        sa.UniqueConstraint(
            "institution_id", "code", name=op.f("uq_grade_scales_institution_id_code")
        ),
    )
    with op.batch_alter_table("grade_scales", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grade_scales_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            "uq_grade_scales_national_code",
            ["code"],
            unique=True,
            sqlite_where=NATIONAL,
            postgresql_where=NATIONAL,
        )

    op.create_table(
        "grade_bands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scale_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("min_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("max_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("points", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("passing", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "min_percent >= 0 AND max_percent <= 100 AND min_percent < max_percent",
            name=op.f("ck_grade_bands_percent_range"),
        ),
        sa.CheckConstraint("points >= 0", name=op.f("ck_grade_bands_points_nonnegative")),
        sa.ForeignKeyConstraint(
            ["scale_id"],
            ["grade_scales.id"],
            name=op.f("fk_grade_bands_scale_id_grade_scales"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_bands")),
        sa.UniqueConstraint("scale_id", "label", name=op.f("uq_grade_bands_scale_id_label")),
        sa.UniqueConstraint("scale_id", "position", name=op.f("uq_grade_bands_scale_id_position")),
    )
    with op.batch_alter_table("grade_bands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grade_bands_scale_id"), ["scale_id"], unique=False)

    op.create_table(
        "institution_credit_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("credit_system_id", sa.Integer(), nullable=True),
        sa.Column("grade_scale_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_system_id"],
            ["credit_systems.id"],
            name=op.f("fk_institution_credit_settings_credit_system_id_credit_systems"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["grade_scale_id"],
            ["grade_scales.id"],
            name=op.f("fk_institution_credit_settings_grade_scale_id_grade_scales"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_credit_settings_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_credit_settings")),
        sa.UniqueConstraint(
            "institution_id", name=op.f("uq_institution_credit_settings_institution_id")
        ),
    )
    with op.batch_alter_table("institution_credit_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_credit_settings_credit_system_id"),
            ["credit_system_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_institution_credit_settings_grade_scale_id"),
            ["grade_scale_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("institution_credit_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_credit_settings_grade_scale_id"))
        batch_op.drop_index(batch_op.f("ix_institution_credit_settings_credit_system_id"))
    op.drop_table("institution_credit_settings")

    with op.batch_alter_table("grade_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grade_bands_scale_id"))
    op.drop_table("grade_bands")

    with op.batch_alter_table("grade_scales", schema=None) as batch_op:
        batch_op.drop_index("uq_grade_scales_national_code")
        batch_op.drop_index(batch_op.f("ix_grade_scales_institution_id"))
    op.drop_table("grade_scales")

    with op.batch_alter_table("credit_systems", schema=None) as batch_op:
        batch_op.drop_index("uq_credit_systems_national_code")
        batch_op.drop_index(batch_op.f("ix_credit_systems_institution_id"))
    op.drop_table("credit_systems")
