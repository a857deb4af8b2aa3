"""Push: a device's outbox, applied in order in four steps.

1. Parse: every item is read with the schemas (items.parse).
2. Read: what the batch names, in a few queries (``read``).
3. Decide: every item in plain Python (decide.decide), in order.
4. Write: under the write lock, what the batch names is read again; if another write has
   changed any of it since, the batch is decided again on what is there now. Then the
   changes are written with one statement a table (writes.store) and the applied results
   kept with their mutation_ids; one commit.
Steps 1-3, most of the work, run before the lock, so pushes from several workers overlap.
"""

import uuid
from datetime import datetime

from sqlalchemy import insert, select

from api.database import start_writing, writer_queue
from api.extensions import db
from api.models import Activity, ActivityRevision, SyncMutation, User
from api.models.sync import APPLIED
from api.models.types import utcnow
from api.services import schools, writes
from api.services.activities import lock_change_feed
from api.services.sync.decide import Decided, Officer, State, decide
from api.services.sync.items import Item, parse


def push(officer: User, device_id: uuid.UUID, raw: list) -> list[dict]:
    """Apply the device's mutations in order; one result a mutation, in the same order."""
    now = utcnow()
    items = [parse(item) for item in raw]
    me = Officer(officer.id, officer.display_name, schools.writable_ids(officer.id))
    seen = read(items)
    decided = decide(items, seen, me, now)  # on what the batch names now, before the lock
    start_writing()  # the reading (sign-in, parsing, deciding) is done: from here, a writer
    with writer_queue():
        lock_change_feed()  # the lock every write takes first: pushes cannot interleave
        current = read(items)
        if current != seen:  # another write touched what the batch names: decide again
            decided = decide(items, current, me, now)
        writes.store(decided.changes)
        _keep(decided, me.id, device_id, now)
        db.session.commit()
    return decided.results


def read(items: list[Item]) -> State:
    """The rows of the activities the batch names, the stored results of its mutation_ids,
    and the revisions of the activities it merges changes into (made on an older copy)."""
    readable = [item for item in items if item.error is None]
    activity, kept = Activity.__table__.c, SyncMutation.__table__.c
    shown = [Activity.__table__, Activity.reopened_from.label("reopened_from")]
    rows = _select(shown, activity.id, {i.activity_id for i in readable})
    stored = _select(
        [kept.mutation_id, kept.user_id, kept.request_hash, kept.result],
        kept.mutation_id,
        {i.mutation_id for i in readable},
    )
    merging: dict[uuid.UUID, int] = {}  # activity id -> the oldest base it is merged from
    for item in readable:
        current = rows.get(item.activity_id, {}).get("version", 0)
        if item.base_version is not None and item.base_version < current:
            oldest = merging.get(item.activity_id, item.base_version)
            merging[item.activity_id] = min(oldest, item.base_version)
    return State(rows, _revisions(merging), stored)


def _select(columns: list, key, ids: set) -> dict:
    """Rows (as dicts) by key, for the ids that exist (a push names at most 500)."""
    rows = db.session.execute(select(*columns).where(key.in_(ids))).mappings()
    return {row[key.key]: dict(row) for row in rows}


def _revisions(merging: dict[uuid.UUID, int]) -> dict[uuid.UUID, list[tuple[int, dict]]]:
    """The revisions after the oldest base version each activity is merged from."""
    revisions: dict[uuid.UUID, list[tuple[int, dict]]] = {}
    if not merging:
        return revisions
    history = ActivityRevision.__table__.c
    query = select(history.activity_id, history.version, history.changes).where(
        history.activity_id.in_(merging), history.version > min(merging.values())
    )
    for activity_id, version, changes in db.session.execute(query):
        if version > merging[activity_id]:
            revisions.setdefault(activity_id, []).append((version, changes))
    return revisions


def _keep(decided: Decided, officer_id: int, device_id: uuid.UUID, now: datetime) -> None:
    """Keep each applied result with its mutation_id: a retry is then a duplicate."""
    rows = [
        {
            "mutation_id": item.mutation_id,
            "user_id": officer_id,
            "device_id": device_id,
            "activity_id": item.activity_id,
            "op": item.op,
            "request_hash": item.request_hash,
            "status": APPLIED,
            "result": result,
            "created_at": now,
        }
        for item, result in decided.applied
    ]
    if rows:
        db.session.execute(insert(SyncMutation.__table__), rows)
