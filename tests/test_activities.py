"""Activities: create (idempotent), read with ETag, edit, soft delete, list, history."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.extensions import db
from api.models import Activity, ActivityRevision, User
from api.services import activities as activity_service
from api.services import review
from api.services.activities import encode_cursor
from tests.factories import (
    ACTIVITIES,
    activity_body,
    app_context,
    auth,
    count,
    make_school,
    make_user,
    post_activity,
    stored,
)

URL = "/api/v1/activities"


def _item(activity_id) -> str:
    return f"{URL}/{activity_id}"


def _stored(activity_id) -> Activity | None:
    return stored(Activity, uuid.UUID(str(activity_id)))


def _revisions(activity_id) -> int:
    return count(ActivityRevision, ActivityRevision.activity_id == uuid.UUID(str(activity_id)))


def _seed(officer, school, how_many: int, start: datetime, **overrides) -> list[Activity]:
    """Insert activities through the service (no HTTP); three share each start time."""
    with app_context():
        author = db.session.get(User, officer.id)
        made = []
        for n in range(how_many):
            data = {
                "school_id": school.id,
                "category": "education",
                "started_at": start + timedelta(hours=n // 3),
                "duration_minutes": 30,
                "audience": ["students"],
                "participant_count": 10,
            } | overrides
            made.append(activity_service.create(author, data))
        db.session.commit()
        for activity in made:
            db.session.refresh(activity)
        return made


@pytest.fixture
def world(app):
    school = make_school()
    other_school = make_school()
    officer = make_user("officer", [school, other_school])
    leader = make_user("school_leader", [school])
    manager = make_user("program_manager")
    admin = make_user("admin")
    return {
        "school": school,
        "other_school": other_school,
        "officer": officer,
        "leader": leader,
        "manager": manager,
        "admin": admin,
    }


# --- create ------------------------------------------------------------------------------


def test_create_activity_assigned_school_returns_201_with_server_fields(client, world):
    body = activity_body(world["school"], outcome="follow_up")
    response = client.post(URL, json=body, headers=auth(world["officer"]))
    assert response.status_code == 201
    created = response.json
    assert created["status"] == "submitted"
    assert created["officer_id"] == world["officer"].id
    assert created["version"] == 1
    assert created["outcome"] == "follow_up"
    assert created["summary"] == body["summary"]
    assert created["review_note"] is None and created["reviewed_by"] is None
    assert uuid.UUID(created["id"])
    assert response.headers["ETag"] == '"1"'
    assert datetime.fromisoformat(created["started_at"]) == datetime.fromisoformat(
        body["started_at"]
    )


def test_create_activity_client_chosen_id_is_kept(client, world):
    chosen = str(uuid.uuid4())
    body = {"id": chosen} | activity_body(world["school"])
    response = client.post(URL, json=body, headers=auth(world["officer"]))
    assert response.status_code == 201
    assert response.json["id"] == chosen


def test_create_activity_offset_time_is_stored_as_utc(client, world):
    body = activity_body(world["school"], started_at="2025-03-04T09:30:00-07:00")
    response = client.post(URL, json=body, headers=auth(world["officer"]))
    assert response.status_code == 201
    assert datetime.fromisoformat(response.json["started_at"]) == datetime(
        2025, 3, 4, 16, 30, tzinfo=UTC
    )
    assert response.json["started_at"].endswith("+00:00")


def test_create_activity_community_referral_with_referral_returns_201(client, world):
    body = activity_body(
        world["school"], category="community_referral", referral_to="youth_services"
    )
    response = client.post(URL, json=body, headers=auth(world["officer"]))
    assert response.status_code == 201
    assert response.json["referral_to"] == "youth_services"


def test_create_activity_same_id_same_content_returns_200_without_new_history(client, world):
    body = {"id": str(uuid.uuid4())} | activity_body(world["school"])
    first = client.post(URL, json=body, headers=auth(world["officer"]))
    assert first.status_code == 201
    again = client.post(URL, json=body, headers=auth(world["officer"]))
    assert again.status_code == 200
    assert again.json == first.json
    assert _revisions(body["id"]) == 1
    assert count(Activity) == 1


def test_create_activity_same_id_equivalent_content_returns_200(client, world):
    body = {"id": str(uuid.uuid4())} | activity_body(
        world["school"], audience=["staff", "students"], started_at="2025-03-04T09:30:00-07:00"
    )
    assert client.post(URL, json=body, headers=auth(world["officer"])).status_code == 201
    # Same instant in another offset, audience in another order: the same content.
    body |= {"audience": ["students", "staff"], "started_at": "2025-03-04T16:30:00+00:00"}
    again = client.post(URL, json=body, headers=auth(world["officer"]))
    assert again.status_code == 200
    assert _revisions(body["id"]) == 1


def test_create_activity_same_id_different_content_returns_409(client, world):
    body = {"id": str(uuid.uuid4())} | activity_body(world["school"])
    assert client.post(URL, json=body, headers=auth(world["officer"])).status_code == 201
    changed = body | {"duration_minutes": 90}
    response = client.post(URL, json=changed, headers=auth(world["officer"]))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "id_conflict"
    assert client.get(_item(body["id"]), headers=auth(world["officer"])).json[
        "duration_minutes"
    ] == (45)


def test_create_activity_id_of_another_officer_returns_409(client, world):
    body = {"id": str(uuid.uuid4())} | activity_body(world["school"])
    assert client.post(URL, json=body, headers=auth(world["officer"])).status_code == 201
    colleague = make_user("officer", [world["school"]])
    response = client.post(URL, json=body, headers=auth(colleague))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "id_conflict"


def test_create_activity_unassigned_school_returns_403(client, world):
    elsewhere = make_school()
    response = client.post(URL, json=activity_body(elsewhere), headers=auth(world["officer"]))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "school_not_assigned"
    assert count(Activity) == 0


@pytest.mark.parametrize("role", ["school_leader", "program_manager", "admin"])
def test_create_activity_non_officer_returns_403(client, world, role):
    user = make_user(role, [world["school"]] if role == "school_leader" else [])
    response = client.post(URL, json=activity_body(world["school"]), headers=auth(user))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_create_activity_unknown_school_returns_403(client, world):
    body = activity_body(world["school"], school_id=999_999)
    response = client.post(URL, json=body, headers=auth(world["officer"]))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "school_not_assigned"
    assert count(Activity) == 0


# Each kind of bad input, with the field the 422 must name.
BAD_CREATE_BODIES = {
    "unknown_field": ({"colour": "blue"}, "colour"),
    "status": ({"status": "confirmed"}, "status"),
    "officer_id": ({"officer_id": 1}, "officer_id"),
    "version": ({"version": 7}, "version"),
    "created_at": ({"created_at": "2025-03-04T09:30:00+00:00"}, "created_at"),
    "updated_at": ({"updated_at": "2025-03-04T09:30:00+00:00"}, "updated_at"),
    "submitted_at": ({"submitted_at": "2025-03-04T09:30:00+00:00"}, "submitted_at"),
    "review_note": ({"review_note": "fine"}, "review_note"),
    "reviewed_by": ({"reviewed_by": 1}, "reviewed_by"),
    "reviewed_at": ({"reviewed_at": "2025-03-04T09:30:00+00:00"}, "reviewed_at"),
    "deleted_at": ({"deleted_at": "2025-03-04T09:30:00+00:00"}, "deleted_at"),
    "duration_zero": ({"duration_minutes": 0}, "duration_minutes"),
    "duration_too_long": ({"duration_minutes": 721}, "duration_minutes"),
    "duration_negative": ({"duration_minutes": -5}, "duration_minutes"),
    "duration_not_a_number": ({"duration_minutes": "long"}, "duration_minutes"),
    "duration_boolean": ({"duration_minutes": True}, "duration_minutes"),
    "duration_fraction": ({"duration_minutes": 45.5}, "duration_minutes"),
    "duration_numeric_string": ({"duration_minutes": "45"}, "duration_minutes"),
    "duration_null": ({"duration_minutes": None}, "duration_minutes"),
    "participants_string": ({"participant_count": "12"}, "participant_count"),
    "school_id_string": ({"school_id": "1"}, "school_id"),
    "category_null": ({"category": None}, "category"),
    "audience_null": ({"audience": None}, "audience"),
    "participants_negative": ({"participant_count": -1}, "participant_count"),
    "participants_too_many": ({"participant_count": 5001}, "participant_count"),
    "school_id_zero": ({"school_id": 0}, "school_id"),
    "school_id_huge": ({"school_id": 2**31}, "school_id"),
    "category_enum": ({"category": "patrol"}, "category"),
    "audience_enum": ({"audience": ["students", "aliens"]}, "audience.1"),
    "audience_repeated": ({"audience": ["students", "students"]}, "audience"),
    "audience_not_list": ({"audience": "students"}, "audience"),
    "referral_enum": ({"referral_to": "jail"}, "referral_to"),
    "outcome_enum": ({"outcome": "arrest"}, "outcome"),
    "summary_too_long": ({"summary": "x" * 501}, "summary"),
    "summary_email": ({"summary": "Met jo.smith@example.com today."}, "summary"),
    "summary_phone": ({"summary": "Call the parent at 780-555-0142."}, "summary"),
    "summary_student_number": ({"summary": "Student 123456789 was there."}, "summary"),
    "referral_missing": ({"category": "community_referral"}, "referral_to"),
    "referral_null": ({"category": "community_referral", "referral_to": None}, "referral_to"),
    "naive_datetime": ({"started_at": "2025-03-04T09:30:00"}, "started_at"),
    "date_only": ({"started_at": "2025-03-04"}, "started_at"),
    "not_a_datetime": ({"started_at": "yesterday"}, "started_at"),
    "far_past": ({"started_at": "1999-12-31T09:30:00+00:00"}, "started_at"),
    "far_future": ({"started_at": "2999-01-01T09:30:00+00:00"}, "started_at"),
    "id_not_uuid": ({"id": "not-a-uuid"}, "id"),
}


@pytest.mark.parametrize(
    ("change", "field"), BAD_CREATE_BODIES.values(), ids=list(BAD_CREATE_BODIES)
)
def test_create_activity_bad_input_returns_422_naming_field(client, world, change, field):
    body = activity_body(world["school"]) | change
    response = client.post(URL, json=body, headers=auth(world["officer"]))
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert all(isinstance(m, str) for m in error["details"][field])
    assert count(Activity) == 0


@pytest.mark.parametrize("field", ["school_id", "category", "started_at", "duration_minutes"])
def test_create_activity_missing_required_returns_422(client, world, field):
    body = activity_body(world["school"])
    del body[field]
    response = client.post(URL, json=body, headers=auth(world["officer"]))
    assert response.status_code == 422
    assert field in response.json["error"]["details"]


def test_create_activity_malformed_json_returns_422(client, world):
    response = client.post(
        URL,
        data='{"school_id": 1, "category": ',
        content_type="application/json",
        headers=auth(world["officer"]),
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "42", "null", "true"])
def test_create_activity_non_object_json_returns_422(client, world, payload):
    response = client.post(
        URL, data=payload, content_type="application/json", headers=auth(world["officer"])
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] in ("validation_error", "invalid_json")
    assert count(Activity) == 0


# --- read --------------------------------------------------------------------------------


def test_get_activity_owner_returns_200_with_strong_etag(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.get(_item(created["id"]), headers=auth(world["officer"]))
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert not response.headers["ETag"].startswith("W/")
    assert response.json == created


def test_get_activity_unknown_id_returns_404(client, world):
    response = client.get(_item(uuid.uuid4()), headers=auth(world["admin"]))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_get_activity_malformed_id_returns_404(client, world):
    response = client.get(_item("not-a-uuid"), headers=auth(world["admin"]))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_get_activity_manager_gets_no_free_text(client, world):
    created = post_activity(client, world["officer"], world["school"])
    dispute = {"reason": "Not on our calendar."}
    client.post(_item(created["id"]) + "/dispute", json=dispute, headers=auth(world["leader"]))
    response = client.get(_item(created["id"]), headers=auth(world["manager"]))
    assert response.status_code == 200
    assert "summary" not in response.json
    assert "review_note" not in response.json
    assert response.json["status"] == "disputed"


# --- edit --------------------------------------------------------------------------------


def test_patch_activity_owner_changes_content_and_version(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(
        _item(created["id"]),
        json={"duration_minutes": 60, "outcome": "none"},
        headers=auth(world["officer"]) | {"If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.json["duration_minutes"] == 60
    assert response.json["outcome"] == "none"
    assert response.json["version"] == 2
    assert response.headers["ETag"] == '"2"'


def test_patch_activity_stale_if_match_returns_412_and_keeps_record(client, world):
    created = post_activity(client, world["officer"], world["school"])
    client.post(_item(created["id"]) + "/confirm", json={}, headers=auth(world["leader"]))
    response = client.patch(
        _item(created["id"]),
        json={"duration_minutes": 60},
        headers=auth(world["officer"]) | {"If-Match": '"1"'},
    )
    assert response.status_code == 412
    assert response.json["error"]["code"] == "precondition_failed"
    current = client.get(_item(created["id"]), headers=auth(world["officer"])).json
    assert current["duration_minutes"] == 45
    assert current["status"] == "confirmed"


def test_patch_activity_weak_if_match_returns_412(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(
        _item(created["id"]),
        json={"duration_minutes": 60},
        headers=auth(world["officer"]) | {"If-Match": 'W/"1"'},
    )
    assert response.status_code == 412
    assert response.json["error"]["code"] == "precondition_failed"
    kept = _stored(created["id"])
    assert (kept.version, kept.duration_minutes) == (1, 45)
    assert _revisions(created["id"]) == 1


def test_patch_activity_if_match_star_applies(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(
        _item(created["id"]),
        json={"duration_minutes": 60},
        headers=auth(world["officer"]) | {"If-Match": "*"},
    )
    assert response.status_code == 200
    assert response.json["duration_minutes"] == 60


@pytest.mark.parametrize(("tags", "status"), [('"7", "1"', 200), ('W/"1", "2", "3"', 412)])
def test_patch_activity_if_match_list_passes_when_one_tag_is_current(client, world, tags, status):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(
        _item(created["id"]),
        json={"duration_minutes": 60},
        headers=auth(world["officer"]) | {"If-Match": tags},
    )
    assert response.status_code == status


def test_patch_activity_without_changes_keeps_version(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(
        _item(created["id"]), json={"duration_minutes": 45}, headers=auth(world["officer"])
    )
    assert response.status_code == 200
    assert response.json["version"] == 1
    assert _revisions(created["id"]) == 1


@pytest.mark.parametrize(
    ("action", "body"), [("confirm", {}), ("dispute", {"reason": "We have no record of it."})]
)
def test_patch_activity_reviewed_returns_to_submitted(client, world, action, body):
    created = post_activity(client, world["officer"], world["school"])
    reviewed = client.post(
        _item(created["id"]) + f"/{action}", json=body, headers=auth(world["leader"])
    )
    assert reviewed.status_code == 200
    response = client.patch(
        _item(created["id"]),
        json={"summary": "Presentation on online safety, grade 9."},
        headers=auth(world["officer"]) | {"If-Match": '"2"'},
    )
    assert response.status_code == 200
    assert response.json["status"] == "submitted"
    assert response.json["review_note"] is None
    assert response.json["reviewed_by"] is None
    assert response.json["reviewed_at"] is None
    assert response.json["version"] == 3


def test_patch_activity_to_unassigned_school_returns_403(client, world):
    created = post_activity(client, world["officer"], world["school"])
    elsewhere = make_school()
    response = client.patch(
        _item(created["id"]), json={"school_id": elsewhere.id}, headers=auth(world["officer"])
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "school_not_assigned"


def test_patch_activity_to_assigned_school_moves_it(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(
        _item(created["id"]),
        json={"school_id": world["other_school"].id},
        headers=auth(world["officer"]),
    )
    assert response.status_code == 200
    assert response.json["school_id"] == world["other_school"].id


def test_patch_activity_to_community_referral_without_referral_returns_422(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(
        _item(created["id"]),
        json={"category": "community_referral"},
        headers=auth(world["officer"]),
    )
    assert response.status_code == 422
    assert "referral_to" in response.json["error"]["details"]


BAD_PATCH_BODIES = {
    "unknown_field": {"colour": "blue"},
    "id": {"id": str(uuid.uuid4())},
    "status": {"status": "confirmed"},
    "officer_id": {"officer_id": 99},
    "version": {"version": 5},
    "created_at": {"created_at": "2025-03-04T09:30:00+00:00"},
    "submitted_at": {"submitted_at": "2025-03-04T09:30:00+00:00"},
    "reviewed_by": {"reviewed_by": 1},
    "duration_range": {"duration_minutes": 721},
    "participants_range": {"participant_count": 5001},
    "category_enum": {"category": "patrol"},
    "summary_identifier": {"summary": "Phone (780) 555-0199 after school."},
    "naive_datetime": {"started_at": "2025-03-04T09:30:00"},
    "started_at_null": {"started_at": None},
    "school_id_null": {"school_id": None},
    "duration_fraction": {"duration_minutes": 30.5},
}


@pytest.mark.parametrize("body", BAD_PATCH_BODIES.values(), ids=list(BAD_PATCH_BODIES))
def test_patch_activity_bad_input_returns_422_and_changes_nothing(client, world, body):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(_item(created["id"]), json=body, headers=auth(world["officer"]))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert set(body) <= set(response.json["error"]["details"])
    current = client.get(_item(created["id"]), headers=auth(world["officer"])).json
    assert current == created


def test_patch_activity_malformed_json_returns_422(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.patch(
        _item(created["id"]),
        data="{not json",
        content_type="application/json",
        headers=auth(world["officer"]),
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_json"


# --- delete ------------------------------------------------------------------------------


def test_delete_activity_owner_returns_204_then_hidden(client, world):
    created = post_activity(client, world["officer"], world["school"])
    kept = post_activity(client, world["officer"], world["school"])
    response = client.delete(_item(created["id"]), headers=auth(world["officer"]))
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(_item(created["id"]), headers=auth(world["officer"])).status_code == 404
    listed = client.get(URL, headers=auth(world["officer"])).json["items"]
    assert [a["id"] for a in listed] == [kept["id"]]
    for viewer in ("leader", "manager", "admin"):
        ids = [a["id"] for a in client.get(URL, headers=auth(world[viewer])).json["items"]]
        assert created["id"] not in ids


def test_delete_activity_then_confirm_returns_409(client, world):
    created = post_activity(client, world["officer"], world["school"])
    client.delete(_item(created["id"]), headers=auth(world["officer"]))
    response = client.post(
        _item(created["id"]) + "/confirm", json={}, headers=auth(world["leader"])
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "activity_deleted"


def test_delete_activity_then_patch_or_delete_returns_404(client, world):
    created = post_activity(client, world["officer"], world["school"])
    client.delete(_item(created["id"]), headers=auth(world["officer"]))
    patch = client.patch(
        _item(created["id"]), json={"duration_minutes": 5}, headers=auth(world["officer"])
    )
    assert patch.status_code == 404
    again = client.delete(_item(created["id"]), headers=auth(world["officer"]))
    assert again.status_code == 404


def test_delete_activity_then_repost_same_id_returns_409(client, world):
    body = {"id": str(uuid.uuid4())} | activity_body(world["school"])
    assert client.post(URL, json=body, headers=auth(world["officer"])).status_code == 201
    assert client.delete(_item(body["id"]), headers=auth(world["officer"])).status_code == 204
    response = client.post(URL, json=body, headers=auth(world["officer"]))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "id_conflict"
    tombstone = _stored(body["id"])
    assert tombstone.deleted_at is not None and tombstone.version == 2
    assert count(Activity) == 1 and _revisions(body["id"]) == 2


def test_delete_activity_confirmed_by_officer_returns_409(client, world):
    created = post_activity(client, world["officer"], world["school"])
    client.post(_item(created["id"]) + "/confirm", json={}, headers=auth(world["leader"]))
    response = client.delete(_item(created["id"]), headers=auth(world["officer"]))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "activity_confirmed"
    assert client.get(_item(created["id"]), headers=auth(world["officer"])).status_code == 200


def test_delete_activity_disputed_by_officer_returns_204(client, world):
    created = post_activity(client, world["officer"], world["school"])
    dispute = {"reason": "Not at our school."}
    disputed = client.post(
        _item(created["id"]) + "/dispute", json=dispute, headers=auth(world["leader"])
    )
    assert disputed.status_code == 200
    response = client.delete(_item(created["id"]), headers=auth(world["officer"]))
    assert response.status_code == 204
    assert _stored(created["id"]).deleted_at is not None
    assert client.get(_item(created["id"]), headers=auth(world["officer"])).status_code == 404


def test_delete_activity_confirmed_by_admin_returns_204(client, world):
    created = post_activity(client, world["officer"], world["school"])
    client.post(_item(created["id"]) + "/confirm", json={}, headers=auth(world["leader"]))
    response = client.delete(
        _item(created["id"]), headers=auth(world["admin"]) | {"If-Match": '"2"'}
    )
    assert response.status_code == 204
    assert client.get(_item(created["id"]), headers=auth(world["admin"])).status_code == 404


def test_delete_activity_stale_if_match_returns_412_and_keeps_record(client, world):
    created = post_activity(client, world["officer"], world["school"])
    client.patch(
        _item(created["id"]), json={"duration_minutes": 50}, headers=auth(world["officer"])
    )
    response = client.delete(
        _item(created["id"]), headers=auth(world["officer"]) | {"If-Match": '"1"'}
    )
    assert response.status_code == 412
    assert response.json["error"]["code"] == "precondition_failed"
    assert client.get(_item(created["id"]), headers=auth(world["officer"])).status_code == 200


def test_delete_activity_current_if_match_returns_204(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.delete(
        _item(created["id"]), headers=auth(world["officer"]) | {"If-Match": '"1"'}
    )
    assert response.status_code == 204
    tombstone = _stored(created["id"])
    assert tombstone.deleted_at is not None and tombstone.version == 2
    assert client.get(_item(created["id"]), headers=auth(world["officer"])).status_code == 404


# --- history -----------------------------------------------------------------------------


def test_history_lists_every_version_with_actor_action_and_fields(client, world):
    created = post_activity(client, world["officer"], world["school"])
    item = _item(created["id"])
    client.post(item + "/confirm", json={"note": "Thanks"}, headers=auth(world["leader"]))
    client.patch(item, json={"duration_minutes": 30}, headers=auth(world["officer"]))
    client.post(item + "/dispute", json={"reason": "Too short?"}, headers=auth(world["leader"]))
    client.delete(item, headers=auth(world["officer"]))
    response = client.get(item + "/history", headers=auth(world["officer"]))
    assert response.status_code == 200
    items = response.json["items"]
    assert [(r["version"], r["action"]) for r in items] == [
        (1, "create"),
        (2, "confirm"),
        (3, "edit"),
        (4, "dispute"),
        (5, "delete"),
    ]
    officer_id, leader_id = world["officer"].id, world["leader"].id
    assert [r["actor_id"] for r in items] == [
        officer_id,
        leader_id,
        officer_id,
        leader_id,
        officer_id,
    ]
    assert items[0]["changes"]["duration_minutes"] == {"from": None, "to": 45}
    assert items[1]["changes"]["status"] == {"from": "submitted", "to": "confirmed"}
    assert items[2]["changes"]["duration_minutes"] == {"from": 45, "to": 30}
    assert items[2]["changes"]["status"] == {"from": "confirmed", "to": "submitted"}
    assert items[3]["changes"]["review_note"] == {"from": None, "to": "Too short?"}
    assert items[4]["changes"] == {"deleted": {"from": False, "to": True}}
    assert all(datetime.fromisoformat(r["at"]).tzinfo is not None for r in items)


def test_history_idempotent_repost_adds_no_entry(client, world):
    body = {"id": str(uuid.uuid4())} | activity_body(world["school"])
    client.post(URL, json=body, headers=auth(world["officer"]))
    client.post(URL, json=body, headers=auth(world["officer"]))
    response = client.get(_item(body["id"]) + "/history", headers=auth(world["officer"]))
    assert response.status_code == 200
    assert len(response.json["items"]) == 1


def test_history_manager_gets_no_free_text(client, world):
    created = post_activity(client, world["officer"], world["school"])
    item = _item(created["id"])
    client.post(item + "/dispute", json={"reason": "Wrong day."}, headers=auth(world["leader"]))
    client.patch(item, json={"summary": "Talk on cyberbullying."}, headers=auth(world["officer"]))
    response = client.get(item + "/history", headers=auth(world["manager"]))
    assert response.status_code == 200
    assert len(response.json["items"]) == 3
    for revision in response.json["items"]:
        assert "summary" not in revision["changes"]
        assert "review_note" not in revision["changes"]
    assert "Talk on cyberbullying" not in response.get_data(as_text=True)
    assert "Wrong day" not in response.get_data(as_text=True)
    leader_view = client.get(item + "/history", headers=auth(world["leader"])).json["items"]
    assert leader_view[2]["changes"]["summary"]["to"] == "Talk on cyberbullying."


# --- list --------------------------------------------------------------------------------


def test_list_activities_empty_returns_empty_page(client, world):
    response = client.get(URL, headers=auth(world["officer"]))
    assert response.status_code == 200
    assert response.json == {"items": [], "next_cursor": None}


def test_list_activities_newest_first(client, world):
    start = datetime(2025, 3, 3, 9, tzinfo=UTC)
    made = _seed(world["officer"], world["school"], 6, start)
    response = client.get(URL, headers=auth(world["officer"]))
    assert response.status_code == 200
    started = [a["started_at"] for a in response.json["items"]]
    assert started == sorted(started, reverse=True)
    assert {a["id"] for a in response.json["items"]} == {str(a.id) for a in made}


def test_list_activities_walk_pages_no_gap_no_duplicate(client, world):
    made = _seed(world["officer"], world["school"], 50, datetime(2025, 3, 3, 9, tzinfo=UTC))
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        response = client.get(URL, query_string=query, headers=auth(world["officer"]))
        assert response.status_code == 200
        assert len(response.json["items"]) <= 7
        seen += [(a["started_at"], a["id"]) for a in response.json["items"]]
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert pages == 8
    assert len(seen) == 50
    assert len(set(seen)) == 50
    assert {i for _, i in seen} == {str(a.id) for a in made}
    keys = [(datetime.fromisoformat(s), uuid.UUID(i)) for s, i in seen]
    assert keys == sorted(keys, reverse=True)


def test_list_activities_exact_page_has_no_next_cursor(client, world):
    _seed(world["officer"], world["school"], 7, datetime(2025, 3, 3, 9, tzinfo=UTC))
    response = client.get(URL, query_string={"limit": 7}, headers=auth(world["officer"]))
    assert response.status_code == 200
    assert len(response.json["items"]) == 7
    assert response.json["next_cursor"] is None


def test_list_activities_default_limit_is_50(client, world):
    _seed(world["officer"], world["school"], 51, datetime(2025, 3, 3, 9, tzinfo=UTC))
    response = client.get(URL, headers=auth(world["officer"]))
    assert response.status_code == 200
    assert len(response.json["items"]) == 50
    assert response.json["next_cursor"]


# Dates filter in the program's zone (PROGRAM_TIMEZONE, default America/Edmonton).
EDMONTON = ZoneInfo("America/Edmonton")


@pytest.fixture
def filtered(world):
    """Activities spread over schools, officers, categories, statuses and days."""
    colleague = make_user("officer", [world["school"]])
    day = datetime(2025, 3, 3, 12, tzinfo=UTC)
    rows = {
        "a_edu": _seed(world["officer"], world["school"], 1, day)[0],
        "a_med": _seed(
            world["officer"], world["school"], 1, day + timedelta(days=1), category="mediation"
        )[0],
        "b_edu": _seed(world["officer"], world["other_school"], 1, day + timedelta(days=2))[0],
        "colleague": _seed(colleague, world["school"], 1, day + timedelta(days=3))[0],
        "late": _seed(
            world["officer"], world["school"], 1, datetime(2025, 3, 7, 23, 59, tzinfo=EDMONTON)
        )[0],
        "next_day": _seed(
            world["officer"], world["school"], 1, datetime(2025, 3, 8, 0, 0, tzinfo=EDMONTON)
        )[0],
    }
    with app_context():
        leader = db.session.get(User, world["leader"].id)
        review.review(db.session.get(Activity, rows["a_med"].id), leader, "confirm", None)
        review.review(
            db.session.get(Activity, rows["colleague"].id), leader, "dispute", "Not here."
        )
        db.session.commit()
    return {name: str(a.id) for name, a in rows.items()} | {"colleague_id": colleague.id}


def _ids(client, user, query) -> set[str]:
    response = client.get(URL, query_string=query, headers=auth(user))
    assert response.status_code == 200, response.json
    return {a["id"] for a in response.json["items"]}


def test_list_activities_filter_school_id(client, world, filtered):
    found = _ids(client, world["admin"], {"school_id": world["other_school"].id})
    assert found == {filtered["b_edu"]}


def test_list_activities_filter_officer_id(client, world, filtered):
    found = _ids(client, world["manager"], {"officer_id": filtered["colleague_id"]})
    assert found == {filtered["colleague"]}


def test_list_activities_filter_category(client, world, filtered):
    assert _ids(client, world["admin"], {"category": "mediation"}) == {filtered["a_med"]}


def test_list_activities_filter_status(client, world, filtered):
    assert _ids(client, world["admin"], {"status": "confirmed"}) == {filtered["a_med"]}
    assert _ids(client, world["admin"], {"status": "disputed"}) == {filtered["colleague"]}
    submitted = _ids(client, world["admin"], {"status": "submitted"})
    assert submitted == {filtered[k] for k in ("a_edu", "b_edu", "late", "next_day")}


def test_list_activities_filter_dates_are_inclusive_days(client, world, filtered):
    found = _ids(client, world["admin"], {"from": "2025-03-04", "to": "2025-03-07"})
    assert found == {filtered[k] for k in ("a_med", "b_edu", "colleague", "late")}
    assert _ids(client, world["admin"], {"from": "2025-03-08"}) == {filtered["next_day"]}
    assert _ids(client, world["admin"], {"to": "2025-03-03"}) == {filtered["a_edu"]}


def test_list_activities_filters_combine_with_scope(client, world, filtered):
    found = _ids(client, world["officer"], {"school_id": world["school"].id, "status": "submitted"})
    assert found == {filtered[k] for k in ("a_edu", "late", "next_day")}
    leader = _ids(client, world["leader"], {"officer_id": world["officer"].id})
    assert leader == {filtered[k] for k in ("a_edu", "a_med", "late", "next_day")}


def test_list_activities_manager_gets_no_summary(client, world):
    post_activity(client, world["officer"], world["school"])
    response = client.get(URL, headers=auth(world["manager"]))
    assert response.status_code == 200
    assert len(response.json["items"]) == 1
    assert "summary" not in response.json["items"][0]
    assert "review_note" not in response.json["items"][0]
    assert "Online safety" not in response.get_data(as_text=True)


BAD_QUERIES = {
    "limit_zero": {"limit": 0},
    "limit_too_big": {"limit": 501},
    "limit_text": {"limit": "many"},
    "cursor_garbage": {"cursor": "!!!not-base64!!!"},
    "cursor_not_json": {"cursor": "bm90IGpzb24"},
    "cursor_wrong_size": {"cursor": encode_cursor([1, 2, 3])},
    "cursor_bad_time": {"cursor": encode_cursor(["yesterday", str(uuid.uuid4())])},
    "cursor_naive_time": {"cursor": encode_cursor(["2025-03-03T09:00:00", str(uuid.uuid4())])},
    "cursor_time_overflow": {
        "cursor": encode_cursor(["0001-01-01T00:00:00+01:00", str(uuid.uuid4())])
    },
    "cursor_bad_id": {"cursor": encode_cursor(["2025-03-03T09:00:00+00:00", "nope"])},
    "cursor_number_id": {"cursor": encode_cursor(["2025-03-03T09:00:00+00:00", 5])},
    "cursor_object": {"cursor": encode_cursor([{"a": 1}, [2]])},
    "cursor_too_long": {"cursor": "a" * 600},
    "school_id_zero": {"school_id": 0},
    "officer_id_text": {"officer_id": "me"},
    "category_enum": {"category": "patrol"},
    "status_enum": {"status": "deleted"},
    "from_not_date": {"from": "last week"},
    "to_before_from": {"from": "2025-03-05", "to": "2025-03-04"},
    "to_last_day": {"to": "9999-12-31"},
    "from_first_day": {"from": "0001-01-01"},
}


@pytest.mark.parametrize("query", BAD_QUERIES.values(), ids=list(BAD_QUERIES))
def test_list_activities_bad_query_returns_422(client, world, query):
    response = client.get(URL, query_string=query, headers=auth(world["officer"]))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["details"]


@pytest.mark.parametrize("limit", [1, 500])
def test_list_activities_limit_bounds_are_accepted(client, world, limit):
    response = client.get(URL, query_string={"limit": limit}, headers=auth(world["officer"]))
    assert response.status_code == 200


def test_history_pages_with_limit_and_cursor_in_version_order(client, team):
    officer, school = team["officer"], team["school"]
    activity = post_activity(client, officer, school)
    for minutes in (30, 31, 32):
        response = client.patch(
            f"{ACTIVITIES}/{activity['id']}",
            json={"duration_minutes": minutes},
            headers=auth(officer),
        )
        assert response.status_code == 200
    url = f"{ACTIVITIES}/{activity['id']}/history"
    first = client.get(url, query_string={"limit": 3}, headers=auth(officer))
    assert first.status_code == 200
    assert [item["version"] for item in first.json["items"]] == [1, 2, 3]
    cursor = first.json["next_cursor"]
    rest = client.get(url, query_string={"limit": 3, "cursor": cursor}, headers=auth(officer))
    assert [item["version"] for item in rest.json["items"]] == [4]
    assert rest.json["next_cursor"] is None
    bad = client.get(url, query_string={"cursor": "nonsense"}, headers=auth(officer))
    assert bad.status_code == 422
