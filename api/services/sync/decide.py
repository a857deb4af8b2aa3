"""Every item of a push decided in order, in plain Python: what the device is told, and the
changes to store. Nothing here touches the database: the batch's state is read before
(outbox.read) and the changes are written after (writes.store).

Each item is one of:
- ``rejected``: it cannot be read, breaks a rule, or names an activity that is not there;
- ``duplicate``: its mutation_id was applied before; the stored result, unchanged;
- ``conflict``: the activity changed on the server in a way the change cannot merge with
  (see merge.py); the server copy comes back and nothing is written;
- ``applied``: stored (a create, an edit merged on top of the current copy, a delete), or
  already so (a resend of a create, a delete of a deleted activity).
An applied result is kept with its mutation_id, so a retry is answered the same way.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from api.errors import ApiError, Conflict, NotFound
from api.models import Activity
from api.models.sync import APPLIED
from api.schemas.sync import SyncActivitySchema
from api.services import activities
from api.services.sync import merge
from api.services.sync.items import Item
from api.services.writes import Change

CONFLICT = "conflict"
Judged = tuple[str, dict, Change | None]  # status, the activity's row, the change to store

_activity_schema = SyncActivitySchema()


@dataclass
class Officer:
    """Who pushes: id, display name, and the schools they may write at."""

    id: int
    name: str
    writable: frozenset[int]


@dataclass
class State:
    """What the batch names, as stored: rows of its activities, the recent revisions
    (version, changes) of those it merges with, and the stored results of its mutation_ids
    ({user_id, request_hash, result}). Kept current as the batch is decided."""

    rows: dict[uuid.UUID, dict]
    revisions: dict[uuid.UUID, list[tuple[int, dict]]]
    stored: dict[uuid.UUID, dict]


@dataclass
class Decided:
    results: list[dict] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    applied: list[tuple[Item, dict]] = field(default_factory=list)  # (item, result to keep)


def decide(items: list[Item], read: State, officer: Officer, now: datetime) -> Decided:
    """Decide the items in order, each seeing what the ones before it did (on a copy of
    the state read, which is left as it was)."""
    state = State(
        dict(read.rows),
        {key: list(value) for key, value in read.revisions.items()},
        dict(read.stored),
    )
    decided = Decided()
    for item in items:
        decided.results.append(_decide_one(item, state, officer, now, decided))
    return decided


def _decide_one(item: Item, state: State, officer: Officer, now: datetime, decided) -> dict:
    if item.error is not None:
        return rejected(item, item.error)
    previous = state.stored.get(item.mutation_id)
    if previous is not None:
        return _replayed(item, previous, officer.id)
    try:
        status, row, change = _judge(item, state, officer, now)
    except ApiError as error:
        return rejected(item, error)
    if change is not None:
        row = state.rows[row["id"]] = change.after
        state.revisions.setdefault(row["id"], []).append((row["version"], change.revision))
        decided.changes.append(change)
    payload = activity_payload(row | {"officer_name": officer.name})
    if status == APPLIED:
        kept = {"activity": payload}
        state.stored[item.mutation_id] = {
            "user_id": officer.id,
            "request_hash": item.request_hash,
            "result": kept,
        }
        decided.applied.append((item, kept))
    return _outcome(item, status, payload)


def _judge(item: Item, state: State, officer: Officer, now: datetime) -> Judged:
    row = state.rows.get(item.activity_id)
    if row is not None and row["officer_id"] != officer.id:
        if item.op == "upsert" and item.base_version is None:
            raise Conflict("An activity with this id already exists.", code="id_conflict")
        row = None  # another officer's activity is not there for this one
    if item.op == "delete":
        return _delete(item, row, state, officer, now)
    if row is None:
        return _create(item, officer, now)
    if item.base_version is None:
        return _resend(item, row)
    return _edit(item, row, state, officer, now)


def _create(item: Item, officer: Officer, now: datetime) -> Judged:
    """A new activity; an edit of one the server does not have is not found."""
    if item.base_version is not None:
        raise NotFound("No such activity.")
    data = {"id": item.activity_id, **_content(item)}
    change = activities.creation(officer.id, data, officer.writable, now, item.client_time)
    return APPLIED, change.after, change


def _resend(item: Item, row: dict) -> Judged:
    """The device thinks it is new: a resend under a fresh mutation_id, or a clash."""
    same = row["deleted_at"] is None and activities.same_content(row, _content(item))
    return (APPLIED if same else CONFLICT), row, None


def _edit(item: Item, row: dict, state: State, officer: Officer, now: datetime) -> Judged:
    """The fields this change made, on top of the current copy, unless they clash."""
    mine = _content(item)
    if row["deleted_at"] is not None and item.base_version == row["version"]:
        # The device knew it was deleted: refused as the REST edit refuses it.
        activities.edition(row, officer.id, mine, officer.writable, now)
    decision = _merge(row, item.base_version, mine, state)
    if decision.conflict:
        return CONFLICT, row, None
    change = None
    if decision.changes:
        wanted = {name: mine[name] for name in decision.changes}
        writable, client_time = officer.writable, item.client_time
        change = activities.edition(row, officer.id, wanted, writable, now, client_time)
    return APPLIED, row, change


def _delete(item: Item, row: dict | None, state: State, officer: Officer, now) -> Judged:
    if row is None:
        raise NotFound("No such activity.")
    if row["deleted_at"] is not None:
        return APPLIED, row, None
    base = item.base_version
    if base is not None and _merge(row, base, None, state).conflict:
        return CONFLICT, row, None  # content changed since the copy it was deleted from
    actor = (officer.id, "officer")
    change = activities.deletion(row, actor, officer.writable, now, item.client_time)
    return APPLIED, row, change


def _merge(row: dict, base_version: int, mine: dict | None, state: State) -> merge.Decision:
    """The three-way decision (merge.decide) for this activity as the server has it."""
    if row["deleted_at"] is not None:
        current = base = None
    else:
        current = merge.as_json(activities.content_of(row))
        base = merge.content_at(row, base_version, state.revisions.get(row["id"], []))
    return merge.decide(base, current, None if mine is None else merge.as_json(mine))


def _content(item: Item) -> dict:
    if item.content_error is not None:
        raise item.content_error
    return item.content


def activity_payload(activity: dict | Activity) -> dict:
    """How an activity travels to devices: the full record, or its tombstone. Of a model,
    or of a row with its officer_name."""
    get = activity.get if isinstance(activity, dict) else partial(getattr, activity)
    if get("deleted_at") is not None:
        return {"id": str(get("id")), "deleted": True, "version": get("version")}
    return _activity_schema.dump(activity)


def _outcome(item: Item, status: str, payload: dict) -> dict:
    """An applied mutation's result, or a version conflict's with the server copy."""
    result = {"mutation_id": str(item.mutation_id), "status": status, "activity": payload}
    if status == CONFLICT:
        result["error"] = Conflict(
            "The activity changed on the server since this change was made; "
            "the server copy is attached.",
            code="version_conflict",
        ).to_dict()
    return result


def _replayed(item: Item, previous: dict, officer_id: int) -> dict:
    """A mutation_id seen before: its stored result, or refused if it asked otherwise."""
    if previous["user_id"] == officer_id and previous["request_hash"] == item.request_hash:
        return {"mutation_id": str(item.mutation_id), "status": "duplicate", **previous["result"]}
    error = Conflict(
        "This mutation_id was already used for a different change; "
        "give every new change a new mutation_id.",
        code="mutation_id_reused",
    )
    return rejected(item, error)


def rejected(item: Item, error: ApiError) -> dict:
    """A mutation's result when it was refused, with the error in the usual shape."""
    mutation_id = str(item.mutation_id) if item.mutation_id else None
    return {"mutation_id": mutation_id, "status": "rejected", "error": error.to_dict()}
