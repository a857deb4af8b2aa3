"""Append events to the hash-chained audit log, and verify the chain."""

import hashlib
import json
from datetime import UTC, datetime

import orjson
from sqlalchemy import select

from api.extensions import db
from api.models import AuditEvent
from api.models.sync import next_value
from api.models.types import utcnow

GENESIS = "0" * 64
# orjson refuses these (TypeError) rather than write them its own way: json.dumps decides.
_PLAIN = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _content(event: AuditEvent) -> dict:
    return content_of(
        seq=event.seq,
        at=_iso(event.at),
        client_time=_iso(event.client_time),
        actor_id=event.actor_id,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        changes=event.changes,
    )


def content_of(
    *,
    seq: int | None,
    at: str,
    client_time: str | None,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str | None,
    changes: dict,
) -> dict:
    """The content an event's hash covers, from its values (its times as ISO text)."""
    return {
        "seq": seq,
        "at": at,
        "client_time": client_time,
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "changes": changes,
    }


def canonical_content(event: AuditEvent) -> str:
    """The row's own content, serialised the same way every time."""
    return _canonical(_content(event))


def _canonical(content: dict) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_content(event)).encode()).hexdigest()


def _canonical_plain(content: dict) -> str:
    """json.dumps(content) as canonical_content does it, for content whose changes hold no
    floats, through orjson: its sorted compact output is the standard library's whenever it
    is printable ASCII (json.dumps escapes everything else as \\uXXXX); otherwise the
    standard library's."""
    try:
        text = orjson.dumps(content, option=_PLAIN)
    except TypeError:
        text = None
    # find(), not `in`: `bytes in bytes` first tries the operand as an int, and formats the
    # TypeError that fails with.
    if text is None or not text.isascii() or text.find(b"\x7f") != -1:
        return _canonical(content)
    return text.decode()


def content_around_seq(event: AuditEvent) -> tuple[str, str]:
    """canonical_content(event) without its seq, as (before, after): an event's content is
    serialised before its seq is known, and hashed with it later (seq_hash)."""
    return around_seq(_content(event))


def around_seq(content: dict) -> tuple[str, str]:
    """content_around_seq of an event whose content (content_of, with a null seq) is
    already at hand."""
    before, marker, after = _canonical_plain(content).rpartition('"seq":null')
    if not marker:
        raise ValueError("the event must not have its seq yet")
    return before + '"seq":', after


def seq_hash(prev_hash: str, around: tuple[str, str], seq: int) -> str:
    """chain_hash of the event whose content_around_seq is ``around``, given its seq."""
    before, after = around
    return hashlib.sha256(f"{prev_hash}{before}{seq}{after}".encode()).hexdigest()


def record(
    action: str,
    target_type: str,
    target_id: object = None,
    *,
    actor_id: int | None = None,
    changes: dict | None = None,
    client_time: datetime | None = None,
) -> AuditEvent:
    """Add an event in the current transaction; the counter lock orders the chain."""
    seq = next_value("audit")
    prev = db.session.execute(select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)).scalar()
    event = AuditEvent(
        seq=seq,
        at=utcnow().replace(microsecond=0),
        # In UTC, as it is stored: the hash must match the row read back.
        client_time=client_time.astimezone(UTC).replace(microsecond=0) if client_time else None,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        changes=json.loads(json.dumps(changes or {}, default=str)),
    )
    event.prev_hash = prev or GENESIS
    event.hash = chain_hash(event.prev_hash, event)
    db.session.add(event)
    return event


def verify_chain(batch: int = 5000) -> tuple[int, AuditEvent | None, str]:
    """Walk the chain in order; return (rows checked, first broken row, reason)."""
    prev_hash, checked, expected_seq = GENESIS, 0, 1
    while True:
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return checked, None, ""
        for event in rows:
            if event.seq != expected_seq:
                return checked, event, f"sequence gap: expected {expected_seq}, found {event.seq}"
            if event.prev_hash != prev_hash:
                return checked, event, "prev_hash does not match the previous row's hash"
            if event.hash != chain_hash(prev_hash, event):
                return checked, event, "hash does not match the row's content"
            prev_hash, expected_seq = event.hash, expected_seq + 1
            checked += 1
        db.session.expunge_all()
