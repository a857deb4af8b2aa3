"""login attempts looked up by address: the sign-in limit and lockout per address

The sign-in rate limit is counted in the database (so that it holds across gunicorn
workers), by client address over the last minute, and the lockout by account and address.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:05:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_login_attempt_remote_addr_at", "login_attempt", ["remote_addr", "at"])


def downgrade():
    op.drop_index("ix_login_attempt_remote_addr_at", table_name="login_attempt")
