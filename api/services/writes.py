"""Every activity write goes one way: a list of changes, numbered under the change feed's
lock and stored with one statement a table.

A ``Change`` is built by the activity rules (api.services.activities, api.services.review)
from the row as stored and the values it sets; ``store`` gives each change its place in the
change feed, then writes the activities, their revisions, the audit events and the report
rollup. A REST call stores a list of one, a sync push its whole batch, the demo loader its
chunks: the same rows, whatever the caller.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Table, and_, bindparam, insert, update

from api.errors import Conflict
from api.extensions import db
from api.models import Activity, ActivityDeparture, ActivityRevision
from api.models.activity import CONTENT_FIELDS
from api.models.counter import take_values
from api.services import audit, rollup

CHANGE_FEED = "activity"
ACTIVITY: Table = Activity.__table__
COLUMNS = tuple(column.key for column in ACTIVITY.columns)


@dataclass
class Change:
    """One write of an activity: the row as stored before (None for a create), the row
    after (every column), who made it, and the fields it changed as (old, new)."""

    before: dict | None
    after: dict
    action: str  # create, edit, delete, confirm, dispute
    actor_id: int
    fields: dict
    client_time: datetime | None = None
    audited: bool = True
    revision: dict = field(init=False)

    def __post_init__(self):
        self.revision = {
            name: {"from": as_json(old), "to": as_json(new)}
            for name, (old, new) in self.fields.items()
        }


def created(values: dict, actor_id: int, now: datetime, **extra) -> Change:
    """A new activity's change: ``values`` are its officer's fields (id, officer_id and
    content); the rest of the row is the model's starting state."""
    row = dict.fromkeys(COLUMNS) | {"audience": [], "participant_count": 0} | values
    row |= {"status": "submitted", "version": 1, "content_version": 1}
    row |= {"created_at": now, "updated_at": now, "submitted_at": now}
    fields = {name: (None, row[name]) for name in CONTENT_FIELDS if row[name] not in (None, [])}
    return Change(None, row, "create", actor_id, fields, **extra)


def changed(
    before: dict,
    values: dict,
    action: str,
    actor_id: int,
    now: datetime,
    fields: dict | None = None,
    **extra,
) -> Change:
    """A change of a stored activity setting ``values``. Its recorded fields are those of
    ``values`` that differ, unless given; an edit or delete moves content_version too."""
    if fields is None:
        fields = {
            name: (before[name], value)
            for name, value in values.items()
            if as_json(before[name]) != as_json(value)
        }
    after = before | values | {"version": before["version"] + 1, "updated_at": now}
    if action in ("edit", "delete"):
        after["content_version"] = after["version"]
    return Change(before, after, action, actor_id, fields, **extra)


def row_of(activity: Activity) -> dict:
    """An activity's row as stored (every column), from a loaded model."""
    return {name: getattr(activity, name) for name in COLUMNS}


def as_json(value: object) -> object:
    """A value as revisions keep it (times as RFC 3339 text in UTC), so values compare equal
    exactly when they are the same."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def store(changes: list[Change], *, roll_up: bool = True) -> None:
    """Write the changes in order, in the caller's transaction, with their revisions, audit
    events and rollup counts. Each change takes the next number of the change feed; an
    activity changed more than once is written once, as the last change left it.
    ``roll_up=False``: the caller recounts the rollup once afterwards (a bulk load)."""
    if not changes:
        return
    first = take_values(CHANGE_FEED, len(changes))
    spans: dict[uuid.UUID, tuple[Change, Change]] = {}  # activity id -> first, last change
    for offset, change in enumerate(changes):
        change.after["change_seq"] = first + offset
        opened = spans.get(change.after["id"])
        spans[change.after["id"]] = (opened[0] if opened else change, change)
    new = [_columns(last.after) for start, last in spans.values() if start.before is None]
    if new:
        db.session.connection().execute(insert(ACTIVITY), new)
    _update([(start.before, last.after) for start, last in spans.values() if start.before])
    revisions = [_revision(change) for change in changes]
    db.session.connection().execute(insert(ActivityRevision.__table__), revisions)
    _departures(changes)
    audit.append([_event(change) for change in changes if change.audited])
    if not roll_up:
        return
    moves = [(start.before, last.after) for start, last in spans.values()]
    rollup.add([(rollup.state_of(before), rollup.state_of(after)) for before, after in moves])


_UPDATE = (
    update(ACTIVITY)
    .where(and_(ACTIVITY.c.id == bindparam("_id"), ACTIVITY.c.version == bindparam("_version")))
    .values({name: bindparam(name) for name in COLUMNS if name != "id"})
)


def _update(rows: list[tuple[dict, dict]]) -> None:
    """Update stored activities (row before, row after), each only if still at the
    version it was read at."""
    if not rows:
        return
    params = [{"_id": old["id"], "_version": old["version"]} | _columns(new) for old, new in rows]
    if db.session.connection().execute(_UPDATE, params).rowcount != len(params):
        raise Conflict(
            "The activity changed while this change was being saved; reload and try again.",
            code="concurrent_change",
        )


def _departures(changes: list[Change]) -> None:
    """Each move of an activity away from a school, for that school's leaders' pulls."""
    moves = [
        {"change_seq": c.after["change_seq"], "activity_id": c.after["id"], "school_id": left}
        for c in changes
        if c.before and (left := c.before["school_id"]) != c.after["school_id"]
    ]
    if moves:
        db.session.connection().execute(insert(ActivityDeparture.__table__), moves)


def _columns(row: dict) -> dict:
    return {name: row[name] for name in COLUMNS}


def _revision(change: Change) -> dict:
    after = change.after
    return {
        "activity_id": after["id"],
        "version": after["version"],
        "action": change.action,
        "actor_id": change.actor_id,
        "at": after["updated_at"],
        "client_time": change.client_time,
        "changes": change.revision,
    }


def _event(change: Change) -> dict:
    after = change.after
    return {
        "action": f"activity_{change.action}",
        "target_type": "activity",
        "target_id": str(after["id"]),
        "actor_id": change.actor_id,
        "client_time": change.client_time,
        "changes": {
            "fields": sorted(change.fields),
            "version": after["version"],
            "status": after["status"],
        },
    }
