"""The change-sequence counter and the record of applied sync mutations."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Uuid, update
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.types import UTCDateTime, utcnow


class SequenceCounter(db.Model):
    """Named counters incremented inside writing transactions.

    The UPDATE takes the row lock and holds it until commit, so on PostgreSQL the order of
    values is the order of commits; on SQLite, write transactions are serialised anyway.
    """

    __tablename__ = "sequence_counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    # For the change feed: sequence numbers at or below this may have been purged.
    purged_through: Mapped[int] = mapped_column(BigInteger, default=0)


def next_value(name: str) -> int:
    """Take the next value of a counter in the current transaction (locks until commit)."""
    return take_values(name, 1)


def take_values(name: str, count: int) -> int:
    """Take ``count`` consecutive values of a counter in the current transaction (its row
    locked until commit); return the first."""
    statement = (
        update(SequenceCounter)
        .where(SequenceCounter.name == name)
        .values(value=SequenceCounter.value + count)
        .returning(SequenceCounter.value)
    )
    last = db.session.execute(statement).scalar_one_or_none()
    if last is None:
        db.session.add(SequenceCounter(name=name, value=count, purged_through=0))
        db.session.flush()
        last = count
    return last - count + 1


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
