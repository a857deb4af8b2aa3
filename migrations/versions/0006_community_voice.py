"""community voice: survey rounds, their schools, single-use codes, responses and tallies

Responses keep no code, address, user agent or time of day; codes are kept as hashes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ITEM_KEYS = (
    "safe_at_school",
    "safe_with_officer",
    "would_ask_for_help",
    "treated_fairly",
    "knows_role",
)


def upgrade():
    op.create_table(
        "survey_round",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("instrument", sa.String(40), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column(
            "created_by",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("closes_on >= opens_on", name="ck_survey_round_dates"),
        sa.CheckConstraint("version >= 1", name="ck_survey_round_version"),
    )
    op.create_table(
        "survey_round_school",
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("survey_round.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "school_id",
            sa.Integer(),
            sa.ForeignKey("school.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "survey_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("survey_round.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "school_id",
            sa.Integer(),
            sa.ForeignKey("school.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "survey_response",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("survey_round.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "school_id",
            sa.Integer(),
            sa.ForeignKey("school.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        *(sa.Column(key, sa.SmallInteger(), nullable=True) for key in ITEM_KEYS),
        sa.Column("identity", sa.JSON(), nullable=False),
        *(
            sa.CheckConstraint(f"{key} BETWEEN 1 AND 5", name=f"ck_survey_response_{key}")
            for key in ITEM_KEYS
        ),
    )
    op.create_index("ix_survey_response_round_school", "survey_response", ["round_id", "school_id"])
    op.create_table(
        "survey_tally",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("survey_round.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "school_id",
            sa.Integer(),
            sa.ForeignKey("school.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("grp", sa.String(20), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.UniqueConstraint("round_id", "school_id", "audience", "grp", name="uq_survey_tally"),
    )


def downgrade():
    op.drop_table("survey_tally")
    op.drop_index("ix_survey_response_round_school", table_name="survey_response")
    op.drop_table("survey_response")
    op.drop_table("survey_code")
    op.drop_table("survey_round_school")
    op.drop_table("survey_round")
