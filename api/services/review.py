"""The school's review: leaders confirm or dispute what officers logged."""

import uuid

from api.errors import ApiError, Conflict, Forbidden, Invalid, NotFound
from api.extensions import db
from api.models import Activity, User
from api.models.types import utcnow
from api.services import activities, writes
from api.services.privacy import identifier_problems
from api.services.writes import Change

ACTIONS = {"confirm": "confirmed", "dispute": "disputed"}


def _check_note(action: str, note: str | None, field: str) -> str | None:
    note = (note or "").strip() or None
    if action == "dispute" and not note:
        raise Invalid(
            "Say why you dispute this activity.", details={field: ["A reason is required."]}
        )
    problems = identifier_problems(note, noun="review notes and reasons")
    if problems:
        raise Invalid("The text identifies a person; remove it.", details={field: problems})
    return note


def review(
    activity: Activity, leader: User, action: str, note: str | None, field: str = "note"
) -> Activity:
    """Confirm or dispute one activity of a school this leader leads."""
    if leader.role != "school_leader" or activity.school_id not in leader.school_ids:
        raise Forbidden("Only a leader of this school can review its activities.")
    if activity.is_deleted:
        raise Conflict("This activity has been deleted.", code="activity_deleted")
    note = _check_note(action, note, field)
    change = reviewing(writes.row_of(activity), leader.id, action, note, utcnow())
    return activities.stored(activity, change)


def reviewing(row: dict, leader_id: int, action: str, note: str | None, now) -> Change | None:
    """The change a checked review makes to an activity's row (None: it has it already)."""
    status = ACTIONS[action]
    if row["status"] == status and row["review_note"] == note:
        return None
    values = {"status": status, "review_note": note, "reviewed_by": leader_id, "reviewed_at": now}
    fields = {"status": (row["status"], status), "review_note": (row["review_note"], note)}
    change = writes.changed(row, values, action, leader_id, now, fields)
    change.after["reopened_from"] = None
    return change


def review_one(
    activity_id: uuid.UUID, leader: User, action: str, note: str | None, field: str = "note"
) -> Activity:
    activity = activities.get_visible(leader, activity_id, include_deleted=True)
    review(activity, leader, action, note, field)
    db.session.commit()
    return activity


def review_many(ids: list[uuid.UUID], leader: User, action: str, note: str | None) -> list[dict]:
    """Review each id on its own; one failure does not stop the others."""
    _check_note(action, note, "note")
    found = {
        a.id: a for a in db.session.scalars(activities.scoped(leader).where(Activity.id.in_(ids)))
    }
    results = []
    for activity_id in dict.fromkeys(ids):
        activity = found.get(activity_id)
        if activity is None:
            error = NotFound("No such activity.").to_dict()
            results.append({"id": activity_id, "ok": False, "error": error})
            continue
        try:
            with db.session.begin_nested():
                review(activity, leader, action, note)
            results.append({"id": activity_id, "ok": True, "activity": activity})
        except ApiError as failure:
            results.append({"id": activity_id, "ok": False, "error": failure.to_dict()})
    db.session.commit()
    return results
