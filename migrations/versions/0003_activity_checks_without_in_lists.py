"""activity checks as chains of comparisons, not IN lists

SQLite builds a lookup table for ``column IN (<more than two constants>)`` each time the
expression runs; in a CHECK constraint that is every row written. The four such checks on
activity were a third of the cost of inserting an activity. The same rules, written as chains
of ``=`` joined by OR, cost next to nothing; PostgreSQL gets the same text so the schema is
the same everywhere.

On SQLite the table is rebuilt (batch mode): env.py turns foreign keys off around the
migrations, as SQLite's own procedure for a rebuild says, and checks them afterwards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CATEGORIES = ("education", "counselling", "mediation", "emergency_response", "community_referral")
STATUSES = ("submitted", "confirmed", "disputed")
OUTCOMES = ("none", "follow_up", "referral_made", "alternative_measures", "charge_laid")
REFERRALS = (
    "mental_health",
    "youth_services",
    "family_services",
    "addictions",
    "housing",
    "victim_services",
    "other",
)


def _in_list(column: str, values: tuple) -> str:
    return f"{column} IN {values}"


def _chain(column: str, values: tuple) -> str:
    return "(" + " OR ".join(f"{column} = '{value}'" for value in values) + ")"


def _checks(one_of) -> dict[str, str]:
    return {
        "ck_activity_category": one_of("category", CATEGORIES),
        "ck_activity_status": one_of("status", STATUSES),
        "ck_activity_outcome": f"outcome IS NULL OR {one_of('outcome', OUTCOMES)}",
        "ck_activity_referral": f"referral_to IS NULL OR {one_of('referral_to', REFERRALS)}",
    }


def _replace_checks(one_of) -> None:
    with op.batch_alter_table("activity") as batch:
        for name, condition in _checks(one_of).items():
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, condition)


def upgrade():
    _replace_checks(_chain)


def downgrade():
    _replace_checks(_in_list)
