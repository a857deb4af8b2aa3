"""Provider sign-ins under way, one-time grants, and review reminders sent."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.types import UTCDateTime, utcnow


class OidcLogin(db.Model):
    """A sign-in started at a provider: what the callback must find again (single use)."""

    __tablename__ = "oidc_login"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    # SHA-256 of the random value in the starting browser's cookie (migration 0010).
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class SignInGrant(db.Model):
    """A one-time grant the PWA exchanges for a token pair; only its SHA-256 is kept."""

    __tablename__ = "sign_in_grant"

    grant_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    browser_hash: Mapped[str | None] = mapped_column(String(64))  # as the sign-in's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReminderSent(db.Model):
    """One review reminder a leader a day: claimed before sending, marked sent after."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_reminder_sent_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    day: Mapped[date]
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
