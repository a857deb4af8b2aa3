"""The school's review: confirm, dispute (reason required), bulk review."""

import uuid

import pytest

from api.extensions import db
from api.models import Activity, School, User
from tests.factories import app_context, auth, make_school, make_user, post_activity, stored

URL = "/api/v1/activities"


def _item(activity_id) -> str:
    return f"{URL}/{activity_id}"


@pytest.fixture
def world(app):
    school = make_school()
    officer = make_user("officer", [school])
    leader = make_user("school_leader", [school])
    return {"school": school, "officer": officer, "leader": leader}


def test_confirm_activity_leader_of_school_returns_200(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(
        _item(created["id"]) + "/confirm", json={"note": "Saw it."}, headers=auth(world["leader"])
    )
    assert response.status_code == 200
    assert response.json["status"] == "confirmed"
    assert response.json["review_note"] == "Saw it."
    assert response.json["reviewed_by"] == world["leader"].id
    assert response.json["reviewed_at"]
    assert response.json["version"] == 2
    assert response.headers["ETag"] == '"2"'
    history = client.get(_item(created["id"]) + "/history", headers=auth(world["leader"])).json
    review = history["items"][-1]
    assert (review["action"], review["version"]) == ("confirm", 2)
    assert review["changes"] == {
        "status": {"from": "submitted", "to": "confirmed"},
        "review_note": {"from": None, "to": "Saw it."},
    }


def test_confirm_activity_without_body_note_returns_200(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(
        _item(created["id"]) + "/confirm", json={}, headers=auth(world["leader"])
    )
    assert response.status_code == 200
    assert response.json["review_note"] is None


def test_confirm_activity_with_no_body_at_all_returns_200(client, world):
    """The contract's body is {note?}: a confirm sent with no body is a confirm without one."""
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(_item(created["id"]) + "/confirm", headers=auth(world["leader"]))
    assert response.status_code == 200
    assert (response.json["status"], response.json["review_note"]) == ("confirmed", None)
    dispute = client.post(_item(created["id"]) + "/dispute", headers=auth(world["leader"]))
    assert dispute.status_code == 422  # a dispute needs its reason
    assert dispute.json["error"]["details"] == {
        "_body": ["Send a JSON body with Content-Type: application/json."]
    }


def test_confirm_activity_twice_keeps_version(client, world):
    created = post_activity(client, world["officer"], world["school"])
    url = _item(created["id"]) + "/confirm"
    client.post(url, json={}, headers=auth(world["leader"]))
    again = client.post(url, json={}, headers=auth(world["leader"]))
    assert again.status_code == 200
    assert again.json["version"] == 2


def test_dispute_activity_with_reason_returns_200(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(
        _item(created["id"]) + "/dispute",
        json={"reason": "The officer was not here that day."},
        headers=auth(world["leader"]),
    )
    assert response.status_code == 200
    assert response.json["status"] == "disputed"
    assert response.json["review_note"] == "The officer was not here that day."


def test_confirm_after_dispute_changes_status(client, world):
    created = post_activity(client, world["officer"], world["school"])
    item = _item(created["id"])
    client.post(item + "/dispute", json={"reason": "Unsure."}, headers=auth(world["leader"]))
    response = client.post(item + "/confirm", json={}, headers=auth(world["leader"]))
    assert response.status_code == 200
    assert response.json["status"] == "confirmed"
    assert response.json["review_note"] is None
    assert response.json["version"] == 3


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}, {"note": "Because."}],
    ids=["missing", "empty", "blank", "null", "wrong_key"],
)
def test_dispute_activity_without_reason_returns_422(client, world, body):
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(
        _item(created["id"]) + "/dispute", json=body, headers=auth(world["leader"])
    )
    assert response.status_code == 422
    assert "reason" in response.json["error"]["details"]
    current = client.get(_item(created["id"]), headers=auth(world["leader"])).json
    assert current["status"] == "submitted"


def test_dispute_activity_blank_reason_says_a_reason_is_required(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(
        _item(created["id"]) + "/dispute", json={"reason": " \t "}, headers=auth(world["leader"])
    )
    assert response.status_code == 422
    assert response.json["error"] == {
        "code": "validation_error",
        "message": "Say why you dispute this activity.",
        "details": {"reason": ["A reason is required."]},
    }


@pytest.mark.parametrize(
    "body",
    [{"note": "x" * 501}, {"status": "confirmed"}, {"colour": "blue"}, {"note": 5}],
    ids=["too_long", "server_owned", "unknown", "wrong_type"],
)
def test_confirm_activity_bad_body_returns_422(client, world, body):
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(
        _item(created["id"]) + "/confirm", json=body, headers=auth(world["leader"])
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_confirm_activity_malformed_json_returns_422(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(
        _item(created["id"]) + "/confirm",
        data="{",
        content_type="application/json",
        headers=auth(world["leader"]),
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_json"


def test_confirm_activity_of_other_school_returns_404(client, world):
    created = post_activity(client, world["officer"], world["school"])
    stranger = make_user("school_leader", [make_school()])
    response = client.post(_item(created["id"]) + "/confirm", json={}, headers=auth(stranger))
    assert response.status_code == 404


def test_confirm_activity_unknown_id_returns_404(client, world):
    response = client.post(_item(uuid.uuid4()) + "/confirm", json={}, headers=auth(world["leader"]))
    assert response.status_code == 404


def test_confirm_activity_by_owner_officer_returns_403(client, world):
    created = post_activity(client, world["officer"], world["school"])
    response = client.post(
        _item(created["id"]) + "/confirm", json={}, headers=auth(world["officer"])
    )
    assert response.status_code == 403
    assert response.json["error"] == {
        "code": "forbidden",
        "message": "Only a leader of this school can review its activities.",
        "details": {},
    }
    kept = stored(Activity, uuid.UUID(created["id"]))
    assert (kept.status, kept.version, kept.reviewed_by) == ("submitted", 1, None)


def test_confirm_activity_deleted_returns_409(client, world):
    created = post_activity(client, world["officer"], world["school"])
    assert client.delete(_item(created["id"]), headers=auth(world["officer"])).status_code == 204
    response = client.post(
        _item(created["id"]) + "/confirm", json={}, headers=auth(world["leader"])
    )
    assert response.status_code == 409
    assert response.json["error"] == {
        "code": "activity_deleted",
        "message": "This activity has been deleted.",
        "details": {},
    }
    kept = stored(Activity, uuid.UUID(created["id"]))
    assert kept.deleted_at is not None
    assert (kept.status, kept.version, kept.reviewed_by) == ("submitted", 2, None)


def test_dispute_activity_deleted_returns_409(client, world):
    created = post_activity(client, world["officer"], world["school"])
    client.delete(_item(created["id"]), headers=auth(world["officer"]))
    response = client.post(
        _item(created["id"]) + "/dispute", json={"reason": "Gone."}, headers=auth(world["leader"])
    )
    assert response.status_code == 409


def test_review_after_leader_loses_school_returns_404(client, world):
    created = post_activity(client, world["officer"], world["school"])
    headers = auth(world["leader"])
    elsewhere = make_school()
    with app_context():
        db.session.get(User, world["leader"].id).schools = [db.session.get(School, elsewhere.id)]
        db.session.commit()
    response = client.post(_item(created["id"]) + "/confirm", json={}, headers=headers)
    assert response.status_code == 404


# --- bulk --------------------------------------------------------------------------------


def test_bulk_confirm_returns_result_per_id(client, world):
    first = post_activity(client, world["officer"], world["school"])
    second = post_activity(client, world["officer"], world["school"])
    elsewhere = make_school()
    stranger = make_user("officer", [elsewhere])
    foreign = post_activity(client, stranger, elsewhere)
    unknown = str(uuid.uuid4())
    body = {
        "ids": [first["id"], foreign["id"], second["id"], unknown],
        "action": "confirm",
        "note": "Routine.",
    }
    response = client.post(URL + "/review", json=body, headers=auth(world["leader"]))
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["id"] for r in results] == body["ids"]
    assert [r["ok"] for r in results] == [True, False, True, False]
    assert results[0]["activity"]["status"] == "confirmed"
    assert results[0]["activity"]["review_note"] == "Routine."
    # An id the leader cannot see fails as the single review of it would.
    single = client.post(_item(unknown) + "/confirm", json={}, headers=auth(world["leader"]))
    assert single.status_code == 404
    assert results[1]["error"] == results[3]["error"] == single.json["error"]
    assert single.json["error"]["code"] == "not_found"
    assert "activity" not in results[1]
    own = client.get(_item(foreign["id"]), headers=auth(stranger)).json
    assert own["status"] == "submitted"


def test_bulk_dispute_with_note_disputes_each(client, world):
    ids = [post_activity(client, world["officer"], world["school"])["id"] for _ in range(3)]
    body = {"ids": ids, "action": "dispute", "note": "None of these happened."}
    response = client.post(URL + "/review", json=body, headers=auth(world["leader"]))
    assert response.status_code == 200
    assert all(r["ok"] for r in response.json["results"])
    for activity_id in ids:
        current = client.get(_item(activity_id), headers=auth(world["officer"])).json
        assert current["status"] == "disputed"
        assert current["review_note"] == "None of these happened."


def test_bulk_review_deleted_id_reports_conflict_others_apply(client, world):
    kept = post_activity(client, world["officer"], world["school"])
    gone = post_activity(client, world["officer"], world["school"])
    client.delete(_item(gone["id"]), headers=auth(world["officer"]))
    body = {"ids": [gone["id"], kept["id"]], "action": "confirm"}
    response = client.post(URL + "/review", json=body, headers=auth(world["leader"]))
    assert response.status_code == 200
    results = response.json["results"]
    assert results[0] == {
        "id": gone["id"],
        "ok": False,
        "error": {
            "code": "activity_deleted",
            "message": "This activity has been deleted.",
            "details": {},
        },
    }
    assert results[1]["id"] == kept["id"]
    assert results[1]["ok"] is True
    history = client.get(_item(gone["id"]) + "/history", headers=auth(world["leader"])).json
    assert [r["action"] for r in history["items"]] == ["create", "delete"]


def test_bulk_review_repeated_id_gets_one_result(client, world):
    created = post_activity(client, world["officer"], world["school"])
    body = {"ids": [created["id"], created["id"]], "action": "confirm"}
    response = client.post(URL + "/review", json=body, headers=auth(world["leader"]))
    assert response.status_code == 200
    assert len(response.json["results"]) == 1
    current = client.get(_item(created["id"]), headers=auth(world["leader"])).json
    assert current["version"] == 2


@pytest.mark.parametrize("note", [None, "", "  "], ids=["missing", "empty", "blank"])
def test_bulk_dispute_without_note_returns_422(client, world, note):
    created = post_activity(client, world["officer"], world["school"])
    body = {"ids": [created["id"]], "action": "dispute"} | ({"note": note} if note else {})
    response = client.post(URL + "/review", json=body, headers=auth(world["leader"]))
    assert response.status_code == 422
    assert "note" in response.json["error"]["details"]
    assert response.json["error"] == {
        "code": "validation_error",
        "message": "Say why you dispute this activity.",
        "details": {"note": ["A reason is required."]},
    }
    current = client.get(_item(created["id"]), headers=auth(world["leader"])).json
    assert current["status"] == "submitted"


BAD_BULK = {
    "no_ids": {"action": "confirm"},
    "empty_ids": {"ids": [], "action": "confirm"},
    "bad_uuid": {"ids": ["nope"], "action": "confirm"},
    "too_many": {"ids": [str(uuid.uuid4()) for _ in range(501)], "action": "confirm"},
    "action_enum": {"ids": [str(uuid.uuid4())], "action": "approve"},
    "no_action": {"ids": [str(uuid.uuid4())]},
    "unknown_field": {"ids": [str(uuid.uuid4())], "action": "confirm", "status": "confirmed"},
    "note_identifier": {"ids": [str(uuid.uuid4())], "action": "confirm", "note": "a@b.org"},
}


@pytest.mark.parametrize("body", BAD_BULK.values(), ids=list(BAD_BULK))
def test_bulk_review_bad_body_returns_422(client, world, body):
    response = client.post(URL + "/review", json=body, headers=auth(world["leader"]))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["details"]


@pytest.mark.parametrize("role", ["officer", "program_manager", "admin"])
def test_bulk_review_other_roles_return_403(client, world, role):
    created = post_activity(client, world["officer"], world["school"])
    user = world["officer"] if role == "officer" else make_user(role)
    body = {"ids": [created["id"]], "action": "confirm"}
    response = client.post(URL + "/review", json=body, headers=auth(user))
    assert response.status_code == 403
    current = client.get(_item(created["id"]), headers=auth(world["officer"])).json
    assert current["status"] == "submitted"


def test_bulk_review_without_token_returns_401(client, world):
    body = {"ids": [str(uuid.uuid4())], "action": "confirm"}
    response = client.post(URL + "/review", json=body)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
