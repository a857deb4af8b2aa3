"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 04:22:25.318981

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)

    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('elementary', 'junior_high', 'senior_high', 'k_to_12', 'other')",
            name="ck_school_level",
        ),
        sa.CheckConstraint("version >= 1", name="ck_school_version"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "sequence_counter",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("purged_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("token_generation", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('officer', 'school_leader', 'program_manager', 'admin')", name="ck_user_role"
        ),
        sa.CheckConstraint("email = lower(email)", name="ck_user_email_lower"),
        sa.CheckConstraint("version >= 1", name="ck_user_version"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("participant_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("referral_to", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category <> 'community_referral' OR referral_to IS NOT NULL",
            name="ck_activity_referral_required",
        ),
        sa.CheckConstraint(
            "category IN ('education', 'counselling', 'mediation', 'emergency_response', 'community_referral')",
            name="ck_activity_category",
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('none', 'follow_up', 'referral_made', 'alternative_measures', 'charge_laid')",
            name="ck_activity_outcome",
        ),
        sa.CheckConstraint(
            "referral_to IS NULL OR referral_to IN ('mental_health', 'youth_services', 'family_services', 'addictions', 'housing', 'victim_services', 'other')",
            name="ck_activity_referral",
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'confirmed', 'disputed')", name="ck_activity_status"
        ),
        sa.CheckConstraint("duration_minutes BETWEEN 1 AND 720", name="ck_activity_duration"),
        sa.CheckConstraint("participant_count BETWEEN 0 AND 5000", name="ck_activity_participants"),
        sa.CheckConstraint("version >= 1", name="ck_activity_version"),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_change_seq"), ["change_seq"], unique=False)
        batch_op.create_index("ix_activity_officer_seq", ["officer_id", "change_seq"], unique=False)
        batch_op.create_index(
            "ix_activity_officer_started", ["officer_id", "started_at", "id"], unique=False
        )
        batch_op.create_index("ix_activity_school_seq", ["school_id", "change_seq"], unique=False)
        batch_op.create_index(
            "ix_activity_school_started", ["school_id", "started_at", "id"], unique=False
        )
        batch_op.create_index("ix_activity_started", ["started_at", "id"], unique=False)

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("remote_addr", sa.String(length=45), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_email_at", ["email", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_user_id"), ["user_id"], unique=False)

    op.create_table(
        "revoked_token",
        sa.Column("jti", sa.String(length=36), nullable=False),
        sa.Column("token_type", sa.String(length=10), nullable=False),
        sa.Column("family_id", sa.String(length=36), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("jti"),
    )
    with op.batch_alter_table("revoked_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revoked_token_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_revoked_token_family_id"), ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_revoked_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "school_assignment",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "school_id"),
    )
    op.create_table(
        "sync_mutation",
        sa.Column("mutation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("mutation_id"),
    )
    with op.batch_alter_table("sync_mutation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_mutation_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_mutation_user_id"), ["user_id"], unique=False)

    op.create_table(
        "token_family",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("token_family", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_family_user_id"), ["user_id"], unique=False)

    op.create_table(
        "activity_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id", "version", name="uq_revision_activity_version"),
    )

    counters = sa.table(
        "sequence_counter",
        sa.column("name", sa.String),
        sa.column("value", sa.BigInteger),
        sa.column("purged_through", sa.BigInteger),
    )
    op.bulk_insert(
        counters,
        [
            {"name": "activity", "value": 0, "purged_through": 0},
            {"name": "audit", "value": 0, "purged_through": 0},
        ],
    )


def downgrade():
    op.drop_table("activity_revision")
    with op.batch_alter_table("token_family", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_family_user_id"))

    op.drop_table("token_family")
    with op.batch_alter_table("sync_mutation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_mutation_user_id"))
        batch_op.drop_index(batch_op.f("ix_sync_mutation_created_at"))

    op.drop_table("sync_mutation")
    op.drop_table("school_assignment")
    with op.batch_alter_table("revoked_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_revoked_token_family_id"))
        batch_op.drop_index(batch_op.f("ix_revoked_token_expires_at"))

    op.drop_table("revoked_token")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempt_user_id"))
        batch_op.drop_index("ix_login_attempt_email_at")

    op.drop_table("login_attempt")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_started")
        batch_op.drop_index("ix_activity_school_started")
        batch_op.drop_index("ix_activity_school_seq")
        batch_op.drop_index("ix_activity_officer_started")
        batch_op.drop_index("ix_activity_officer_seq")
        batch_op.drop_index(batch_op.f("ix_activity_change_seq"))

    op.drop_table("activity")
    op.drop_table("user_account")
    op.drop_table("sequence_counter")
    op.drop_table("school")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))

    op.drop_table("audit_event")
