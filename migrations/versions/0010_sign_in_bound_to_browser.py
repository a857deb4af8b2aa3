"""provider sign-ins bound to the browser that started them (login CSRF)

A provider sign-in was found again by its state alone, and its one-time grant worked in any
browser: someone could start a sign-in with their own account and get another person's
browser to finish it (open the callback link, or the grant link), signing that person in as
them. Now /auth/oidc/<name>/start gives the browser a random value in a cookie and keeps its
SHA-256 with the state; the callback and the grant exchange need the same cookie.

Sign-ins under way during the upgrade (kept without a hash) are refused; the officer starts
again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oidc_login", schema=None) as batch_op:
        batch_op.add_column(sa.Column("browser_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("sign_in_grant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("browser_hash", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("sign_in_grant", schema=None) as batch_op:
        batch_op.drop_column("browser_hash")
    with op.batch_alter_table("oidc_login", schema=None) as batch_op:
        batch_op.drop_column("browser_hash")
