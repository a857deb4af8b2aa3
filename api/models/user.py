"""Users, their roles, login attempts and token revocation."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.school import School, school_assignment
from api.models.types import UTCDateTime, utcnow

ROLES = ("officer", "school_leader", "program_manager", "admin")


class User(db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="ck_user_role"),
        CheckConstraint("email = lower(email)", name="ck_user_email_lower"),
        CheckConstraint("version >= 1", name="ck_user_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    # None for a user who signs in only through an identity provider.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Bumped on deactivation and password change: every older token stops working.
    token_generation: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    schools: Mapped[list[School]] = relationship(
        secondary=school_assignment, order_by=School.name, lazy="selectin"
    )

    @property
    def school_ids(self) -> list[int]:
        return sorted(school.id for school in self.schools)


class LoginAttempt(db.Model):
    """Each login attempt, counted to lock an account across workers and hosts."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_remote_addr_at", "remote_addr", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    succeeded: Mapped[bool]
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TokenFamily(db.Model):
    """One sign-in: its access and rotated refresh tokens live and die together."""

    __tablename__ = "token_family"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RevokedToken(db.Model):
    """A token that must not be accepted again (logout, or a used refresh token)."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_type: Mapped[str] = mapped_column(String(10))
    family_id: Mapped[str | None] = mapped_column(String(36), index=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
