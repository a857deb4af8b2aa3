"""Append events to the hash-chained audit log, and verify the chain."""

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import insert, select

from api.extensions import db
from api.models import AuditEvent
from api.models.counter import SequenceCounter, take_values
from api.models.types import utcnow

GENESIS = "0" * 64


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


HASHED = ("seq", "at", "client_time", "actor_id", "action", "target_type", "target_id", "changes")


def canonical_content(event: AuditEvent | dict) -> str:
    """The content an event's hash covers (its times as ISO text), serialised the same way
    every time; of a stored row or of one about to be."""
    get = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
    content = {name: get(name) for name in HASHED}
    content["at"], content["client_time"] = _iso(content["at"]), _iso(content["client_time"])
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


def chain_hash(prev_hash: str, event: AuditEvent | dict) -> str:
    return hashlib.sha256((prev_hash + canonical_content(event)).encode()).hexdigest()


def record(
    action: str,
    target_type: str,
    target_id: object = None,
    *,
    actor_id: int | None = None,
    changes: dict | None = None,
    client_time: datetime | None = None,
) -> None:
    """Add one event in the current transaction (see append); its changes may hold any
    value (dates, say), kept as JSON text."""
    append(
        [
            {
                "action": action,
                "target_type": target_type,
                "target_id": str(target_id) if target_id is not None else None,
                "actor_id": actor_id,
                "client_time": client_time,
                "changes": json.loads(json.dumps(changes or {}, default=str)),
            }
        ]
    )


def append(events: list[dict]) -> None:
    """Add events (action, target_type, target_id, actor_id, client_time, and changes
    holding JSON values only) to the chain in the current transaction: the counter's row lock
    orders the chain, and each event hashes the one before it."""
    if not events:
        return
    first = take_values("audit", len(events))
    previous = db.session.execute(select(AuditEvent.hash).where(AuditEvent.seq == first - 1))
    link = previous.scalar() or GENESIS
    at = utcnow().replace(microsecond=0)
    rows = []
    for seq, event in enumerate(events, first):
        client_time = event["client_time"]
        row = event | {
            "seq": seq,
            "at": at,
            # In UTC and whole seconds, as stored: the hash must match the row read back.
            "client_time": client_time.astimezone(UTC).replace(microsecond=0)
            if client_time
            else None,
            "prev_hash": link,
        }
        row["hash"] = link = chain_hash(link, row)
        rows.append(row)
    db.session.execute(insert(AuditEvent.__table__), rows)


def verify_chain(batch: int = 5000) -> tuple[int, AuditEvent | None, str]:
    """Walk the chain in order; return (rows checked, first broken row, reason). Rows cut
    off its end break no link: the audit counter, which every row took its seq from, says how
    far the chain was written (the last row left is named, or none when none is)."""
    prev_hash, checked, expected_seq, last = GENESIS, 0, 1, None
    written = db.session.scalar(
        select(SequenceCounter.value).where(SequenceCounter.name == "audit")
    )
    while True:
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            if written is not None and written >= expected_seq:
                missing = f"seq {expected_seq} to {written} were written and are missing"
                return checked - 1 if last else 0, last, f"the chain ends early: {missing}"
            return checked, None, ""
        for event in rows:
            if event.seq != expected_seq:
                return checked, event, f"sequence gap: expected {expected_seq}, found {event.seq}"
            if event.prev_hash != prev_hash:
                return checked, event, "prev_hash does not match the previous row's hash"
            if event.hash != chain_hash(prev_hash, event):
                return checked, event, "hash does not match the row's content"
            prev_hash, expected_seq, last = event.hash, expected_seq + 1, event
            checked += 1
        db.session.expunge_all()
