"""Keep activity_rollup in step with the activity table, inside the writing transaction:
every write (api.services.writes.store) moves each activity's count from the cell its row was
in to the cell it is in now. Days and months are calendar dates in the program's time zone
(api.dates.local_date).
"""

import functools
from datetime import date

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
)

from api.database import dialect_insert
from api.dates import local_date, local_day_sql
from api.extensions import db
from api.models import Activity, ActivityRollup
from api.models.rollup import EVERYONE, GRAIN_DAY, GRAIN_MONTH, GRAIN_MONTH_ALL, NONE_KEY

KEY_FIELDS = ("school_id", "officer_id", "category", "outcome", "referral_to", "status")
DIMENSIONS = ("grain", "period", *KEY_FIELDS)

State = tuple | None


def state_of(values: dict | None) -> State:
    """The rollup cells (day and month) and minutes an activity's row counts in; None if
    deleted (or no row)."""
    if values is None or values["deleted_at"] is not None:
        return None
    return _state(
        values["started_at"],
        values["school_id"],
        values["officer_id"],
        values["category"],
        values["outcome"],
        values["referral_to"],
        values["status"],
        values["duration_minutes"],
    )


def _state(started, school_id, officer_id, category, outcome, referral_to, status, minutes):
    keys = (school_id, officer_id, category, outcome or NONE_KEY, referral_to or NONE_KEY, status)
    return local_date(started), keys, minutes


def _cells(state: State, sign: int) -> dict:
    if state is None:
        return {}
    day, keys, minutes = state
    return {key: (sign, sign * minutes) for key in cell_keys(day, keys)}


def cell_keys(day: date, keys: tuple) -> tuple[tuple, tuple, tuple]:
    """The cells an activity of this day and keys counts in: its day, its month, and its
    month program-wide."""
    month = day.replace(day=1)
    return (
        (GRAIN_DAY, day, *keys),
        (GRAIN_MONTH, month, *keys),
        (GRAIN_MONTH_ALL, month, EVERYONE, EVERYONE, *keys[2:]),
    )


@functools.cache
def _upsert_statement(dialect: str):
    """Add a cell's count and minutes, creating the cell if it is new (one statement, run
    as an executemany: its compiled form is cached, whatever the number of cells)."""
    statement = dialect_insert(dialect)(ActivityRollup.__table__)
    return statement.on_conflict_do_update(
        index_elements=list(DIMENSIONS),
        set_={
            "count": ActivityRollup.count + statement.excluded.count,
            "minutes": ActivityRollup.minutes + statement.excluded.minutes,
        },
    )


def add(moves: list[tuple[State, State]]) -> None:
    """Move each written activity's count from the cell it was in to the cell it is in now
    (a state of None: not counted, as when new or deleted), one upsert for all the cells."""
    deltas: dict[tuple, list[int]] = {}
    for old, new in moves:
        if old == new:
            continue
        for cells in (_cells(old, -1), _cells(new, 1)):
            for key, (count, minutes) in cells.items():
                total = deltas.setdefault(key, [0, 0])
                total[0] += count
                total[1] += minutes
    rows = [
        {**dict(zip(DIMENSIONS, key, strict=True)), "count": c, "minutes": m}
        for key, (c, m) in deltas.items()
        if c or m
    ]
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    db.session.execute(_upsert_statement(dialect), rows)
    emptied = [row for row in rows if row["count"] < 0]
    if emptied:
        db.session.execute(
            delete(ActivityRollup).where(
                ActivityRollup.count <= 0,
                or_(
                    *(
                        and_(*(getattr(ActivityRollup, d) == row[d] for d in DIMENSIONS))
                        for row in emptied
                    )
                ),
            )
        )


# --- recounting everything: repairs and rebuilds --------------------------------------------


def _month_of(day, dialect: str):
    """SQL for the first day of the month of a date column."""
    if dialect == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month", type_=Date)


def _upsert_from(dialect: str, source) -> None:
    statement = dialect_insert(dialect)(ActivityRollup).from_select(
        [*DIMENSIONS, "count", "minutes"], source
    )
    statement = statement.on_conflict_do_update(
        index_elements=list(DIMENSIONS),
        set_={
            "count": ActivityRollup.count + statement.excluded.count,
            "minutes": ActivityRollup.minutes + statement.excluded.minutes,
        },
    )
    db.session.execute(statement)


def _span(conditions) -> tuple | None:
    """The earliest and latest started_at of the activities matching the conditions."""
    earliest, latest = db.session.execute(
        select(func.min(Activity.started_at), func.max(Activity.started_at)).where(*conditions)
    ).one()
    return None if earliest is None else (earliest, latest)


def _recount() -> None:
    """Count every activity: one pass over the activities into a temporary table of day
    cells; the month and program-wide cells are summed from that much smaller table."""
    dialect = db.session.get_bind().dialect.name
    staging = Table(
        "activity_rollup_staging",
        MetaData(),
        *(Column(c.name, c.type) for c in ActivityRollup.__table__.columns if c.name != "grain"),
        prefixes=["TEMPORARY"],
    )
    connection = db.session.connection()
    staging.create(connection)
    live = (Activity.deleted_at.is_(None),)
    span = _span(live) if dialect == "sqlite" else None  # PostgreSQL knows the zone
    keys = (
        local_day_sql(Activity.started_at, dialect, span),
        Activity.school_id,
        Activity.officer_id,
        Activity.category,
        func.coalesce(Activity.outcome, NONE_KEY),
        func.coalesce(Activity.referral_to, NONE_KEY),
        Activity.status,
    )
    db.session.execute(
        insert(staging).from_select(
            [c.name for c in staging.columns],
            select(*keys, func.count(), func.sum(Activity.duration_minutes))
            .where(*live)
            .group_by(*keys),
        )
    )
    _sum_cells(staging, dialect)
    staging.drop(connection)


def _sum_cells(staging: Table, dialect: str) -> None:
    """The rollup's day, month and program-wide cells, summed from the day cells."""
    cells = staging.c
    month = _month_of(cells.period, dialect)
    everyone = literal(EVERYONE, Integer)
    groupings = {
        GRAIN_DAY: (cells.period, cells.school_id, cells.officer_id),
        GRAIN_MONTH: (month, cells.school_id, cells.officer_id),
        GRAIN_MONTH_ALL: (month, everyone, everyone),
    }
    for grain, (period, school, officer) in groupings.items():
        rest = (cells.category, cells.outcome, cells.referral_to, cells.status)
        keys = (period, school, officer, *rest)
        grouped = [k for k in keys if k is not everyone]
        _upsert_from(
            dialect,
            select(
                literal(grain, String),
                *keys,
                func.sum(cells.count),
                func.sum(cells.minutes),
            )
            .where(true())  # SQLite needs a WHERE to parse INSERT ... SELECT ... ON CONFLICT
            .group_by(*grouped),
        )


def rebuild() -> None:
    """Recount everything from the activity table, in the caller's transaction (repairs,
    a change of PROGRAM_TIMEZONE, and tests).

    On PostgreSQL the rollup is locked against writers first: a write waits for the recount
    to commit and then adds its own count, so none is lost or counted twice while the app
    serves. (SQLite has one writer at a time anyway.)
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE activity_rollup IN EXCLUSIVE MODE"))
    db.session.execute(delete(ActivityRollup))
    _recount()


def cell_count() -> int:
    """How many rollup rows there are."""
    return db.session.scalar(select(func.count()).select_from(ActivityRollup)) or 0
