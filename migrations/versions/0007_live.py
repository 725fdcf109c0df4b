"""live sessions, attendance, recordings, calendar feeds, reminders

Revision ID: 0007_live
Revises: 0006_enrolment
Create Date: 2026-11-30

"""

from alembic import op
import sqlalchemy as sa

import lms.core.db


# revision identifiers, used by Alembic.
revision = "0007_live"
down_revision = "0006_enrolment"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "live_calendar_feeds",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_calendar_feeds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_live_calendar_feeds")),
        sa.UniqueConstraint("token", name=op.f("uq_live_calendar_feeds_token")),
    )
    op.create_table(
        "live_provider_settings",
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("bbb_url", sa.String(length=300), nullable=False),
        sa.Column("bbb_secret", sa.String(length=200), nullable=False),
        sa.Column("jitsi_domain", sa.String(length=200), nullable=False),
        sa.Column("jitsi_app_id", sa.String(length=100), nullable=False),
        sa.Column("jitsi_secret", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_live_provider_settings_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("institution_id", name=op.f("pk_live_provider_settings")),
    )
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("source_locale", sa.String(length=16), nullable=False),
        sa.Column("starts_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("rrule", sa.String(length=300), nullable=False),
        sa.Column("exdates", sa.JSON(), nullable=False),
        sa.Column("last_ends_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("instruction_languages", sa.JSON(), nullable=False),
        sa.Column("interpretation_languages", sa.JSON(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("meeting_ref", sa.String(length=120), nullable=False),
        sa.Column("external_url", sa.String(length=500), nullable=False),
        sa.Column("join_opens_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "provider IN ('bigbluebutton', 'jitsi', 'external')",
            name=op.f("ck_live_sessions_provider_known"),
        ),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 5 AND 720", name=op.f("ck_live_sessions_duration_range")
        ),
        sa.CheckConstraint(
            "join_opens_minutes BETWEEN 0 AND 120", name=op.f("ck_live_sessions_window_range")
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_live_sessions_cohort_id_cohorts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_live_sessions_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"], ["users.id"], name=op.f("fk_live_sessions_organiser_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_sessions_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_live_sessions_last_ends_at"), ["last_ends_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_live_sessions_organiser_id"), ["organiser_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_live_sessions_starts_at"), ["starts_at"], unique=False)
    op.create_table(
        "live_attendance_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('join', 'leave', 'present')",
            name=op.f("ck_live_attendance_events_kind_known"),
        ),
        sa.CheckConstraint(
            "source IN ('platform', 'bigbluebutton', 'roll_call')",
            name=op.f("ck_live_attendance_events_source_known"),
        ),
        sa.CheckConstraint(
            "minutes IS NULL OR minutes >= 0",
            name=op.f("ck_live_attendance_events_minutes_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_live_attendance_events_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_attendance_events_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_attendance_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_attendance_events")),
    )
    with op.batch_alter_table("live_attendance_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_attendance_events_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            "ix_live_attendance_session_occurrence", ["session_id", "occurrence_at"], unique=False
        )
    op.create_table(
        "live_recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_at", lms.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("media_asset_id", sa.String(length=32), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(url != '' AND media_asset_id IS NULL) OR (url = '' AND media_asset_id IS NOT NULL)",
            name=op.f("ck_live_recordings_one_source"),
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_live_recordings_added_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_recordings_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_recordings")),
    )
    with op.batch_alter_table("live_recordings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_recordings_media_asset_id"), ["media_asset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_live_recordings_session_id"), ["session_id"], unique=False
        )
    op.create_table(
        "live_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", lms.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_reminders_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_reminders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_reminders")),
        sa.UniqueConstraint(
            "session_id",
            "user_id",
            "occurrence_at",
            name=op.f("uq_live_reminders_session_id_user_id_occurrence_at"),
        ),
    )


def downgrade():
    op.drop_table("live_reminders")
    op.drop_table("live_recordings")
    op.drop_table("live_attendance_events")
    op.drop_table("live_sessions")
    op.drop_table("live_provider_settings")
    op.drop_table("live_calendar_feeds")
