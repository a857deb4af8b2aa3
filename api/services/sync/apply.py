"""One mutation decided and written on its own: applied, a version conflict, or rejected."""

from marshmallow import ValidationError

from api.errors import Conflict, Invalid, NotFound, flatten_messages
from api.models import Activity, User
from api.schemas.sync import SyncActivitySchema
from api.services import activities
from api.services.sync import merge
from api.services.sync.envelope import Mutation, load_content
from api.services.sync.feed import APPLIED

CONFLICT = "conflict"

_activity_schema = SyncActivitySchema()


def apply_mutation(
    officer: User, mutation: Mutation, activity: Activity | None
) -> tuple[str, Activity]:
    """Decide and write one mutation: ("applied" | "conflict", the activity)."""
    if activity is not None and activity.officer_id != officer.id:
        if mutation.op == "upsert" and mutation.base_version is None:
            raise Conflict("An activity with this id already exists.", code="id_conflict")
        activity = None
    if mutation.op == "delete":
        return _apply_delete(officer, mutation, activity)
    return _apply_upsert(officer, mutation, activity)


def _apply_upsert(
    officer: User, mutation: Mutation, activity: Activity | None
) -> tuple[str, Activity]:
    if activity is None:
        return _create(officer, mutation)
    if mutation.base_version is None:
        return _resend(mutation, activity)
    mine = activities.normalise_content(_content(mutation.data, partial=True))
    if activity.is_deleted and mutation.base_version == activity.version:
        activities.edit(activity, officer, mine)  # refused: the device knew it was deleted
    decision = _decide(activity, mutation.base_version, mine)
    if decision.conflict:
        return CONFLICT, activity
    if decision.changes:  # only the fields this change made, on top of the current copy
        wanted = {name: mine[name] for name in decision.changes}
        activities.edit(activity, officer, wanted, client_time=mutation.client_time)
    return APPLIED, activity


def _decide(activity: Activity, base_version: int, mine: dict | None) -> merge.Decision:
    """The three-way decision (merge.decide) for this activity as the server has it."""
    current = None if activity.is_deleted else merge.as_json(activity.content())
    base = merge.content_at(activity, base_version) if current is not None else None
    return merge.decide(base, current, None if mine is None else merge.as_json(mine))


def _create(officer: User, mutation: Mutation) -> tuple[str, Activity]:
    """A new activity; an edit of one the server does not have is not found."""
    if mutation.base_version is not None:
        raise NotFound("No such activity.")
    content = _content(mutation.data, partial=False)
    created = activities.create(
        officer, {"id": mutation.activity_id, **content}, client_time=mutation.client_time
    )
    return APPLIED, created


def _resend(mutation: Mutation, activity: Activity) -> tuple[str, Activity]:
    """The device thinks it is new: a resend under a fresh mutation_id, or a clash."""
    content = activities.normalise_content(_content(mutation.data, partial=False))
    if not activity.is_deleted and activities.same_content(activity, content):
        return APPLIED, activity
    return CONFLICT, activity


def _apply_delete(
    officer: User, mutation: Mutation, activity: Activity | None
) -> tuple[str, Activity]:
    if activity is None:
        raise NotFound("No such activity.")
    if activity.is_deleted:
        return APPLIED, activity
    base = mutation.base_version
    if base is not None and _decide(activity, base, None).conflict:
        return CONFLICT, activity  # content changed since the copy it was deleted from
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
