"""One mutation decided and written on its own: applied, a version conflict, or rejected."""

from marshmallow import ValidationError

from api.errors import Conflict, Invalid, NotFound, flatten_messages
from api.models import Activity, User
from api.schemas.sync import SyncActivitySchema
from api.services import activities
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


def _stale(activity: Activity, base_version: int) -> bool:
    """Stale means the content changed since the client's base (reviews alone do not count)."""
    return base_version > activity.version or activity.content_version > base_version


def _apply_upsert(
    officer: User, mutation: Mutation, activity: Activity | None
) -> tuple[str, Activity]:
    if activity is None:
        return _create(officer, mutation)
    if mutation.base_version is None:
        return _resend(mutation, activity)
    content = _content(mutation.data, partial=True)
    if mutation.base_version != activity.version and _stale(activity, mutation.base_version):
        wanted = activities.normalise_content(content)
        if not activity.is_deleted and activities.same_content(
            activity, {**activity.content(), **wanted}
        ):
            return APPLIED, activity  # already so on the server: nothing to resolve
        return CONFLICT, activity
    activities.edit(activity, officer, content, client_time=mutation.client_time)
    return APPLIED, activity


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
    if mutation.base_version is not None and _stale(activity, mutation.base_version):
        return CONFLICT, activity
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
