"""Named counters taken inside writing transactions: the change feed's and the audit
chain's."""

from sqlalchemy import BigInteger, String, update
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db


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
