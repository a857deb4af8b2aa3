"""Activity rules: scope, create, edit, delete, and the version history."""

import base64
import json
import uuid
from datetime import UTC, datetime

from flask import has_request_context, request
from sqlalchemy import Select, and_, or_, select

from api.dates import day_bounds
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.extensions import db
from api.models import Activity, ActivityRevision, User
from api.models.activity import AUDIENCES, CONTENT_FIELDS, REFERRAL_CATEGORY
from api.models.counter import SequenceCounter
from api.models.school import school_assignment
from api.models.types import utcnow
from api.services import writes
from api.services.schools import writable_ids
from api.services.writes import CHANGE_FEED, Change, as_json

# --- scope -------------------------------------------------------------------------------


def scoped(user: User, query: Select | None = None) -> Select:
    """Restrict a query on Activity to what this user may see."""
    query = query if query is not None else select(Activity)
    if user.role == "officer":
        return query.where(Activity.officer_id == user.id)
    if user.role == "school_leader":
        return query.where(Activity.school_id.in_(led_schools(user)))
    return query


def led_schools(user: User) -> Select:
    """The ids of the schools a leader leads, as a subquery."""
    return select(school_assignment.c.school_id).where(school_assignment.c.user_id == user.id)


_LOCK_FEED = (
    select(SequenceCounter.__table__.c.value)
    .where(SequenceCounter.__table__.c.name == CHANGE_FEED)
    .with_for_update()
)


def lock_change_feed() -> None:
    """Take the change-feed counter's row lock before reading for a write (PostgreSQL), so
    those reads see every earlier commit; writes.store takes the same lock anyway, and on
    SQLite a write request's BEGIN IMMEDIATE already serialises writers."""
    db.session.connection().execute(_LOCK_FEED)


def _writing() -> bool:
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def get_visible(user: User, activity_id: uuid.UUID, *, include_deleted: bool = False) -> Activity:
    """The activity if the user may see it; 404 otherwise (existence is not leaked)."""
    query = scoped(user).where(Activity.id == activity_id)
    if _writing():
        lock_change_feed()
        query = query.execution_options(populate_existing=True)
    activity = db.session.scalar(query)
    if activity is None or (activity.is_deleted and not include_deleted):
        raise NotFound("No such activity.")
    return activity


# --- content -----------------------------------------------------------------------------


def normalise_content(data: dict) -> dict:
    """Canonical form of client content, so equal content compares equal."""
    content = dict(data)
    if "audience" in content:
        content["audience"] = [a for a in AUDIENCES if a in set(content["audience"] or [])]
    if "summary" in content:
        content["summary"] = (content["summary"] or "").strip() or None
    if isinstance(content.get("started_at"), datetime):
        content["started_at"] = content["started_at"].astimezone(UTC)
    return content


def content_of(row: dict) -> dict:
    """The officer's fields of an activity's row."""
    return {name: row[name] for name in CONTENT_FIELDS}


def same_content(row: dict, content: dict) -> bool:
    """Whether full content (as a create sends it) is what the row holds."""
    full = {name: None for name in CONTENT_FIELDS} | {"audience": [], "participant_count": 0}
    full.update(content)
    return all(as_json(row[k]) == as_json(full[k]) for k in CONTENT_FIELDS)


def _check_school(writable: frozenset[int], school_id: int) -> None:
    if school_id not in writable:
        raise Forbidden(
            "You can only log or change activities at active schools you are assigned to.",
            code="school_not_assigned",
        )


def _check_referral(values: dict) -> None:
    if values.get("category") == REFERRAL_CATEGORY and not values.get("referral_to"):
        raise Invalid(
            "Say where the student or family was referred.",
            details={"referral_to": ["Required for community referrals."]},
        )


# --- the rules of a write, on rows: a Change to store, or an error ------------------------


def creation(
    officer_id: int,
    data: dict,
    writable: frozenset[int],
    now: datetime,
    client_time: datetime | None = None,
) -> Change:
    """A new activity (the caller has checked that its id is free)."""
    content = normalise_content(data)
    activity_id = content.pop("id", None) or uuid.uuid4()
    _check_school(writable, content["school_id"])
    _check_referral(content)
    values = {"id": activity_id, "officer_id": officer_id, **content}
    return writes.created(values, officer_id, now, client_time=client_time)


def edition(
    row: dict,
    officer_id: int,
    data: dict,
    writable: frozenset[int],
    now: datetime,
    client_time: datetime | None = None,
) -> Change | None:
    """Changed content (None when nothing changes); a reviewed activity goes back to the
    school for another look, submitted again now (submitted_at)."""
    if row["officer_id"] != officer_id:
        raise Forbidden("Only the officer who logged this activity can edit it.")
    if row["deleted_at"] is not None:
        raise Conflict("This activity has been deleted.", code="activity_deleted")
    content = normalise_content(data)
    # Scope is checked at each write: where the activity is and where it would move to.
    _check_school(writable, row["school_id"])
    if content.get("school_id", row["school_id"]) != row["school_id"]:
        _check_school(writable, content["school_id"])
    _check_referral(content_of(row) | content)
    fields = {k: (row[k], v) for k, v in content.items() if as_json(row[k]) != as_json(v)}
    if not fields:
        return None
    values = {name: new for name, (_, new) in fields.items()}
    reviewed = row["status"] != "submitted"
    if reviewed:
        fields["status"] = (row["status"], "submitted")
        values |= dict.fromkeys(("review_note", "reviewed_by", "reviewed_at")) | {
            "status": "submitted",
            "submitted_at": now,
        }
    change = writes.changed(row, values, "edit", officer_id, now, fields, client_time=client_time)
    if reviewed:  # both sides are told the review was undone (Activity.reopened_from)
        change.after["reopened_from"] = row["status"]
    return change


def deletion(
    row: dict,
    actor: tuple[int, str],
    writable: frozenset[int],
    now: datetime,
    client_time: datetime | None = None,
) -> Change | None:
    """Soft delete by an actor (id, role): a tombstone that reaches devices on their next
    pull (None: it is one already)."""
    actor_id, role = actor
    if role == "officer" and row["officer_id"] != actor_id:
        raise Forbidden("Only the officer who logged this activity can delete it.")
    if role not in ("officer", "admin"):
        raise Forbidden("Your role cannot delete activities.")
    if row["deleted_at"] is not None:
        return None
    if role == "officer":
        _check_school(writable, row["school_id"])
        if row["status"] == "confirmed":
            raise Conflict(
                "A confirmed activity cannot be deleted; ask an admin if it is wrong.",
                code="activity_confirmed",
            )
    fields = {"deleted": (False, True)}
    values = {"deleted_at": now}
    return writes.changed(row, values, "delete", actor_id, now, fields, client_time=client_time)


# --- the REST calls: one change each, stored, and the activity read back ----------------


def create(officer: User, data: dict) -> Activity:
    """Insert a new activity (the caller has checked the id is free)."""
    change = creation(officer.id, data, writable_ids(officer.id), utcnow())
    writes.store([change])
    return db.session.get(Activity, change.after["id"])


def create_or_match(officer: User, data: dict) -> tuple[Activity, bool]:
    """POST semantics: a new id is created; a known id with identical content is returned."""
    lock_change_feed()  # a concurrent POST of the same id then finds the first one's row
    activity_id = data.get("id")
    if activity_id is not None:
        existing = db.session.get(Activity, activity_id)
        if existing is not None:
            content = normalise_content({k: v for k, v in data.items() if k != "id"})
            if (
                existing.officer_id == officer.id
                and not existing.is_deleted
                and same_content(writes.row_of(existing), content)
            ):
                return existing, False
            raise Conflict(
                "An activity with this id already exists with different content.",
                code="id_conflict",
            )
    activity = create(officer, data)
    db.session.commit()
    return activity, True


def edit(activity: Activity, officer: User, data: dict) -> Activity:
    """Change content (see edition)."""
    row = writes.row_of(activity)
    return stored(activity, edition(row, officer.id, data, writable_ids(officer.id), utcnow()))


def delete(activity: Activity, actor: User) -> Activity:
    """Soft delete (see deletion)."""
    row, writable = writes.row_of(activity), writable_ids(actor.id)
    return stored(activity, deletion(row, (actor.id, actor.role), writable, utcnow()))


def stored(activity: Activity, change: Change | None) -> Activity:
    """Store a change of a loaded activity, and read it back."""
    if change is not None:
        writes.store([change])
        db.session.refresh(activity)
    return activity


# --- listing -----------------------------------------------------------------------------


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> Invalid:
    """The 422 for a cursor this API did not hand out, or one that is out of range."""
    return Invalid("The cursor is not valid.", details={"cursor": ["Invalid cursor."]})


def decode_cursor(cursor: str, size: int) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return values
    except ValueError as error:
        raise invalid_cursor() from error


def list_page(user: User, filters: dict, limit: int, cursor: str | None) -> dict:
    """Newest first, keyset-paginated on (started_at, id)."""
    query = scoped(user).where(Activity.deleted_at.is_(None))
    for name in ("school_id", "officer_id", "category", "status"):
        if filters.get(name) is not None:
            query = query.where(getattr(Activity, name) == filters[name])
    # from/to are dates in the program's zone: UTC bounds, so the index on started_at serves.
    start, end = day_bounds(filters.get("from"), filters.get("to"))
    if start is not None:
        query = query.where(Activity.started_at >= start)
    if end is not None:
        query = query.where(Activity.started_at < end)
    if cursor:
        started_raw, id_raw = decode_cursor(cursor, 2)
        try:
            started, last_id = datetime.fromisoformat(started_raw), uuid.UUID(str(id_raw))
            if started.tzinfo is None:
                raise ValueError("cursor time without offset")
            started = started.astimezone(UTC)
        except (TypeError, ValueError, OverflowError) as error:
            raise invalid_cursor() from error
        query = query.where(
            or_(
                Activity.started_at < started,
                and_(Activity.started_at == started, Activity.id < last_id),
            )
        )
    query = query.order_by(Activity.started_at.desc(), Activity.id.desc()).limit(limit + 1)
    items = list(db.session.scalars(query))
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = encode_cursor([last.started_at.isoformat(), str(last.id)])
    return {"items": items, "next_cursor": next_cursor}


def history(activity: Activity) -> Select:
    """The activity's versions, oldest first (revision ids rise with the version: an
    activity's writes are one after another)."""
    return select(ActivityRevision).where(ActivityRevision.activity_id == activity.id)
