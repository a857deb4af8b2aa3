"""Keep activity_rollup in step with the activity table, inside the writing transaction.

Each Activity instance remembers the rollup cell it is counted in (``_rollup_state``), taken
when it is loaded or refreshed from the database and after each write, so record_write can move
its count from the old cell to the new one even after an autoflush has cleared the ORM history.
Days and months are UTC.
"""

from datetime import UTC

from sqlalchemy import Date, String, and_, cast, delete, event, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from api.extensions import db
from api.models import Activity, ActivityRollup
from api.models.rollup import GRAIN_DAY, GRAIN_MONTH, NONE_KEY

KEY_FIELDS = ("school_id", "officer_id", "category", "outcome", "referral_to", "status")
STATE_FIELDS = (*KEY_FIELDS, "started_at", "duration_minutes", "deleted_at")
DIMENSIONS = ("grain", "period", *KEY_FIELDS)

State = tuple | None


def state_of(values: dict) -> State:
    """The rollup cells (day and month) and minutes an activity counts in; None if deleted."""
    if values.get("deleted_at") is not None or values.get("started_at") is None:
        return None
    day = values["started_at"].astimezone(UTC).date()
    keys = (
        values["school_id"],
        values["officer_id"],
        values["category"],
        values["outcome"] or NONE_KEY,
        values["referral_to"] or NONE_KEY,
        values["status"],
    )
    return day, keys, values["duration_minutes"]


def _remember(target: Activity, *_args) -> None:
    loaded = target.__dict__
    if all(name in loaded for name in STATE_FIELDS):
        target._rollup_state = state_of(loaded)


event.listen(Activity, "load", _remember)
event.listen(Activity, "refresh", _remember)


def _cells(state: State, sign: int) -> dict:
    if state is None:
        return {}
    day, keys, minutes = state
    month = day.replace(day=1)
    return {
        (GRAIN_DAY, day, *keys): (sign, sign * minutes),
        (GRAIN_MONTH, month, *keys): (sign, sign * minutes),
    }


def _insert(dialect: str):
    return (postgresql if dialect == "postgresql" else sqlite).insert


def _upsert(dialect: str, rows: list[dict]) -> None:
    statement = _insert(dialect)(ActivityRollup).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=list(DIMENSIONS),
        set_={
            "count": ActivityRollup.count + statement.excluded.count,
            "minutes": ActivityRollup.minutes + statement.excluded.minutes,
        },
    )
    db.session.execute(statement)


def track_write(activity: Activity) -> None:
    """Move the activity's count from the cell it was in to the cell it is in now."""
    old = getattr(activity, "_rollup_state", None)
    new = state_of({name: getattr(activity, name) for name in STATE_FIELDS})
    activity._rollup_state = new
    if old == new:
        return
    deltas: dict[tuple, list[int]] = {}
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
    _upsert(dialect, rows)
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


# --- bulk: the demo loader and rebuilds ---------------------------------------------------


def period_expression(grain: str, dialect: str):
    """SQL for the UTC day, or first day of the UTC month, of activity.started_at."""
    started = Activity.started_at
    if dialect == "postgresql":
        utc = func.timezone("UTC", started)
        if grain == GRAIN_DAY:
            return cast(utc, Date)
        return cast(func.date_trunc("month", utc), Date)
    if grain == GRAIN_DAY:
        return func.date(started, type_=Date)
    return func.date(started, "start of month", type_=Date)


def add_range(first_seq: int, last_seq: int) -> None:
    """Count the activities whose change_seq is in [first_seq, last_seq] (bulk inserts)."""
    dialect = db.session.get_bind().dialect.name
    for grain in (GRAIN_DAY, GRAIN_MONTH):
        period = period_expression(grain, dialect)
        groups = (
            period,
            Activity.school_id,
            Activity.officer_id,
            Activity.category,
            func.coalesce(Activity.outcome, NONE_KEY),
            func.coalesce(Activity.referral_to, NONE_KEY),
            Activity.status,
        )
        source = (
            select(
                literal(grain, String),
                *groups,
                func.count(),
                func.sum(Activity.duration_minutes),
            )
            .where(
                Activity.change_seq.between(first_seq, last_seq),
                Activity.deleted_at.is_(None),
            )
            .group_by(*groups)
        )
        statement = _insert(dialect)(ActivityRollup).from_select(
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


def rebuild() -> None:
    """Recount everything from the activity table (repairs, and tests)."""
    db.session.execute(delete(ActivityRollup))
    last = db.session.scalar(select(func.max(Activity.change_seq)))
    if last is not None:
        add_range(0, last)
