"""The school's review: leaders confirm or dispute what officers logged."""

import uuid

from api.errors import ApiError, Conflict, Forbidden, Invalid
from api.extensions import db
from api.models import Activity, User
from api.models.types import utcnow
from api.services import activities
from api.services.privacy import identifier_problems

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
    status = ACTIONS[action]
    if activity.status == status and activity.review_note == note:
        return activity
    changes = {"status": (activity.status, status), "review_note": (activity.review_note, note)}
    activity.status = status
    activity.reopened_from = None  # reviewed again: no longer an edit waiting for a look
    activity.review_note = note
    activity.reviewed_by = leader.id
    activity.reviewed_at = utcnow()
    activities.record_write(activity, action, leader, changes)
    return activity


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
            error = {"code": "not_found", "message": "No such activity."}
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
