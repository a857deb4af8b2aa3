"""Calendar dates in the program's time zone (``PROGRAM_TIMEZONE``, an IANA name).

Every calendar date the server computes or filters on is a date in this zone, never a UTC
date: a parent night at 19:30 on 31 October in Edmonton is an October activity. This module
is the one definition of "the local date of an instant" (``local_date``) and of where a local
date begins and ends as instants (``day_start``); the rollup, the push path, the filters,
the reports and the demo loader all use it. Daylight-saving changes come from the standard
library's ``zoneinfo``.

SQL that needs the local date of a column uses ``local_day_sql``: PostgreSQL's own zone
support (``AT TIME ZONE``), and on SQLite, which has none, the zone's UTC offsets over the
rows' time span (found with ``zoneinfo``) as a ``CASE`` over the instants where they change.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, case, cast, func, literal

DEFAULT_ZONE = "America/Edmonton"
# A step shorter than any interval between two changes of a zone's UTC offset.
_SCAN_STEP = timedelta(hours=12)


def checked_zone_name(name: str) -> str:
    """The name if it is a time zone zoneinfo knows; otherwise a ValueError that says so."""
    try:
        ZoneInfo(name)
    except (ValueError, LookupError, OSError, TypeError) as error:
        raise ValueError(
            f"PROGRAM_TIMEZONE={name!r} is not a time zone this system knows; use an IANA "
            f"name such as {DEFAULT_ZONE!r}, 'America/Toronto' or 'UTC'."
        ) from error
    return name


def program_zone() -> ZoneInfo:
    """The program's zone, from the app's settings (zoneinfo caches the instance)."""
    return ZoneInfo(current_app.config["PROGRAM_TIMEZONE"])


def local_date(instant: datetime, zone: ZoneInfo | None = None) -> date:
    """The calendar date, in the program's zone, of a timezone-aware instant."""
    return instant.astimezone(zone or program_zone()).date()


def today(zone: ZoneInfo | None = None) -> date:
    """Today's date in the program's zone."""
    return datetime.now(zone or program_zone()).date()


def day_start(day: date, zone: ZoneInfo | None = None) -> datetime:
    """The first instant (in UTC) of a calendar date in the program's zone.

    Where the clocks skip midnight (they jump from 00:00 to 01:00), zoneinfo reads the
    missing 00:00 with the offset before the jump, which is the instant of the jump: the
    first instant of that date all the same.
    """
    return datetime.combine(day, time.min, tzinfo=zone or program_zone()).astimezone(UTC)


def day_bounds(
    first: date | None, last: date | None, zone: ZoneInfo | None = None
) -> tuple[datetime | None, datetime | None]:
    """[start, end) instants of the local dates first..last (inclusive); None where open."""
    zone = zone or program_zone()
    start = day_start(first, zone) if first else None
    end = day_start(last + timedelta(days=1), zone) if last else None
    return start, end


# --- SQL -----------------------------------------------------------------------------------


def _offset(instant: datetime, zone: ZoneInfo) -> int:
    return int(instant.astimezone(zone).utcoffset().total_seconds())


def _change_between(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The first whole second in (low, high] with high's UTC offset (offsets differ)."""
    wanted = _offset(high, zone)
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if _offset(datetime.fromtimestamp(middle, UTC), zone) == wanted:
            high_s = middle
        else:
            low_s = middle
    return datetime.fromtimestamp(high_s, UTC)


def utc_offsets(first: datetime, last: datetime, zone: ZoneInfo) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets (seconds) from ``first`` to ``last``: (since, offset) pairs,
    the first since ``first``, each next one since the instant the offset changed."""
    first = first.astimezone(UTC).replace(microsecond=0)
    segments = [(first, _offset(first, zone))]
    at = first
    while at < last:
        step = min(at + _SCAN_STEP, last)
        if _offset(step, zone) != segments[-1][1]:
            change = _change_between(at, step, zone)
            segments.append((change, _offset(change, zone)))
        at = step
    return segments


def local_day_sql(column, dialect: str, span: tuple[datetime, datetime] | None):
    """SQL for the local date (in the program's zone) of a UTC timestamp column.

    ``span`` is the (earliest, latest) value the column takes in the rows at hand; SQLite
    needs it to list the offsets that apply (None: no rows, any expression will do).
    """
    zone = program_zone()
    if dialect == "postgresql":
        return cast(func.timezone(zone.key, column), Date)
    # Whole seconds: SQLite's date functions round to milliseconds, which would carry
    # 23:59:59.9999 into the next day. (Offsets are whole seconds, so the date is the same.)
    seconds = func.substr(column, 1, 19)
    if span is None:
        return func.date(seconds, type_=Date)
    segments = utc_offsets(span[0], span[1], zone)
    modifiers = [f"{offset:+d} seconds" for _, offset in segments]
    if len(segments) == 1:
        return func.date(seconds, modifiers[0], type_=Date)
    # Latest first: most rows are recent, so most stop at the first test.
    whens = [
        (column >= since, modifier)
        for (since, _), modifier in zip(segments[:0:-1], modifiers[:0:-1], strict=True)
    ]
    return func.date(seconds, case(*whens, else_=literal(modifiers[0])), type_=Date)
