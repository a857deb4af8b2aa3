"""report rollup: pre-aggregated activity counts by day and month for reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 04:26:10.892912

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# UTC day / first day of the UTC month of activity.started_at, per dialect.
PERIODS = {
    "sqlite": {
        "day": "date(started_at)",
        "month": "date(started_at, 'start of month')",
    },
    "postgresql": {
        "day": "CAST(timezone('UTC', started_at) AS DATE)",
        "month": "CAST(date_trunc('month', timezone('UTC', started_at)) AS DATE)",
    },
}
# grain -> (period, school and officer columns); month_all sums over schools and officers.
GRAINS = {
    "day": ("day", "school_id, officer_id"),
    "month": ("month", "school_id, officer_id"),
    "month_all": ("month", "0, 0"),
}


def upgrade():
    op.create_table(
        "activity_rollup",
        sa.Column("grain", sa.String(length=12), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("school_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("officer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("referral_to", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("minutes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain",
            "period",
            "school_id",
            "officer_id",
            "category",
            "outcome",
            "referral_to",
            "status",
        ),
    )
    with op.batch_alter_table("activity_rollup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_rollup_school", ["school_id", "grain", "period"], unique=False
        )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_status_created", ["status", "created_at"], unique=False)
    _backfill()


def _backfill():
    """Count the activities that already exist (deleted ones are not counted)."""
    dialect = op.get_bind().dialect.name
    periods = PERIODS.get(dialect, PERIODS["postgresql"])
    for grain, (period, people) in GRAINS.items():
        op.execute(
            "INSERT INTO activity_rollup (grain, period, school_id, officer_id, category, "
            "outcome, referral_to, status, count, minutes) "
            f"SELECT '{grain}', {periods[period]}, {people}, category, "
            "COALESCE(outcome, ''), COALESCE(referral_to, ''), status, "
            "COUNT(*), SUM(duration_minutes) "
            "FROM activity WHERE deleted_at IS NULL "
            "GROUP BY 2, 3, 4, 5, 6, 7, 8"
        )


def downgrade():
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_status_created")
    with op.batch_alter_table("activity_rollup", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_rollup_school")
    op.drop_table("activity_rollup")
