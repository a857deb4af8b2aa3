"""Activity rules: scope, create, edit, delete, and the version history."""

import base64
import json
import uuid
from datetime import UTC, datetime

from flask import has_request_context, request
from sqlalchemy import Select, and_, inspect, or_, select

from api.dates import day_bounds
from api.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from api.extensions import db
from api.models import Activity, ActivityRevision, User
from api.models.activity import AUDIENCES, CONTENT_FIELDS
from api.models.school import school_assignment
from api.models.sync import SequenceCounter, next_value
from api.models.types import utcnow
from api.services import audit, rollup
from api.services.schools import writable_ids

CHANGE_FEED = "activity"


# --- scope -------------------------------------------------------------------------------


def scoped(user: User, query: Select | None = None) -> Select:
    """Restrict a query on Activity to what this user may see."""
    query = query if query is not None else select(Activity)
    if user.role == "officer":
        return query.where(Activity.officer_id == user.id)
    if user.role == "school_leader":
        led = select(school_assignment.c.school_id).where(school_assignment.c.user_id == user.id)
        return query.where(Activity.school_id.in_(led))
    return query


_LOCK_FEED = (
    select(SequenceCounter.__table__.c.value)
    .where(SequenceCounter.__table__.c.name == CHANGE_FEED)
    .with_for_update()
)


def lock_change_feed() -> None:
    """Take the change-feed counter's row lock before reading for a write (PostgreSQL), so
    those reads see every earlier commit; record_write takes the same lock anyway, and on
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


def check_version(activity: Activity, expected: int | None) -> None:
    """412 when the client's If-Match version is not the current one."""
    if expected is not None and expected != activity.version:
        raise PreconditionFailed(
            f"The activity has changed (now version {activity.version}); reload and try again.",
            details={"version": [f"Current version is {activity.version}."]},
        )


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


def _jsonable(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def same_content(activity: Activity, content: dict) -> bool:
    current = activity.content()
    full = {name: None for name in CONTENT_FIELDS} | {"audience": [], "participant_count": 0}
    full.update(content)
    return all(_jsonable(current[k]) == _jsonable(full[k]) for k in CONTENT_FIELDS)


def _check_school(officer: User, school_id: int) -> None:
    if school_id not in writable_ids(officer.id):
        raise Forbidden(
            "You can only log or change activities at active schools you are assigned to.",
            code="school_not_assigned",
        )


def _check_referral(values: dict) -> None:
    if values.get("category") == "community_referral" and not values.get("referral_to"):
        raise Invalid(
            "Say where the student or family was referred.",
            details={"referral_to": ["Required for community referrals."]},
        )


# --- the one write path ------------------------------------------------------------------


def record_write(
    activity: Activity,
    action: str,
    actor: User,
    changes: dict,
    *,
    client_time: datetime | None = None,
    content_changed: bool = False,
) -> None:
    """Bump version and change sequence, and keep the revision and audit rows, in one go."""
    with db.session.no_autoflush:  # the counter lock comes before any row lock
        sequence = next_value(CHANGE_FEED)
        _check_not_stale(activity)
    now = utcnow()
    if activity.version is None:
        activity.version = 1
        activity.created_at = now
    else:
        activity.version += 1
    if content_changed:
        activity.content_version = activity.version
    activity.updated_at = now
    activity.change_seq = sequence
    db.session.add(activity)
    rollup.track_write(activity)  # the report rollup, in this same transaction
    serialised = {k: {"from": _jsonable(v[0]), "to": _jsonable(v[1])} for k, v in changes.items()}
    db.session.add(
        ActivityRevision(
            activity_id=activity.id,
            version=activity.version,
            action=action,
            actor_id=actor.id,
            at=now,
            client_time=client_time,
            changes=serialised,
        )
    )
    audit.record(
        f"activity_{action}",
        "activity",
        activity.id,
        actor_id=actor.id,
        client_time=client_time,
        changes={"fields": sorted(changes), "version": activity.version, "status": activity.status},
    )


def _check_not_stale(activity: Activity) -> None:
    """With the counter lock held every earlier writer has committed, so the stored row must
    still be at the version this transaction read; otherwise a concurrent change would be
    overwritten (PostgreSQL, when the caller did not lock first)."""
    state = inspect(activity)
    if activity.version is None or state.pending or state.transient:
        return
    history = state.attrs.version.history
    expected = history.deleted[0] if history.deleted else activity.version
    stored = db.session.scalar(select(Activity.version).where(Activity.id == activity.id))
    if stored is not None and stored != expected:
        raise Conflict(
            "The activity changed while this change was being saved; reload and try again.",
            code="concurrent_change",
        )


def _diff(activity: Activity, content: dict) -> dict:
    return {
        k: (getattr(activity, k), v)
        for k, v in content.items()
        if _jsonable(getattr(activity, k)) != _jsonable(v)
    }


def create(officer: User, data: dict, *, client_time: datetime | None = None) -> Activity:
    """Insert a new activity (the caller has checked the id is free)."""
    content = normalise_content(data)
    activity_id = content.pop("id", None) or uuid.uuid4()
    _check_school(officer, content["school_id"])
    _check_referral(content)
    activity = Activity(
        id=activity_id, officer_id=officer.id, status="submitted", content_version=1, **content
    )
    activity.audience = content.get("audience", [])
    activity.participant_count = content.get("participant_count", 0)
    activity.version = None
    changes = {k: (None, v) for k, v in activity.content().items() if v not in (None, [])}
    record_write(
        activity, "create", officer, changes, client_time=client_time, content_changed=True
    )
    return activity


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
                and same_content(existing, content)
            ):
                return existing, False
            raise Conflict(
                "An activity with this id already exists with different content.",
                code="id_conflict",
            )
    activity = create(officer, data)
    db.session.commit()
    return activity, True


def edit(
    activity: Activity,
    officer: User,
    data: dict,
    *,
    client_time: datetime | None = None,
) -> Activity:
    """Change content; a reviewed activity goes back to the school for another look."""
    if activity.officer_id != officer.id:
        raise Forbidden("Only the officer who logged this activity can edit it.")
    if activity.is_deleted:
        raise Conflict("This activity has been deleted.", code="activity_deleted")
    content = normalise_content(data)
    # Scope is checked at each write: where the activity is and where it would move to.
    _check_school(officer, activity.school_id)
    if content.get("school_id", activity.school_id) != activity.school_id:
        _check_school(officer, content["school_id"])
    _check_referral({**activity.content(), **content})
    changes = _diff(activity, content)
    if not changes:
        return activity
    for key, (_, new) in changes.items():
        setattr(activity, key, new)
    if activity.status != "submitted":
        changes["status"] = (activity.status, "submitted")
        activity.reopened_from = activity.status  # both sides are told (issue 16)
        activity.status = "submitted"
        activity.review_note = activity.reviewed_by = activity.reviewed_at = None
    record_write(activity, "edit", officer, changes, client_time=client_time, content_changed=True)
    return activity


def delete(activity: Activity, actor: User, *, client_time: datetime | None = None) -> Activity:
    """Soft delete: a tombstone that reaches devices on their next pull."""
    if actor.role == "officer" and activity.officer_id != actor.id:
        raise Forbidden("Only the officer who logged this activity can delete it.")
    if actor.role not in ("officer", "admin"):
        raise Forbidden("Your role cannot delete activities.")
    if activity.is_deleted:
        return activity
    if actor.role == "officer":
        _check_school(actor, activity.school_id)
    if actor.role == "officer" and activity.status == "confirmed":
        raise Conflict(
            "A confirmed activity cannot be deleted; ask an admin if it is wrong.",
            code="activity_confirmed",
        )
    activity.deleted_at = utcnow()
    record_write(
        activity,
        "delete",
        actor,
        {"deleted": (False, True)},
        client_time=client_time,
        content_changed=True,
    )
    return activity


# --- listing -----------------------------------------------------------------------------


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return values
    except ValueError as error:
        raise Invalid(
            "The cursor is not valid.", details={"cursor": ["Invalid cursor."]}
        ) from error


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
            raise Invalid(
                "The cursor is not valid.", details={"cursor": ["Invalid cursor."]}
            ) from error
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


def history(activity: Activity) -> list[ActivityRevision]:
    return list(
        db.session.scalars(
            select(ActivityRevision)
            .where(ActivityRevision.activity_id == activity.id)
            .order_by(ActivityRevision.version)
        )
    )
