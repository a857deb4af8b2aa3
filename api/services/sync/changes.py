"""Pull: the caller's changes after a cursor, in commit order, or a reset."""

import base64
import hashlib
import json

from sqlalchemy import select

from api.errors import Invalid
from api.extensions import db
from api.models import Activity, SequenceCounter, User
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


def _changes_after(user: User, after: int, limit: int) -> list[Activity]:
    query = (
        activities.scoped(user)
        .where(Activity.change_seq > after)
        .order_by(Activity.change_seq)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _feed_marks() -> tuple[int, int]:
    """The feed's latest sequence number and the one purged through."""
    return db.session.execute(
        select(SequenceCounter.value, SequenceCounter.purged_through).where(
            SequenceCounter.name == FEED
        )
    ).one()


def _page(rows: list[Activity], limit: int, after: int, scope: str) -> dict:
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
