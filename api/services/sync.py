"""Offline sync: apply a device's outbox (push) and feed it the changes it lacks (pull).

Push applies each mutation in order inside its own savepoint, so one bad item never sinks the
others, and stores the result of every applied mutation in the same transaction as the change:
a retry of the same ``mutation_id`` (also after a crash between commit and response) finds it
and answers ``duplicate`` with the stored result, writing nothing.

Pull walks the change feed by ``change_seq``, a number taken from a counter inside every
writing transaction whose row lock is held to commit, so sequence order is commit order and a
cursor never skips a change that commits late.
"""

import base64
import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from marshmallow import ValidationError, fields
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from api.database import begin_as_reader
from api.errors import ApiError, Conflict, Invalid, NotFound, flatten_messages
from api.extensions import _unstorable_text as unstorable_text
from api.extensions import db, json_type_problems
from api.models import (
    Activity,
    ActivityRevision,
    AuditEvent,
    SequenceCounter,
    SyncMutation,
    User,
)
from api.models.activity import CONTENT_FIELDS
from api.models.types import utcnow
from api.schemas.activity import ActivityContentSchema
from api.schemas.sync import MutationSchema, SyncActivitySchema
from api.services import activities, audit, rollup

log = logging.getLogger(__name__)

FEED = activities.CHANGE_FEED
APPLIED = "applied"
CHUNK = 500
AUDIT_COUNTER = "audit"
MAX_VERSION = 2**31 - 1

_mutation_schema = MutationSchema()
_full_content = ActivityContentSchema()
_partial_content = ActivityContentSchema(partial=True)
_activity_schema = SyncActivitySchema()


@dataclass
class Mutation:
    """One parsed push item; ``error`` is set when it could not be parsed."""

    mutation_id: uuid.UUID | None
    op: str = ""
    activity_id: uuid.UUID | None = None
    base_version: int | None = None
    data: object = None
    client_time: datetime | None = None
    request_hash: str = ""
    error: ApiError | None = None
    create: "PreparedCreate | None" = None  # a would-be create, its rows built


# --- push --------------------------------------------------------------------------------


def push(officer: User, device_id: uuid.UUID, items: list) -> list[dict]:
    """Apply each mutation in order, each on its own; one result a mutation, same order."""
    # The signed-in user arrives as a request-local proxy; resolve it once, not per access.
    officer = getattr(officer, "_get_current_object", lambda: officer)()
    officer_id, officer_name = officer.id, officer.display_name
    dialect = db.session.get_bind().dialect
    # End the sign-in check's (read) transaction: parsing, validating and building rows,
    # the bulk of the work, run outside any transaction; the write lock is for writing.
    db.session.commit()
    begin_as_reader(False)  # from here on, transactions begin as writers
    now, memo = utcnow(), {}
    mutations = [parse_mutation(item) for item in items]
    for mutation in mutations:
        content = _create_content(mutation)
        if content is not None:
            mutation.create = prepare_create(
                officer_id, officer_name, device_id, mutation, content, now, dialect, memo
            )
    with writer_queue():
        lock_feed()
        return OutboxRun(officer, device_id, mutations).apply()


def _create_content(mutation: Mutation) -> dict | None:
    """Validated, normalised content of a would-be create; None when not one or invalid
    (the one-by-one path then decides and words any rejection)."""
    if mutation.error or mutation.op != "upsert" or mutation.base_version is not None:
        return None
    if not isinstance(mutation.data, dict):
        return None
    try:
        return activities.normalise_content(load_content(mutation.data, partial=False))
    except ValidationError:
        return None


def load_content(data: object, *, partial: bool) -> dict:
    """Load content exactly as the REST endpoints do: JSON types as documented, then the
    schema (marshmallow alone would take "45" for 45)."""
    problems = json_type_problems(_full_content, data)
    if problems:
        raise ValidationError(problems)
    return (_partial_content if partial else _full_content).load(data)


@contextlib.contextmanager
def writer_queue():
    """On a SQLite file, queue pushes on an OS file lock before they take the database's
    write lock: SQLite's busy handler polls with sleeps of up to 100 ms, so a waiting worker
    can sleep well past the moment the lock is freed, while a blocked flock() wakes at once.
    Other writers still rely on busy_timeout."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    with open(f"{url.database}-push.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_feed() -> None:
    """Take the change-feed counter's row lock first (PostgreSQL), so every read below sees
    the latest commits and concurrent pushes cannot interleave; SQLite's BEGIN IMMEDIATE
    already holds the database's write lock."""
    db.session.execute(
        select(SequenceCounter.value).where(SequenceCounter.name == FEED).with_for_update()
    )


_ENVELOPE_KEYS = frozenset(("mutation_id", "op", "activity_id", "base_version", "data"))


def parse_mutation(item: object) -> Mutation:
    """Validate one push item's envelope; a failure becomes that item's rejection."""
    mutation_id = _uuid_or_none(item.get("mutation_id") if isinstance(item, dict) else None)
    if unstorable_text(item):
        # Checked here, not for the whole body, so that it fails this mutation only.
        return Mutation(
            mutation_id=mutation_id,
            error=Invalid(
                "Text must be valid Unicode without NUL (\\u0000) characters.",
                details={"_mutation": ["Remove NUL characters and unpaired surrogates."]},
            ),
        )
    fast = _parse_plain(item)
    if fast is not None:
        return fast
    try:
        problems = json_type_problems(_mutation_schema, item)
        if problems:
            raise ValidationError(problems)
        loaded = _mutation_schema.load(item)
    except ValidationError as error:
        details = flatten_messages(error.messages)
        return Mutation(
            mutation_id=mutation_id,
            error=Invalid(f"Invalid mutation: {', '.join(sorted(details))}.", details=details),
        )
    if loaded["client_time"] is not None:
        loaded["client_time"] = loaded["client_time"].astimezone(UTC)
    return Mutation(**loaded, request_hash=request_hash(loaded, item))


def _parse_plain(item: object) -> Mutation | None:
    """The common, plainly valid envelope without marshmallow's per-field machinery; anything
    else (None here) goes through MutationSchema, which also words the errors."""
    if not isinstance(item, dict) or not item.keys() <= _ENVELOPE_KEYS:
        return None
    op, base = item.get("op"), item.get("base_version")
    if op not in ("upsert", "delete") or not (base is None or type(base) is int):
        return None
    if base is not None and not 1 <= base <= MAX_VERSION:
        return None
    try:
        loaded = {
            "mutation_id": uuid.UUID(item["mutation_id"]),
            "op": op,
            "activity_id": uuid.UUID(item["activity_id"]),
            "base_version": base,
            "data": item.get("data"),
            "client_time": None,
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Mutation(**loaded, request_hash=request_hash(loaded, item))


def request_hash(loaded: dict, item: dict) -> str:
    """What the mutation asks for (not when the device says it did it), hashed."""
    content = {
        "op": loaded["op"],
        "activity_id": str(loaded["activity_id"]),
        "base_version": loaded["base_version"],
        "data": item.get("data"),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _chunks(values) -> list[list]:
    values = list(values)
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


@dataclass
class StoredResult:
    """What a retry of an applied mutation is answered with (a SyncMutation's fields)."""

    user_id: int
    request_hash: str
    result: dict


class OutboxRun:
    """One push, applied in order with per-item outcomes.

    Most of an outbox is new activities. Runs of plainly valid creates (new id, new
    mutation_id, content valid, school assigned) are written together: one savepoint, one
    counter bump, multi-row inserts. Their outcome cannot differ from the one-by-one path,
    which everything else (edits, deletes, conflicts, rejections, and a run whose bulk write
    breaks a database constraint) takes, each item in its own savepoint.
    """

    def __init__(self, officer: User, device_id: uuid.UUID, mutations: list[Mutation]):
        self.officer = officer
        self.school_ids = frozenset(officer.school_ids)  # read under the lock
        self.device_id = device_id
        self.mutations = mutations
        valid = [m for m in mutations if m.error is None]
        self.stored = self._stored({m.mutation_id for m in valid})
        self.known = self._known({m.activity_id for m in valid})
        self.bulk_created: set[uuid.UUID] = set()
        self.results: list[dict | None] = [None] * len(mutations)
        self.run: list[tuple[int, Mutation]] = []

    @staticmethod
    def _stored(ids: set[uuid.UUID]) -> dict:
        found: dict = {}
        for chunk in _chunks(ids):
            query = select(SyncMutation).where(SyncMutation.mutation_id.in_(chunk))
            found.update((m.mutation_id, m) for m in db.session.scalars(query))
        return found

    @staticmethod
    def _known(ids: set[uuid.UUID]) -> dict[uuid.UUID, Activity]:
        """Every activity the batch names, in one query per 500; absent ids are new."""
        found: dict[uuid.UUID, Activity] = {}
        for chunk in _chunks(ids):
            query = select(Activity).where(Activity.id.in_(chunk))
            found.update((a.id, a) for a in db.session.scalars(query))
        return found

    def apply(self) -> list[dict]:
        in_run: set[uuid.UUID] = set()
        for index, mutation in enumerate(self.mutations):
            if self._plain_create(mutation, in_run):
                self.run.append((index, mutation))
                in_run.update((mutation.mutation_id, mutation.activity_id))
                continue
            self._write_run()
            in_run.clear()
            self.results[index] = self._apply_one(mutation)
        self._write_run()
        db.session.commit()
        return self.results

    # -- the bulk path for plain creates --

    def _plain_create(self, mutation: Mutation, in_run: set) -> bool:
        """Whether this is a valid create that nothing in the database could stop."""
        return not (
            mutation.create is None
            or mutation.mutation_id in self.stored
            or mutation.activity_id in self.known
            or mutation.activity_id in self.bulk_created
            or mutation.mutation_id in in_run
            or mutation.activity_id in in_run
            or mutation.create.school_id not in self.school_ids
        )

    def _write_run(self) -> None:
        if not self.run:
            return
        run, self.run = self.run, []
        try:
            with db.session.begin_nested():
                write_creates([mutation.create for _, mutation in run])
        except (IntegrityError, BulkUnavailable):
            log.warning("bulk create fell back to one-by-one", exc_info=True)
            for index, mutation in run:
                self.results[index] = self._apply_one(mutation)
            return
        for index, mutation in run:
            payload = mutation.create.payload
            self.results[index] = {
                "mutation_id": str(mutation.mutation_id),
                "status": APPLIED,
                "activity": payload,
            }
            self.stored[mutation.mutation_id] = StoredResult(
                self.officer.id, mutation.request_hash, {"activity": payload}
            )
            self.bulk_created.add(mutation.activity_id)

    # -- one by one --

    def _activity(self, activity_id: uuid.UUID) -> Activity | None:
        activity = self.known.get(activity_id)
        if activity is None and activity_id in self.bulk_created:
            activity = self.known[activity_id] = db.session.get(Activity, activity_id)
        return activity

    def _apply_one(self, mutation: Mutation) -> dict:
        if mutation.error is not None:
            return rejected(mutation, mutation.error)
        previous = self.stored.get(mutation.mutation_id)
        if previous is not None:
            if previous.user_id == self.officer.id and (
                previous.request_hash == mutation.request_hash
            ):
                return {
                    "mutation_id": str(mutation.mutation_id),
                    "status": "duplicate",
                    **previous.result,
                }
            return rejected(
                mutation,
                Conflict(
                    "This mutation_id was already used for a different change; "
                    "give every new change a new mutation_id.",
                    code="mutation_id_reused",
                ),
            )
        try:
            with db.session.begin_nested():
                status, activity = _apply(
                    self.officer, mutation, self._activity(mutation.activity_id)
                )
                payload = activity_payload(activity)
                if status == APPLIED:
                    db.session.add(
                        SyncMutation(
                            mutation_id=mutation.mutation_id,
                            user_id=self.officer.id,
                            device_id=self.device_id,
                            activity_id=mutation.activity_id,
                            op=mutation.op,
                            request_hash=mutation.request_hash,
                            status=APPLIED,
                            result={"activity": payload},
                        )
                    )
        except ApiError as error:
            return rejected(mutation, error)
        except IntegrityError:
            log.warning("sync mutation broke a database constraint", exc_info=True)
            return rejected(
                mutation,
                Conflict(
                    "The change breaks a data rule and was not stored.", code="integrity_error"
                ),
            )
        result = {"mutation_id": str(mutation.mutation_id), "status": status, "activity": payload}
        if status == APPLIED:
            self.stored[mutation.mutation_id] = StoredResult(
                self.officer.id, mutation.request_hash, {"activity": payload}
            )
            self.known[mutation.activity_id] = activity
        else:
            result["error"] = {
                "code": "version_conflict",
                "message": "The activity changed on the server since this change was made; "
                "the server copy is attached.",
            }
        return result


class BulkUnavailable(Exception):
    """A precondition of the bulk path does not hold; take the one-by-one path."""


@dataclass
class PreparedCreate:
    """A valid create's rows, built (and bound for the database) before the write lock;
    only the sequence numbers and the audit hash are filled in under it."""

    school_id: int
    activity: dict
    revision: dict
    event: SimpleNamespace
    audit: dict
    mutation: dict
    payload: dict
    cells: dict


def prepare_create(
    officer_id: int,
    officer_name: str,
    device_id: uuid.UUID,
    mutation: Mutation,
    content: dict,
    now: datetime,
    dialect: Dialect,
    memo: dict,
) -> PreparedCreate:
    """The rows activities.create() would store for this mutation, one-by-one."""
    values = {name: content.get(name) for name in CONTENT_FIELDS}
    activity = {
        "id": mutation.activity_id,
        "officer_id": officer_id,
        **values,
        "status": "submitted",
        "review_note": None,
        "reviewed_by": None,
        "reviewed_at": None,
        "version": 1,
        "content_version": 1,
        "change_seq": 0,  # taken under the lock
        "deleted_at": None,
        "created_at": now,
        "updated_at": now,
    }
    changes = [name for name, value in values.items() if value not in (None, [])]
    revision = {
        "activity_id": mutation.activity_id,
        "version": 1,
        "action": "create",
        "actor_id": officer_id,
        "at": now,
        "client_time": mutation.client_time,
        "changes": {k: {"from": None, "to": activities._jsonable(values[k])} for k in changes},
    }
    client_time = mutation.client_time
    event = SimpleNamespace(
        seq=0,  # taken under the lock, with the hash chain
        at=now.replace(microsecond=0),
        client_time=client_time.astimezone(UTC).replace(microsecond=0) if client_time else None,
        actor_id=officer_id,
        action="activity_create",
        target_type="activity",
        target_id=str(mutation.activity_id),
        changes={"fields": sorted(changes), "version": 1, "status": "submitted"},
    )
    payload = row_payload(activity)
    payload["officer_name"] = officer_name
    record = {
        "mutation_id": mutation.mutation_id,
        "user_id": officer_id,
        "device_id": device_id,
        "activity_id": mutation.activity_id,
        "op": mutation.op,
        "request_hash": mutation.request_hash,
        "status": APPLIED,
        "result": {"activity": payload},
        "created_at": now,
    }
    audit_row = {k: v for k, v in vars(event).items() if k != "seq"}
    return PreparedCreate(
        school_id=values["school_id"],
        activity=bind_values(Activity.__table__, activity, dialect, memo),
        revision=bind_values(ActivityRevision.__table__, revision, dialect, memo),
        event=event,
        audit=bind_values(AuditEvent.__table__, audit_row, dialect, memo),
        mutation=bind_values(SyncMutation.__table__, record, dialect, memo),
        payload=payload,
        cells=rollup._cells(rollup.state_of(activity), 1),
    )


def _take(counter: str, count: int) -> int:
    """Take ``count`` consecutive values of a counter in this transaction; return the first."""
    statement = (
        update(SequenceCounter)
        .where(SequenceCounter.name == counter)
        .values(value=SequenceCounter.value + count)
        .returning(SequenceCounter.value)
    )
    last = db.session.execute(statement).scalar_one_or_none()
    if last is None:
        raise BulkUnavailable(f"no {counter!r} counter row")
    return last - count + 1


def write_creates(run: list[PreparedCreate]) -> None:
    """Store a run of prepared creates with one multi-row insert a table: the same rows,
    sequence numbers, audit chain and rollup counts as one activities.create() each."""
    first_change = _take(FEED, len(run))
    first_event = _take(AUDIT_COUNTER, len(run))
    previous = db.session.execute(
        select(AuditEvent.hash).where(AuditEvent.seq == first_event - 1)
    ).scalar()
    previous = previous or audit.GENESIS
    cells: dict[tuple, list[int]] = {}
    for offset, create in enumerate(run):
        create.activity["change_seq"] = first_change + offset
        event = create.event
        event.seq = first_event + offset
        event.prev_hash = previous
        event.hash = previous = audit.chain_hash(previous, event)
        create.audit.update(seq=event.seq, prev_hash=event.prev_hash, hash=event.hash)
        for key, (count, minutes) in create.cells.items():
            total = cells.setdefault(key, [0, 0])
            total[0] += count
            total[1] += minutes
    insert_bound(Activity.__table__, [c.activity for c in run])
    insert_bound(ActivityRevision.__table__, [c.revision for c in run])
    insert_bound(AuditEvent.__table__, [c.audit for c in run])
    insert_bound(SyncMutation.__table__, [c.mutation for c in run])
    rollup_rows = [
        {**dict(zip(rollup.DIMENSIONS, key, strict=True)), "count": c, "minutes": m}
        for key, (c, m) in cells.items()
    ]
    if rollup_rows:
        rollup._upsert(db.session.get_bind().dialect.name, rollup_rows)


@functools.cache
def _bind_processors(table: Table, dialect: Dialect) -> dict:
    return {
        column.key: column.type.dialect_impl(dialect).bind_processor(dialect)
        for column in table.columns
    }


def bind_values(table: Table, row: dict, dialect: Dialect, memo: dict) -> dict:
    """Convert values for the driver as SQLAlchemy would (UUIDs, UTC times, JSON).
    ``memo`` keeps converted timestamps: a push stamps every row with the same time."""
    processors = _bind_processors(table, dialect)
    bound = {}
    for key, value in row.items():
        processor = processors[key]
        if processor is None or value is None:
            bound[key] = value if processor is None else processor(value)
        elif type(value) is datetime:
            cached = memo.get((processor, value))
            if cached is None:
                cached = memo[(processor, value)] = processor(value)
            bound[key] = cached
        else:
            bound[key] = processor(value)
    return bound


@functools.cache
def _insert_sql(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, tuple]:
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    return str(compiled), tuple(compiled.positiontup or ()) if compiled.positional else ()


def insert_bound(table: Table, rows: list[dict]) -> None:
    """executemany of rows already bound by bind_values (no per-row SQLAlchemy work)."""
    connection = db.session.connection()
    sql, order = _insert_sql(table, connection.dialect, tuple(rows[0]))
    params = [tuple(row[key] for key in order) for row in rows] if order else rows
    connection.exec_driver_sql(sql, params)


def _payload_kinds() -> list[tuple[str, str]]:
    kinds = []
    for name, field in SyncActivitySchema().fields.items():
        if name in ("deleted", "officer_name"):
            continue
        kind = "uuid" if isinstance(field, fields.UUID) else ""
        kinds.append((name, "time" if isinstance(field, fields.DateTime) else kind))
    return kinds


_PAYLOAD_KINDS = _payload_kinds()


def row_payload(row: dict) -> dict:
    """What activity_payload() makes of a live activity, from a row dict without the
    schema's per-field machinery (a test holds the two to the same output)."""
    payload = {}
    for name, kind in _PAYLOAD_KINDS:
        value = row[name]
        if value is not None and kind:
            value = str(value) if kind == "uuid" else value.isoformat()
        payload[name] = value
    return payload


def rejected(mutation: Mutation, error: ApiError) -> dict:
    mutation_id = str(mutation.mutation_id) if mutation.mutation_id else None
    return {"mutation_id": mutation_id, "status": "rejected", "error": error.to_dict()}


def _apply(officer: User, mutation: Mutation, activity: Activity | None) -> tuple[str, Activity]:
    """Decide and write one mutation: ("applied" | "conflict", the activity)."""
    if activity is not None and activity.officer_id != officer.id:
        if mutation.op == "upsert" and mutation.base_version is None:
            raise Conflict("An activity with this id already exists.", code="id_conflict")
        activity = None
    if mutation.op == "delete":
        return _apply_delete(officer, mutation, activity)
    return _apply_upsert(officer, mutation, activity)


def _stale(activity: Activity, base_version: int) -> bool:
    """Stale means the content changed since the client's base (reviews alone do not count)."""
    return base_version > activity.version or activity.content_version > base_version


def _apply_upsert(
    officer: User, mutation: Mutation, activity: Activity | None
) -> tuple[str, Activity]:
    if activity is None:
        if mutation.base_version is not None:
            raise NotFound("No such activity.")
        content = _content(mutation.data, partial=False)
        created = activities.create(
            officer, {"id": mutation.activity_id, **content}, client_time=mutation.client_time
        )
        return APPLIED, created
    if mutation.base_version is None:
        # The device thinks it is new: a resend under a fresh mutation_id, or a clash.
        content = activities.normalise_content(_content(mutation.data, partial=False))
        if not activity.is_deleted and activities.same_content(activity, content):
            return APPLIED, activity
        return "conflict", activity
    content = _content(mutation.data, partial=True)
    if mutation.base_version != activity.version and _stale(activity, mutation.base_version):
        wanted = activities.normalise_content(content)
        if not activity.is_deleted and activities.same_content(
            activity, {**activity.content(), **wanted}
        ):
            return APPLIED, activity  # already so on the server: nothing to resolve
        return "conflict", activity
    activities.edit(activity, officer, content, client_time=mutation.client_time)
    return APPLIED, activity


def _apply_delete(
    officer: User, mutation: Mutation, activity: Activity | None
) -> tuple[str, Activity]:
    if activity is None:
        raise NotFound("No such activity.")
    if activity.is_deleted:
        return APPLIED, activity
    if mutation.base_version is not None and _stale(activity, mutation.base_version):
        return "conflict", activity
    activities.delete(activity, officer, client_time=mutation.client_time)
    return APPLIED, activity


def _content(data: object, *, partial: bool) -> dict:
    if data is None:
        raise Invalid("An upsert needs its data.", details={"data": ["Missing data."]})
    try:
        return load_content(data, partial=partial)
    except ValidationError as error:
        details = flatten_messages(error.messages, "data")
        raise Invalid(
            f"Invalid input in: {', '.join(sorted(details))}.", details=details
        ) from error


def activity_payload(activity: Activity) -> dict:
    """How an activity travels to devices: the full record, or its tombstone."""
    if activity.is_deleted:
        return {"id": str(activity.id), "deleted": True, "version": activity.version}
    return _activity_schema.dump(activity)


# --- pull --------------------------------------------------------------------------------


def pull(user: User, since: str | None, limit: int) -> dict:
    """The caller's changes after the cursor, in commit order, or {"reset": true}."""
    scope = scope_key(user)
    after = 0
    if since:
        after, cursor_scope = decode_cursor(since)
        if cursor_scope != scope:
            return {"reset": True}
    query = (
        activities.scoped(user)
        .where(Activity.change_seq > after)
        .order_by(Activity.change_seq)
        .limit(limit + 1)
    )
    rows = list(db.session.scalars(query))
    # Read the purge mark after the changes: a purge committed in between shows up here.
    current, purged_through = db.session.execute(
        select(SequenceCounter.value, SequenceCounter.purged_through).where(
            SequenceCounter.name == FEED
        )
    ).one()
    if since and (after < purged_through or after > current):
        return {"reset": True}
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].change_seq if rows else after
    return {
        "changes": [_tombstone(a) if a.is_deleted else a for a in rows],
        "cursor": encode_cursor(last, scope),
        "has_more": has_more,
    }


def _tombstone(activity: Activity) -> dict:
    return {"id": activity.id, "deleted": True, "version": activity.version}


def scope_key(user: User) -> str:
    """Who is pulling and what they may see; a cursor from another scope means reset."""
    raw = f"{user.id}|{user.role}|{','.join(map(str, user.school_ids))}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_cursor(sequence: int, scope: str) -> str:
    raw = json.dumps([sequence, scope], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        sequence, scope = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if type(sequence) is not int or not 0 <= sequence < 2**63 or not isinstance(scope, str):
            raise ValueError("bad cursor")
    except (ValueError, TypeError) as error:
        raise Invalid(
            "The cursor is not valid; pull without `since` to start over.",
            details={"since": ["Invalid cursor."]},
        ) from error
    return sequence, scope


# --- retention ---------------------------------------------------------------------------


def purge(days: int, *, include_confirmed: bool = False) -> dict:
    """Delete tombstones and applied-mutation records older than ``days``; cursors from
    before the newest purged tombstone then get ``reset``. Live activities are never touched,
    nor deleted-while-confirmed ones unless asked."""
    cutoff = utcnow() - timedelta(days=days)
    lock_feed()
    tombstones = select(Activity.id, Activity.change_seq).where(
        Activity.deleted_at.is_not(None), Activity.deleted_at < cutoff
    )
    if not include_confirmed:
        tombstones = tombstones.where(Activity.status != "confirmed")
    rows = db.session.execute(tombstones).all()
    ids = [row.id for row in rows]
    revisions = 0
    for chunk in _chunks(set(ids)):
        revisions += db.session.execute(
            delete(ActivityRevision).where(ActivityRevision.activity_id.in_(chunk))
        ).rowcount
        db.session.execute(delete(Activity).where(Activity.id.in_(chunk)))
    mutations = db.session.execute(
        delete(SyncMutation).where(SyncMutation.status == APPLIED, SyncMutation.created_at < cutoff)
    ).rowcount
    purged_through = db.session.execute(
        select(SequenceCounter.purged_through).where(SequenceCounter.name == FEED)
    ).scalar_one()
    purged_through = max([purged_through, *(row.change_seq for row in rows)])
    db.session.execute(
        update(SequenceCounter)
        .where(SequenceCounter.name == FEED)
        .values(purged_through=purged_through)
    )
    db.session.commit()
    return {
        "tombstones": len(ids),
        "revisions": revisions,
        "mutations": mutations,
        "purged_through": purged_through,
        "cutoff": cutoff,
    }
