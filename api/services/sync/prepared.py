"""A plain create's rows, built and bound for the database before the write lock, exactly
as activities.create() would store them."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy.engine import Dialect

from api.models import Activity, ActivityRevision, AuditEvent, SyncMutation
from api.models.activity import CONTENT_FIELDS
from api.services import activities, rollup
from api.services.sync.envelope import Mutation
from api.services.sync.feed import APPLIED
from api.services.sync.rows import bind_values, row_payload


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
    activity = _activity_row(mutation, officer_id, values, now)
    changes = [name for name, value in values.items() if value not in (None, [])]
    revision = _revision_row(mutation, officer_id, values, changes, now)
    event = _audit_event(mutation, officer_id, changes, now)
    payload = row_payload(activity)
    payload["officer_name"] = officer_name
    record = _mutation_row(mutation, officer_id, device_id, payload, now)
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
    return {
        "activity_id": mutation.activity_id,
        "version": 1,
        "action": "create",
        "actor_id": officer_id,
        "at": now,
        "client_time": mutation.client_time,
        "changes": {k: {"from": None, "to": activities._jsonable(values[k])} for k in changes},
    }


def _audit_event(
    mutation: Mutation, officer_id: int, changes: list[str], now: datetime
) -> SimpleNamespace:
    client_time = mutation.client_time
    return SimpleNamespace(
        seq=0,  # taken under the lock, with the hash chain
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
