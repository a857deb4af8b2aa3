"""Pull: the caller's changes after a cursor, in commit order, or a reset."""

import base64
import hashlib
import json

from sqlalchemy import select

from api.errors import Invalid
from api.extensions import db
from api.models import Activity, ActivityDeparture, SequenceCounter, User
from api.services import activities
from api.services.writes import CHANGE_FEED as FEED


def pull(user: User, since: str | None, limit: int) -> dict:
    """The caller's changes after the cursor, in commit order, or {"reset": true}."""
    scope = scope_key(user)
    after = 0
    if since:
        after, cursor_scope = decode_cursor(since)
        if cursor_scope != scope:
            return {"reset": True}
    rows = _changes_after(user, after, limit + 1)
    # Read the purge mark after the changes: a purge committed in between shows up here.
    current, purged_through = _feed_marks()
    if since and (after < purged_through or after > current):
        return {"reset": True}
    return _page(rows, limit, after, scope)


def _changes_after(user: User, after: int, limit: int) -> list[tuple[int, object]]:
    """(change_seq, activity or tombstone) in feed order: the caller's activities, and for a
    leader the ones that moved away from their schools since (as tombstones)."""
    query = activities.scoped(user).where(Activity.change_seq > after)
    found = db.session.scalars(query.order_by(Activity.change_seq).limit(limit))
    rows = [(a.change_seq, _tombstone(a.id, a.version) if a.is_deleted else a) for a in found]
    if user.role == "school_leader":
        rows = sorted(rows + _departures(user, after, limit), key=lambda row: row[0])[:limit]
    return rows


def _departures(user: User, after: int, limit: int) -> list[tuple[int, dict]]:
    """Activities that left the leader's schools after the cursor and are not back."""
    led, left = activities.led_schools(user), ActivityDeparture
    query = (
        select(left.change_seq, Activity.id, Activity.version)
        .join(Activity, Activity.id == left.activity_id)
        .where(left.school_id.in_(led), left.change_seq > after, Activity.school_id.not_in(led))
        .order_by(left.change_seq)
        .limit(limit)
    )
    return [(seq, _tombstone(i, v)) for seq, i, v in db.session.execute(query)]


def _feed_marks() -> tuple[int, int]:
    """The feed's latest sequence number and the one purged through."""
    return db.session.execute(
        select(SequenceCounter.value, SequenceCounter.purged_through).where(
            SequenceCounter.name == FEED
        )
    ).one()


def _page(rows: list[tuple[int, object]], limit: int, after: int, scope: str) -> dict:
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else after
    changes = [change for _, change in rows]
    return {"changes": changes, "cursor": encode_cursor(last, scope), "has_more": has_more}


def _tombstone(activity_id, version: int) -> dict:
    return {"id": activity_id, "deleted": True, "version": version}


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
