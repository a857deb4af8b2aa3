"""Reports for program managers: the activity mix (from the rollup) and review health.

Days and months are calendar dates in the program's time zone (``PROGRAM_TIMEZONE``): an
activity counts on the local date of its ``started_at`` (api.dates).
"""

import csv
import io
from collections import defaultdict
from datetime import date, datetime, timedelta
from statistics import median

from flask import current_app
from sqlalchemy import and_, extract, false, func, or_, select

from api.dates import day_bounds, day_start, local_date
from api.errors import Invalid
from api.extensions import db
from api.models import Activity, ActivityRollup, School, User
from api.models.activity import STATUSES
from api.models.rollup import GRAIN_DAY, GRAIN_MONTH, GRAIN_MONTH_ALL, NONE_KEY
from api.models.types import utcnow
from api.services import audit
from api.services.suppression import TableTooLarge, suppress

GROUP_KEYS = ("category", "school", "school_level", "officer", "month", "outcome", "referral_to")
# Columns each group key adds to a row; the first identifies the group.
GROUP_COLUMNS = {
    "category": ("category",),
    "school": ("school_id", "school_name"),
    "school_level": ("school_level",),
    "officer": ("officer_id", "officer_name"),
    "month": ("month",),
    "outcome": ("outcome",),
    "referral_to": ("referral_to",),
}
MEASURES = ("count", "minutes", "share_of_count", "share_of_minutes")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- activity mix --------------------------------------------------------------------------


def _next_month(value: date) -> date:
    return (value.replace(day=28) + timedelta(days=4)).replace(day=1)


def _period_filter(first: date | None, last: date | None, months: str = GRAIN_MONTH):
    """Whole months inside [first, last] from month rows, the ragged edges from day rows."""
    months_from = None if first is None else (first if first.day == 1 else _next_month(first))
    months_to = None  # exclusive
    if last is not None:
        months_to = _next_month(last) if _next_month(last) - timedelta(days=1) == last else None
        months_to = months_to or last.replace(day=1)
    if months_from is not None and months_to is not None and months_from >= months_to:
        day_rows = [ActivityRollup.period.between(first, last)]
        return and_(ActivityRollup.grain == GRAIN_DAY, *day_rows)
    month_rows = [ActivityRollup.grain == months]
    edges = []
    if months_from is not None:
        month_rows.append(ActivityRollup.period >= months_from)
        if first < months_from:
            edges.append(ActivityRollup.period.between(first, months_from - timedelta(days=1)))
    if months_to is not None:
        month_rows.append(ActivityRollup.period < months_to)
        if months_to <= last:
            edges.append(ActivityRollup.period.between(months_to, last))
    day_rows = and_(ActivityRollup.grain == GRAIN_DAY, or_(*edges)) if edges else false()
    return or_(and_(*month_rows), day_rows)


def _group_expressions() -> dict:
    rollup = ActivityRollup
    return {
        "category": (rollup.category,),
        "school": (rollup.school_id, School.name),
        "school_level": (School.level,),
        "officer": (rollup.officer_id, User.display_name),
        # The raw period (a day or a month start) groups cheaply; months are labelled after.
        "month": (rollup.period,),
        "outcome": (rollup.outcome,),
        "referral_to": (rollup.referral_to,),
    }


def _mix_cells(filters: dict) -> list[dict]:
    """One dict per group: its key columns, count and minutes (counts > 0 only)."""
    group_by = filters["group_by"]
    expressions = _group_expressions()
    columns = []
    for key in group_by:
        for name, expression in zip(GROUP_COLUMNS[key], expressions[key], strict=True):
            columns.append(expression.label(name))
    count = func.sum(ActivityRollup.count)
    query = select(*columns, count.label("count"), func.sum(ActivityRollup.minutes))
    if {"school", "school_level"} & set(group_by):
        query = query.join(School, School.id == ActivityRollup.school_id)
    if "officer" in group_by:
        query = query.join(User, User.id == ActivityRollup.officer_id)
    by_place = {"school", "school_level", "officer"} & set(group_by) or filters.get("school_id")
    months = GRAIN_MONTH if by_place else GRAIN_MONTH_ALL
    query = query.where(_period_filter(filters.get("from"), filters.get("to"), months))
    if filters.get("status"):
        query = query.where(ActivityRollup.status == filters["status"])
    if filters.get("school_id"):
        query = query.where(ActivityRollup.school_id == filters["school_id"])
    query = query.group_by(*[c.element for c in columns]).having(count > 0)
    names = [c.name for c in columns]
    cells: dict[tuple, dict] = {}
    for row in db.session.execute(query):
        cell = dict(zip(names, row[: len(names)], strict=True))
        for name in ("outcome", "referral_to"):
            if cell.get(name) == NONE_KEY:
                cell[name] = None
        if "month" in cell:
            cell["month"] = cell["month"].strftime("%Y-%m")
        merged = cells.setdefault(tuple(cell.values()), cell | {"count": 0, "minutes": 0})
        merged["count"] += int(row[-2])
        merged["minutes"] += int(row[-1])
    return list(cells.values())


def _sort_key(cell: dict, group_by: list[str]) -> tuple:
    parts = []
    for key in group_by:
        value = cell.get(GROUP_COLUMNS[key][0])
        parts.append((value is None, str(value) if not isinstance(value, int) else f"{value:012d}"))
    return tuple(parts)


def _share(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(part / whole, 6)


def activity_mix(filters: dict) -> dict:
    """Counts and minutes per group over the non-deleted activities matching the filters;
    a public report suppresses cells below SUPPRESS_BELOW unless told another threshold."""
    if filters.get("public") and filters.get("suppress_below") is None:
        filters = {**filters, "suppress_below": current_app.config["SUPPRESS_BELOW"]}
    group_by = filters["group_by"]
    cells = sorted(_mix_cells(filters), key=lambda c: _sort_key(c, group_by))
    total_count = sum(c["count"] for c in cells)
    total_minutes = sum(c["minutes"] for c in cells)
    threshold = filters.get("suppress_below")
    totals = {"count": total_count, "minutes": total_minutes}
    if threshold is not None:
        cells, published = _apply_suppression(cells, group_by, threshold)
        totals["suppressed"] = not published
        if not published:
            totals = {"count": None, "minutes": None, "suppressed": True}
    for cell in cells:
        # Without published totals a share would give the total away.
        cell["share_of_count"] = _share(cell["count"], totals["count"])
        cell["share_of_minutes"] = _share(cell["minutes"], totals["minutes"])
    return {"rows": cells, "totals": totals, "filters": echo_filters(filters)}


def _apply_suppression(cells: list[dict], group_by: list[str], k: int) -> tuple[list, bool]:
    """Null the hidden counts (and the minutes and shares that would reveal them)."""
    ids = [GROUP_COLUMNS[key][0] for key in group_by]
    by_key = {tuple(cell[i] for i in ids): cell for cell in cells}
    try:
        outcome = suppress({key: cell["count"] for key, cell in by_key.items()}, k)
    except TableTooLarge as error:
        raise Invalid(
            "Too many groups to publish safely; group by fewer keys or narrow the dates.",
            details={"group_by": [str(error)]},
        ) from error
    # Names and labels of each dimension's values, for hidden empty cells of the grid.
    labels = [
        {cell[i]: {c: cell[c] for c in GROUP_COLUMNS[key]} for cell in cells}
        for i, key in zip(ids, group_by, strict=True)
    ]
    for key in outcome.hidden - by_key.keys():
        cell = {}
        for position, value in enumerate(key):
            cell.update(labels[position][value])
        by_key[key] = cell
    rows = []
    for key, cell in by_key.items():
        cell["suppressed"] = key in outcome.hidden
        if cell["suppressed"]:
            cell["count"] = cell["minutes"] = None
        rows.append(cell)
    rows.sort(key=lambda c: _sort_key(c, group_by))
    return rows, outcome.total_published


def echo_filters(filters: dict) -> dict:
    """The filters a report was made with, as they appear in JSON, CSV and the audit log."""
    return {
        "from": filters["from"].isoformat() if filters.get("from") else None,
        "to": filters["to"].isoformat() if filters.get("to") else None,
        "group_by": list(filters.get("group_by", [])) or None,
        "status": filters.get("status"),
        "school_id": filters.get("school_id"),
        "public": bool(filters.get("public")),
        "suppress_below": filters.get("suppress_below"),
    }


# --- CSV -----------------------------------------------------------------------------------


def _safe(value):
    """Neutralise spreadsheet formulas in text (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def mix_csv(report: dict) -> str:
    """The mix as CSV: a header, one row per group; totals and filters as trailing columns."""
    filters = report["filters"]
    group_columns = [c for key in filters["group_by"] for c in GROUP_COLUMNS[key]]
    filter_columns = {f"filter_{name}": value for name, value in filters.items()}
    if filter_columns["filter_group_by"]:
        filter_columns["filter_group_by"] = ",".join(filters["group_by"])
    totals = {
        "total_count": report["totals"]["count"],
        "total_minutes": report["totals"]["minutes"],
    }
    header = [*group_columns, *MEASURES, "suppressed", *totals, *filter_columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    for row in report["rows"]:
        line = {**row, "suppressed": bool(row.get("suppressed")), **totals, **filter_columns}
        writer.writerow({name: _safe(line.get(name)) for name in header})
    return out.getvalue()


# --- review health -------------------------------------------------------------------------


def _hours_to_review(dialect: str):
    if dialect == "postgresql":
        seconds = extract("epoch", Activity.reviewed_at - Activity.submitted_at)
        return seconds / 3600.0
    return (func.julianday(Activity.reviewed_at) - func.julianday(Activity.submitted_at)) * 24.0


def _range_filters(filters: dict) -> list:
    conditions = [Activity.deleted_at.is_(None)]
    start, end = day_bounds(filters.get("from"), filters.get("to"))
    if start is not None:
        conditions.append(Activity.started_at >= start)
    if end is not None:
        conditions.append(Activity.started_at < end)
    return conditions


def _status_counts(filters: dict) -> dict:
    """(school_id, status) -> count, from the rollup."""
    query = (
        select(ActivityRollup.school_id, ActivityRollup.status, func.sum(ActivityRollup.count))
        .where(_period_filter(filters.get("from"), filters.get("to")))
        .group_by(ActivityRollup.school_id, ActivityRollup.status)
    )
    return {(school, status): int(n) for school, status, n in db.session.execute(query)}


def _overdue(filters: dict, before: datetime) -> dict:
    """school_id -> activities still awaiting review that went to the school (were logged,
    or sent back by an edit) before ``before``."""
    query = (
        select(Activity.school_id, func.count())
        .where(
            Activity.status == "submitted",
            Activity.submitted_at < before,
            *_range_filters(filters),
        )
        .group_by(Activity.school_id)
    )
    return dict(db.session.execute(query).all())


def _medians(filters: dict) -> dict:
    """Median hours from the last submission to the review, per school and overall (key
    None): an activity reviewed, edited and reviewed again counts the second wait only.

    The hours are computed in SQL (julianday on SQLite, epoch seconds on PostgreSQL) and the
    medians exactly in Python: one pass, where window functions would sort twice.
    """
    dialect = db.session.get_bind().dialect.name
    query = select(Activity.school_id, _hours_to_review(dialect)).where(
        *_range_filters(filters),
        Activity.status.in_(("confirmed", "disputed")),
        Activity.reviewed_at.is_not(None),
    )
    by_school: dict = defaultdict(list)
    for school_id, hours in db.session.execute(query):
        by_school[school_id].append(float(hours))
    everything = [hours for values in by_school.values() for hours in values]
    medians = {school: round(median(values), 2) for school, values in by_school.items()}
    medians[None] = round(median(everything), 2) if everything else None
    return medians


def confirmation(filters: dict, overdue_days: int, now: datetime | None = None) -> dict:
    """Per school: how many activities await review, were confirmed or disputed, and how fast.

    Every active school is listed (inactive ones only when they have activities in range).
    Overdue means still submitted and submitted (logged, or sent back by an edit) more than
    ``overdue_days`` calendar days ago, counted in the program's zone: on 9 October, with 7
    days, what was submitted on 1 October or before.
    """
    counts = _status_counts(filters)
    overdue = _overdue(filters, overdue_since(overdue_days, now))
    medians = _medians(filters)
    with_activity = {school for school, _ in counts}
    schools = db.session.execute(
        select(School.id, School.name, School.level)
        .where(or_(School.active.is_(True), School.id.in_(with_activity)))
        .order_by(School.name, School.id)
    )
    rows = []
    for school_id, name, level in schools:
        by_status = [counts.get((school_id, status), 0) for status in STATUSES]
        rows.append(
            _review_row(*by_status, overdue.get(school_id, 0), medians.get(school_id))
            | {"school_id": school_id, "school_name": name, "school_level": level}
        )
    sums = {k: sum(r[k] for r in rows) for k in ("submitted", "confirmed", "disputed", "overdue")}
    totals = _review_row(*sums.values(), medians[None])
    echo = {
        "from": filters["from"].isoformat() if filters.get("from") else None,
        "to": filters["to"].isoformat() if filters.get("to") else None,
        "overdue_days": overdue_days,
    }
    return {"rows": rows, "totals": totals, "filters": echo}


def overdue_since(overdue_days: int, now: datetime | None = None) -> datetime:
    """Activities submitted before this instant are overdue: the start of the program date
    ``overdue_days`` days before today."""
    return day_start(local_date(now or utcnow()) - timedelta(days=overdue_days))


def _review_row(submitted, confirmed, disputed, overdue, median) -> dict:
    total = int(submitted) + int(confirmed) + int(disputed)
    return {
        "total": total,
        "submitted": int(submitted),
        "confirmed": int(confirmed),
        "disputed": int(disputed),
        "overdue": int(overdue),
        "confirmation_rate": round(int(confirmed) / total, 4) if total else None,
        "median_hours_to_review": median,
    }


# --- the export audit ----------------------------------------------------------------------


def record_export(actor_id: int, report: str, filters: dict, output: str) -> None:
    """Audit the export in its own short write transaction (after the read one ends)."""
    db.session.commit()
    audit.record(
        "report_export",
        "report",
        report,
        actor_id=actor_id,
        changes={"report": report, "format": output, "filters": filters},
    )
    db.session.commit()
