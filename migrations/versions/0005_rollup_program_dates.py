"""report rollup keyed by calendar dates in the program's time zone, not UTC

The rollup's day and month periods were UTC dates; they are now dates in PROGRAM_TIMEZONE
(default America/Edmonton), so an activity at 19:30 on 31 October counts in October. This
revision recounts the rollup from the activity table under the new rule (the totals do not
change, only which day and month an activity counts in); downgrading recounts it in UTC.
No schema change.

The zone is the app's PROGRAM_TIMEZONE (the environment variable when run outside the app).
PostgreSQL computes local dates with its own zone support (AT TIME ZONE); SQLite has none, so
the zone's UTC offsets over the activities' time span come from zoneinfo, as a CASE over the
instants where the offset changes. The app's api.dates does the same at run time; this file
keeps its own copy so that it never imports the app.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:00:00

"""

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DEFAULT_ZONE = "America/Edmonton"
SCAN_STEP = timedelta(hours=12)
# How SQLAlchemy stores a timestamp on SQLite: naive UTC text with microseconds.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
GRAINS = {
    "day": ("day", "school_id, officer_id"),
    "month": ("month", "school_id, officer_id"),
    "month_all": ("month", "0, 0"),
}


def _zone_name() -> str:
    try:
        from flask import current_app

        return current_app.config["PROGRAM_TIMEZONE"]
    except (RuntimeError, KeyError):
        return os.environ.get("PROGRAM_TIMEZONE") or DEFAULT_ZONE


def _offset(instant: datetime, zone: ZoneInfo) -> int:
    return int(instant.astimezone(zone).utcoffset().total_seconds())


def _change_between(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    wanted = _offset(high, zone)
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if _offset(datetime.fromtimestamp(middle, UTC), zone) == wanted:
            high_s = middle
        else:
            low_s = middle
    return datetime.fromtimestamp(high_s, UTC)


def _utc_offsets(first: datetime, last: datetime, zone: ZoneInfo) -> list:
    """(since, offset seconds) from first to last, a pair each time the offset changes."""
    first = first.replace(microsecond=0)
    segments = [(first, _offset(first, zone))]
    at = first
    while at < last:
        step = min(at + SCAN_STEP, last)
        if _offset(step, zone) != segments[-1][1]:
            change = _change_between(at, step, zone)
            segments.append((change, _offset(change, zone)))
        at = step
    return segments


def _sqlite_periods(zone: ZoneInfo) -> tuple[dict, dict]:
    span = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT min(started_at), max(started_at) FROM activity WHERE deleted_at IS NULL"
            )
        )
        .one()
    )
    # Whole seconds (the text's first 19 characters): SQLite's date functions round to
    # milliseconds, which would carry 23:59:59.9999 into the next day.
    seconds = "substr(started_at, 1, 19)"
    if span[0] is None:
        return {"day": f"date({seconds})", "month": f"date({seconds}, 'start of month')"}, {}
    first, last = (datetime.fromisoformat(str(v)).replace(tzinfo=UTC) for v in span)
    segments = _utc_offsets(first, last, zone)
    params = {"modifier_0": f"{segments[0][1]:+d} seconds"}
    whens = []
    for n, (since, offset) in reversed(list(enumerate(segments))[1:]):
        params[f"since_{n}"] = since.strftime(SQLITE_TIME)
        params[f"modifier_{n}"] = f"{offset:+d} seconds"
        whens.append(f"WHEN started_at >= :since_{n} THEN :modifier_{n}")
    modifier = f"CASE {' '.join(whens)} ELSE :modifier_0 END" if whens else ":modifier_0"
    periods = {
        "day": f"date({seconds}, {modifier})",
        "month": f"date({seconds}, {modifier}, 'start of month')",
    }
    return periods, params


def _periods(zone_name: str) -> tuple[dict, dict]:
    """SQL for the local day and first day of the local month of started_at, and its
    parameters."""
    if op.get_bind().dialect.name == "sqlite":
        return _sqlite_periods(ZoneInfo(zone_name))
    local = "timezone(:zone, started_at)"
    periods = {
        "day": f"CAST({local} AS DATE)",
        "month": f"CAST(date_trunc('month', {local}) AS DATE)",
    }
    return periods, {"zone": zone_name}


def _recount(zone_name: str) -> None:
    """Empty the rollup and count every activity (deleted ones are not counted) again."""
    op.execute("DELETE FROM activity_rollup")
    periods, params = _periods(zone_name)
    for grain, (period, people) in GRAINS.items():
        statement = sa.text(
            "INSERT INTO activity_rollup (grain, period, school_id, officer_id, category, "
            "outcome, referral_to, status, count, minutes) "
            f"SELECT '{grain}', {periods[period]}, {people}, category, "
            "COALESCE(outcome, ''), COALESCE(referral_to, ''), status, "
            "COUNT(*), SUM(duration_minutes) "
            "FROM activity WHERE deleted_at IS NULL "
            "GROUP BY 2, 3, 4, 5, 6, 7, 8"
        )
        op.get_bind().execute(statement, params)


def upgrade():
    _recount(_zone_name())


def downgrade():
    _recount("UTC")
