"""`submitted_at`: when an activity last went to the school for review. Logging it sets it;
an edit that sends a confirmed or disputed activity back sets it again, by REST or by sync;
an edit of an activity still waiting, a review and a client never move it."""

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import Activity
from api.services import demo
from tests.factories import ACTIVITIES, auth, post_activity, review
from tests.test_sync_support import push, upsert


def _patch(client, team, activity_id: str, body: dict) -> dict:
    response = client.patch(f"{ACTIVITIES}/{activity_id}", json=body, headers=auth(team["officer"]))
    assert response.status_code == 200, response.json
    return response.json


def _push_edit(client, team, activity: dict, data: dict) -> dict:
    mutation = upsert(activity_id=activity["id"], base=activity["version"], data=data)
    (result,) = push(client, team["officer"], [mutation]).json["results"]
    assert result["status"] == "applied", result
    return result["activity"]


def test_create_by_rest_or_push_sets_submitted_at_to_created_at(client, team):
    posted = post_activity(client, team["officer"], team["school"])
    (pushed,) = push(client, team["officer"], [upsert(team["school"])]).json["results"]

    assert posted["submitted_at"] == posted["created_at"]
    assert pushed["activity"]["submitted_at"] == pushed["activity"]["created_at"]


@pytest.mark.parametrize("action", ["confirm", "dispute"])
def test_patch_of_a_reviewed_activity_sets_submitted_at_to_the_edit(client, team, action):
    created = post_activity(client, team["officer"], team["school"])
    review(client, team, created["id"], action)

    edited = _patch(client, team, created["id"], {"participant_count": 5})

    assert edited["status"] == "submitted"
    assert edited["submitted_at"] == edited["updated_at"] > created["submitted_at"]


@pytest.mark.parametrize("action", ["confirm", "dispute"])
def test_push_edit_of_a_reviewed_activity_sets_submitted_at_to_the_edit(client, team, action):
    created = post_activity(client, team["officer"], team["school"])
    reviewed = review(client, team, created["id"], action)

    edited = _push_edit(client, team, reviewed, {"participant_count": 5})

    assert edited["status"] == "submitted"
    assert edited["submitted_at"] == edited["updated_at"] > created["submitted_at"]


def test_stale_push_edit_merged_over_a_review_sets_submitted_at(client, team):
    created = post_activity(client, team["officer"], team["school"])
    review(client, team, created["id"])  # the phone has not seen this yet

    edited = _push_edit(client, team, created, {"outcome": "none"})

    assert edited["submitted_at"] == edited["updated_at"] > created["submitted_at"]


def test_patch_of_a_submitted_activity_keeps_submitted_at(client, team):
    created = post_activity(client, team["officer"], team["school"])

    edited = _patch(client, team, created["id"], {"participant_count": 5})

    assert edited["version"] == 2
    assert edited["submitted_at"] == created["submitted_at"]


def test_push_edit_of_a_reopened_activity_keeps_the_reopening_time(client, team):
    created = post_activity(client, team["officer"], team["school"])
    review(client, team, created["id"])
    reopened = _patch(client, team, created["id"], {"participant_count": 5})

    edited = _push_edit(client, team, reopened, {"outcome": "follow_up"})

    assert edited["version"] == 4
    assert edited["submitted_at"] == reopened["submitted_at"] < edited["updated_at"]


def test_review_keeps_submitted_at(client, team):
    created = post_activity(client, team["officer"], team["school"])

    confirmed = review(client, team, created["id"])
    disputed = review(client, team, created["id"], "dispute")

    assert confirmed["submitted_at"] == disputed["submitted_at"] == created["submitted_at"]


def test_submitted_at_is_read_back_as_stored(client, team):
    created = post_activity(client, team["officer"], team["school"])
    review(client, team, created["id"])
    edited = _patch(client, team, created["id"], {"participant_count": 5})

    fetched = client.get(f"{ACTIVITIES}/{created['id']}", headers=auth(team["leader"]))

    assert fetched.status_code == 200
    assert fetched.json["submitted_at"] == edited["submitted_at"]


def test_push_data_with_submitted_at_is_rejected(client, team):
    data = {"participant_count": 5, "submitted_at": "2025-03-04T09:30:00+00:00"}
    created = post_activity(client, team["officer"], team["school"])
    mutation = upsert(activity_id=created["id"], base=1, data=data)

    (result,) = push(client, team["officer"], [mutation]).json["results"]

    assert result["status"] == "rejected"
    assert "data.submitted_at" in result["error"]["details"]
    fetched = client.get(f"{ACTIVITIES}/{created['id']}", headers=auth(team["officer"]))
    assert fetched.json == created


def test_demo_data_is_submitted_when_it_was_logged(app):
    with app.app_context():
        demo.load_demo(50, seed=3)
        times = db.session.execute(select(Activity.created_at, Activity.submitted_at)).all()
    assert len(times) == 50
    assert all(submitted == created for created, submitted in times)
