"""A plain create's rows, built and bound for the database before the write lock, exactly
as activities.create() would store them."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy.engine import Dialect

from api.models import Activity, ActivityRevision, AuditEvent, SyncMutation
from api.models.activity import CONTENT_FIELDS
from api.services import audit, rollup
from api.services.sync.envelope import Mutation
from api.services.sync.feed import APPLIED
from api.services.sync.rows import Binder, binder, row_payload

ACTIVITY_KEYS = (
    "id",
    "officer_id",
    *CONTENT_FIELDS,
    "status",
    "review_note",
    "reviewed_by",
    "reviewed_at",
    "version",
    "content_version",
    "change_seq",
    "deleted_at",
    "created_at",
    "updated_at",
)
REVISION_KEYS = ("activity_id", "version", "action", "actor_id", "at", "client_time", "changes")
AUDIT_KEYS = (
    "seq",
    "at",
    "client_time",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "changes",
    "prev_hash",
    "hash",
)
MUTATION_KEYS = (
    "mutation_id",
    "user_id",
    "device_id",
    "activity_id",
    "op",
    "request_hash",
    "status",
    "result",
    "created_at",
)


@dataclass(slots=True)
class PreparedCreate:
    """A valid create's rows, bound for the driver before the write lock; only the change
    sequence, the audit seq and the audit hash are filled in under it (Tables.number)."""

    school_id: int
    activity: list | dict
    revision: list | dict
    audit: list | dict
    audit_text: tuple[str, str]  # the audit event's canonical content around its seq
    mutation: list | dict
    payload: dict
    cells: dict


class Tables:
    """The four tables a create writes, bound for one dialect."""

    def __init__(self, dialect: Dialect):
        self.activity = binder(Activity.__table__, ACTIVITY_KEYS, dialect)
        self.revision = binder(ActivityRevision.__table__, REVISION_KEYS, dialect)
        self.audit = binder(AuditEvent.__table__, AUDIT_KEYS, dialect)
        self.mutation = binder(SyncMutation.__table__, MUTATION_KEYS, dialect)
        self.change_seq = self.activity.slot("change_seq")
        self.seq, self.prev_hash, self.hash = (
            self.audit.slot(key) for key in ("seq", "prev_hash", "hash")
        )

    def binders(self) -> tuple[Binder, ...]:
        return (self.activity, self.revision, self.audit, self.mutation)

    def number(self, create: PreparedCreate, change_seq: int, seq: int, previous: str) -> str:
        """Give the create its change sequence and its audit event its place in the chain;
        return the event's hash."""
        create.activity[self.change_seq] = change_seq
        event = create.audit
        event[self.seq], event[self.prev_hash] = seq, previous
        event[self.hash] = link = audit.seq_hash(previous, create.audit_text, seq)
        return link


def prepare_create(
    officer_id: int,
    officer_name: str,
    device_id: uuid.UUID,
    mutation: Mutation,
    now: datetime,
    tables: Tables,
    memo: dict,
) -> PreparedCreate:
    """The rows activities.create() would store for this mutation, one-by-one."""
    values = mutation.content
    activity = _activity_row(mutation, officer_id, values, now)
    changes = [name for name, value in values.items() if value not in (None, [])]
    revision = _revision_row(mutation, officer_id, values, changes, now)
    event = _audit_event(mutation, officer_id, changes, now)
    payload = row_payload(activity, memo)
    payload["officer_name"] = officer_name
    record = _mutation_row(mutation, officer_id, device_id, payload, now)
    audit_row = {**vars(event), "prev_hash": None, "hash": None}
    return PreparedCreate(
        school_id=values["school_id"],
        activity=tables.activity.bind(activity, memo),
        revision=tables.revision.bind(revision, memo),
        audit=tables.audit.bind(audit_row, memo),
        audit_text=audit.content_around_seq(event),
        mutation=tables.mutation.bind(record, memo),
        payload=payload,
        cells=rollup._cells(rollup.state_of(activity), 1),
    )


def _activity_row(mutation: Mutation, officer_id: int, values: dict, now: datetime) -> dict:
    return {
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


def _revision_row(
    mutation: Mutation, officer_id: int, values: dict, changes: list[str], now: datetime
) -> dict:
    started = values["started_at"]
    return {
        "activity_id": mutation.activity_id,
        "version": 1,
        "action": "create",
        "actor_id": officer_id,
        "at": now,
        "client_time": mutation.client_time,
        "changes": {
            k: {"from": None, "to": started.isoformat() if k == "started_at" else values[k]}
            for k in changes
        },
    }


def _audit_event(
    mutation: Mutation, officer_id: int, changes: list[str], now: datetime
) -> SimpleNamespace:
    client_time = mutation.client_time
    return SimpleNamespace(
        seq=None,  # taken under the lock, with the hash chain
        at=now.replace(microsecond=0),
        client_time=client_time.astimezone(UTC).replace(microsecond=0) if client_time else None,
        actor_id=officer_id,
        action="activity_create",
        target_type="activity",
        target_id=str(mutation.activity_id),
        changes={"fields": sorted(changes), "version": 1, "status": "submitted"},
    )


def _mutation_row(
    mutation: Mutation, officer_id: int, device_id: uuid.UUID, payload: dict, now: datetime
) -> dict:
    return {
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
