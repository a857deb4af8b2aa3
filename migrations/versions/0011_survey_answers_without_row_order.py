"""survey answers kept in the order of their random key, not of submission (SQLite)

An ordinary SQLite table stores its rows by a hidden rowid that counts up as rows are
written, so `survey_response` kept the order the answers came in: in a class period, the
n-th row is the n-th student to finish. As a WITHOUT ROWID table it is stored by its primary
key, a random UUID, and that order says nothing. (PostgreSQL's heap still has the write
order: docs/surveys.md.)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 19:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "survey_response", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
    ):
        pass


def upgrade():
    _rebuild(with_rowid=False)


def downgrade():
    _rebuild(with_rowid=True)
