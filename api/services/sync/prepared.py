"""A plain create's rows, built and bound for the database before the write lock, exactly
as activities.create() would store them."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Dialect

from api.models import Activity, ActivityRevision, AuditEvent, SyncMutation
from api.models.activity import ACTIVITY_COLUMNS, CONTENT_FIELDS, REVISION_COLUMNS
from api.services import audit, rollup
from api.services.sync.envelope import Mutation
from api.services.sync.feed import APPLIED
from api.services.sync.rows import Binder, binder, sqlite_utc_text, sqlite_utc_text_of_iso

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
    state: tuple  # the rollup's (day, keys, minutes)


class Tables:
    """The four tables a create writes, bound for one dialect."""

    def __init__(self, dialect: Dialect):
        self.dialect = dialect
        self.activity = binder(Activity.__table__, CREATE_COLUMNS, dialect)
        self.revision = binder(ActivityRevision.__table__, REVISION_COLUMNS, dialect)
        self.audit = binder(AuditEvent.__table__, AUDIT_KEYS, dialect)
        self.mutation = binder(SyncMutation.__table__, MUTATION_KEYS, dialect)
        self.change_seq = self.activity.slot("change_seq")
        self._started_at = self.activity.out["started_at"]
        self.seq, self.prev_hash, self.hash = (
            self.audit.slot(key) for key in ("seq", "prev_hash", "hash")
        )

    def started_at(self, value: datetime, text: str) -> object:
        """A started_at for the database, given its isoformat() too: on SQLite, a time in
        UTC is sliced from that text (rows.sqlite_utc_text_of_iso)."""
        if self._started_at is sqlite_utc_text and value.tzinfo is UTC:
            return sqlite_utc_text_of_iso(text)
        return self._started_at(value)

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


@dataclass(slots=True)
class Stamp:
    """What every create of one push shares: who, from which device, when; converted once."""

    officer_id: int
    officer_name: str
    device: object  # the device id, converted for the database
    now: datetime
    now_db: object  # now, converted for the database
    now_text: str
    audit_at_db: object  # now without microseconds, as audit events keep it, converted
    audit_at_text: str

    @classmethod
    def of(cls, officer_id: int, officer_name: str, device_id: uuid.UUID, now: datetime, t):
        at = now.replace(microsecond=0)
        return cls(
            officer_id=officer_id,
            officer_name=officer_name,
            device=t.mutation.out["device_id"](device_id),
            now=now,
            now_db=t.activity.out["created_at"](now),
            now_text=now.isoformat(),
            audit_at_db=t.audit.out["at"](at),
            audit_at_text=at.isoformat(),
        )


# The order prepare_create builds an activity's row in: the table's.
CREATE_COLUMNS = (
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
if CREATE_COLUMNS != ACTIVITY_COLUMNS:
    raise RuntimeError("prepare_create builds the activity row in another order than the table")


def prepare_create(mutation: Mutation, stamp: Stamp, tables: Tables) -> PreparedCreate:
    """The rows activities.create() would store for this mutation (its content validated
    and normalised), converted for the database, and the result the device gets."""
    content = mutation.content
    officer_id = stamp.officer_id
    started = content["started_at"]
    activity_key = str(mutation.activity_id)
    payload = {
        "id": activity_key,
        "officer_id": officer_id,
        "officer_name": stamp.officer_name,
        **content,
        "started_at": started.isoformat(),
        "status": "submitted",
        "review_note": None,
        "reviewed_by": None,
        "reviewed_at": None,
        "version": 1,
        "created_at": stamp.now_text,
        "updated_at": stamp.now_text,
    }
    changes = [name for name, value in content.items() if value is not None]
    if not content["audience"]:
        changes.remove("audience")  # an empty list is no change either
    activity_out, revision_out = tables.activity.out, tables.revision.out
    activity_db = activity_out["id"](mutation.activity_id)
    # The activity's row, in CREATE_COLUMNS order (the table's).
    activity = [
        activity_db,
        officer_id,
        content["school_id"],
        content["category"],
        tables.started_at(started, payload["started_at"]),
        content["duration_minutes"],
        activity_out["audience"](content["audience"]),
        content["participant_count"],
        content["summary"],
        content["referral_to"],
        content["outcome"],
        "submitted",
        None,  # review_note
        None,  # reviewed_by
        None,  # reviewed_at
        1,  # version
        1,  # content_version
        0,  # change_seq: taken under the lock
        None,  # deleted_at
        stamp.now_db,
        stamp.now_db,
    ]
    client_time = mutation.client_time
    revision_changes = {name: {"from": None, "to": payload[name]} for name in changes}
    revision = [
        activity_db,
        1,
        "create",
        officer_id,
        stamp.now_db,
        revision_out["client_time"](client_time) if client_time else None,
        revision_out["changes"](revision_changes),
    ]
    # The audit event's content as audit.record() would store it (the seq, the chain's
    # link and hash are taken under the lock).
    audit_client_time = client_time.astimezone(UTC).replace(microsecond=0) if client_time else None
    audit_changes = {"fields": sorted(changes), "version": 1, "status": "submitted"}
    audit_out = tables.audit.out
    audit_row = [
        None,  # seq, prev_hash and hash: under the lock
        stamp.audit_at_db,
        audit_out["client_time"](audit_client_time) if client_time else None,
        officer_id,
        "activity_create",
        "activity",
        activity_key,
        audit_out["changes"](audit_changes),
        None,
        None,
    ]
    audit_text = audit.around_seq(
        audit.content_of(
            seq=None,
            at=stamp.audit_at_text,
            client_time=audit_client_time.isoformat() if client_time else None,
            actor_id=officer_id,
            action="activity_create",
            target_type="activity",
            target_id=activity_key,
            changes=audit_changes,
        )
    )
    mutation_out = tables.mutation.out
    record = [
        mutation_out["mutation_id"](mutation.mutation_id),
        officer_id,
        stamp.device,
        activity_db,
        "upsert",
        mutation.request_hash,
        APPLIED,
        mutation_out["result"]({"activity": payload}),
        stamp.now_db,
    ]
    state = rollup.state_of_new(content, officer_id)
    return PreparedCreate(
        school_id=content["school_id"],
        activity=tables.activity.row(activity),
        revision=tables.revision.row(revision),
        audit=tables.audit.row(audit_row),
        audit_text=audit_text,
        mutation=tables.mutation.row(record),
        payload=payload,
        state=state,
    )
