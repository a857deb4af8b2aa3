"""identity providers and review reminders (issue 17)

Users may have no password (they sign in only through an identity provider) and may turn
review reminders off; provider sign-ins under way (state, nonce, PKCE verifier), one-time
grants (hashed) and the reminders sent each day are kept in the database, so that any
gunicorn worker can finish what another started.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:25:25.838587

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "oidc_login",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )
    with op.batch_alter_table("oidc_login", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_login_created_at"), ["created_at"], unique=False)

    op.create_table(
        "reminder_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "day", name="uq_reminder_sent_user_day"),
    )
    op.create_table(
        "sign_in_grant",
        sa.Column("grant_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("grant_hash"),
    )
    with op.batch_alter_table("sign_in_grant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sign_in_grant_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sign_in_grant_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_reminders", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.alter_column("password_hash", existing_type=sa.VARCHAR(length=255), nullable=True)


def downgrade():
    # A provider-only user gets a hash no password matches.
    op.execute("UPDATE user_account SET password_hash = '!' WHERE password_hash IS NULL")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.VARCHAR(length=255), nullable=False)
        batch_op.drop_column("email_reminders")

    with op.batch_alter_table("sign_in_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_grant_user_id"))
        batch_op.drop_index(batch_op.f("ix_sign_in_grant_created_at"))

    op.drop_table("sign_in_grant")
    op.drop_table("reminder_sent")
    with op.batch_alter_table("oidc_login", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_login_created_at"))

    op.drop_table("oidc_login")
