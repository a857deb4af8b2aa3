"""The fast path for a run of plain creates, their rows prepared: one counter bump and one
multi-row insert a table, storing what one activities.create() each would."""

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Dialect

from api.extensions import db
from api.models import ActivityRollup, AuditEvent, SequenceCounter
from api.services import audit, rollup
from api.services.sync.feed import FEED
from api.services.sync.prepared import PreparedCreate, Tables
from api.services.sync.rows import binder

AUDIT_COUNTER = "audit"
ROLLUP_KEYS = (*rollup.DIMENSIONS, "count", "minutes")


class BulkUnavailable(Exception):
    """A precondition of the bulk path does not hold; take the one-by-one path."""


def write_creates(run: list[PreparedCreate]) -> None:
    """Store a run of prepared creates with one multi-row insert a table: the same rows,
    sequence numbers, audit chain and rollup counts as one activities.create() each."""
    tables = Tables(db.session.get_bind().dialect)
    first_change = _take(FEED, len(run))
    first_event = _take(AUDIT_COUNTER, len(run))
    connection = db.session.connection()
    previous = connection.execute(_HASH_AT, {"seq": first_event - 1}).scalar()
    previous = previous or audit.GENESIS
    for offset, create in enumerate(run):
        previous = tables.number(create, first_change + offset, first_event + offset, previous)
    tables.activity.insert([c.activity for c in run])
    tables.revision.insert([c.revision for c in run])
    tables.audit.insert([c.audit for c in run])
    tables.mutation.insert([c.mutation for c in run])
    _add_to_rollup(run, tables.dialect)


# Core statements, compiled once (the ORM's per-statement work is a millisecond a push).
_COUNTER = SequenceCounter.__table__.c
_TAKE = (
    update(SequenceCounter.__table__)
    .where(_COUNTER.name == bindparam("counter"))
    .values(value=_COUNTER.value + bindparam("count"))
    .returning(_COUNTER.value)
)
_HASH_AT = select(AuditEvent.__table__.c.hash).where(AuditEvent.__table__.c.seq == bindparam("seq"))


def _take(counter: str, count: int) -> int:
    """Take ``count`` consecutive values of a counter in this transaction; return the first."""
    result = db.session.connection().execute(_TAKE, {"counter": counter, "count": count})
    last = result.scalar_one_or_none()
    if last is None:
        raise BulkUnavailable(f"no {counter!r} counter row")
    return last - count + 1


def _add_to_rollup(run: list[PreparedCreate], dialect: Dialect) -> None:
    """Add the run's counts and minutes to the rollup, one upsert (rollup._upsert_statement)
    for all its cells, bound like the rows (summed by day and keys first: a run's creates
    mostly share a few)."""
    days: dict[tuple, list[int]] = {}
    for create in run:
        day, keys, minutes = create.state
        total = days.get((day, keys))
        if total is None:
            days[day, keys] = [1, minutes]
        else:
            total[0] += 1
            total[1] += minutes
    cells: dict[tuple, list[int]] = {}
    for (day, keys), (count, minutes) in days.items():
        for key in rollup.cell_keys(day, keys):
            total = cells.get(key)
            if total is None:
                cells[key] = [count, minutes]
            else:
                total[0] += count
                total[1] += minutes
    if not cells:
        return
    upsert = binder(
        ActivityRollup.__table__, ROLLUP_KEYS, dialect, rollup._upsert_statement(dialect.name)
    )
    period = upsert.out["period"]
    upsert.insert(
        [
            upsert.row([grain, period(day), *rest, count, minutes])
            for (grain, day, *rest), (count, minutes) in cells.items()
        ]
    )
