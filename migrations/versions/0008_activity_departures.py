"""activity departures: a move of an activity away from a school, for its leaders' pulls

A leader pulls the activities of the schools they lead. When an edit moves an activity to
another school, the leader of the school it left must hear of it (a tombstone), or their
device keeps a copy of an activity that is no longer theirs to see. Each move is kept at its
place in the change feed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "activity_departure",
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.PrimaryKeyConstraint("change_seq"),
    )
    with op.batch_alter_table("activity_departure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_departure_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index("ix_departure_school_seq", ["school_id", "change_seq"], unique=False)


def downgrade():
    with op.batch_alter_table("activity_departure", schema=None) as batch_op:
        batch_op.drop_index("ix_departure_school_seq")
        batch_op.drop_index(batch_op.f("ix_activity_departure_activity_id"))
    op.drop_table("activity_departure")
