"""The record of applied sync mutations: a retry of one is answered with its result."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.types import UTCDateTime, utcnow

APPLIED = "applied"  # the one status a kept mutation has


class SyncMutation(db.Model):
    """An applied push mutation and the result sent for it, so a retry is a duplicate."""

    __tablename__ = "sync_mutation"

    mutation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    activity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    op: Mapped[str] = mapped_column(String(8))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    result: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
