"""media: assets, processing jobs, subtitles, resumable uploads, playback preferences and positions

Revision ID: 0002_media
Revises: 0001_accounts
Create Date: 2026-11-30

"""

from alembic import op
import sqlalchemy as sa

import lms.core.db


# revision identifiers, used by Alembic.
revision = "0002_media"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "media_assets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("original_key", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mime", sa.String(length=64), nullable=False),
        sa.Column("container", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=False),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("codecs", sa.JSON(), nullable=False),
        sa.Column("output_prefix", sa.String(length=200), nullable=True),
        sa.Column("renditions", sa.JSON(), nullable=False),
        sa.Column("thumbnails", sa.Integer(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ready_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('video', 'document')", name=op.f("ck_media_assets_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('uploaded', 'processing', 'ready', 'failed')",
            name=op.f("ck_media_assets_status_known"),
        ),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 100", name=op.f("ck_media_assets_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_media_assets_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_assets")),
        sa.UniqueConstraint("owner_id", "sha256", name=op.f("uq_media_assets_owner_id_sha256")),
    )
    with op.batch_alter_table("media_assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_assets_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "media_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("data_saver", sa.String(length=8), nullable=False),
        sa.Column("updated_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "data_saver IN ('off', '240p', 'audio')",
            name=op.f("ck_media_preferences_data_saver_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_media_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_media_preferences")),
    )
    op.create_table(
        "media_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=False),
        sa.Column("error_detail", sa.String(length=2000), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('transcode', 'document')", name=op.f("ck_media_jobs_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_media_jobs_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["media_assets.id"],
            name=op.f("fk_media_jobs_asset_id_media_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_jobs")),
    )
    with op.batch_alter_table("media_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_jobs_asset_id"), ["asset_id"], unique=False)

    op.create_table(
        "media_positions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("updated_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seconds >= 0", name=op.f("ck_media_positions_seconds_positive")),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["media_assets.id"],
            name=op.f("fk_media_positions_asset_id_media_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_media_positions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "asset_id", name=op.f("pk_media_positions")),
    )
    with op.batch_alter_table("media_positions", schema=None) as batch_op:
        batch_op.create_index("ix_media_positions_asset_id", ["asset_id"], unique=False)

    op.create_table(
        "media_subtitles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("source_format", sa.String(length=8), nullable=False),
        sa.Column("cues", sa.Integer(), nullable=False),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source_format IN ('srt', 'vtt')", name=op.f("ck_media_subtitles_format_known")
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["media_assets.id"],
            name=op.f("fk_media_subtitles_asset_id_media_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_subtitles")),
        sa.UniqueConstraint("asset_id", "lang", name=op.f("uq_media_subtitles_asset_id_lang")),
    )
    with op.batch_alter_table("media_subtitles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_subtitles_asset_id"), ["asset_id"], unique=False)

    op.create_table(
        "media_uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("backend", sa.String(length=8), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("staging_key", sa.String(length=200), nullable=False),
        sa.Column("s3_upload_id", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "backend IN ('local', 's3')", name=op.f("ck_media_uploads_backend_known")
        ),
        sa.CheckConstraint(
            "kind IN ('video', 'document')", name=op.f("ck_media_uploads_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'completed', 'aborted')", name=op.f("ck_media_uploads_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["media_assets.id"],
            name=op.f("fk_media_uploads_asset_id_media_assets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_media_uploads_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_uploads")),
    )
    with op.batch_alter_table("media_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_uploads_owner_id"), ["owner_id"], unique=False)


def downgrade():
    with op.batch_alter_table("media_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_uploads_owner_id"))

    op.drop_table("media_uploads")
    with op.batch_alter_table("media_subtitles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_subtitles_asset_id"))

    op.drop_table("media_subtitles")
    with op.batch_alter_table("media_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_media_positions_asset_id")

    op.drop_table("media_positions")
    with op.batch_alter_table("media_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_jobs_asset_id"))

    op.drop_table("media_jobs")
    op.drop_table("media_preferences")
    with op.batch_alter_table("media_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_assets_owner_id"))

    op.drop_table("media_assets")
