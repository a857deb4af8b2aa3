"""An officer's edit of an activity the school had reviewed sends it back for review, and the
activity says so (`reopened_from`) to both sides until the school reviews it again (issue 16)."""

from tests.factories import ACTIVITIES, auth, post_activity, review
from tests.test_sync_support import pull_all, push, upsert


def _queue(client, team) -> dict:
    response = client.get(
        ACTIVITIES, query_string={"status": "submitted"}, headers=auth(team["leader"])
    )
    assert response.status_code == 200
    return {item["id"]: item for item in response.json["items"]}


def test_offline_edit_of_a_confirmed_activity_says_it_was_confirmed_to_both_sides(client, team):
    created = post_activity(client, team["officer"], team["school"])
    review(client, team, created["id"])  # the phone has not seen this yet

    stale = upsert(activity_id=created["id"], base=1, data={"participant_count": 3})
    (result,) = push(client, team["officer"], [stale]).json["results"]

    assert result["status"] == "applied"
    assert result["activity"]["status"] == "submitted"
    assert result["activity"]["reopened_from"] == "confirmed"
    assert _queue(client, team)[created["id"]]["reopened_from"] == "confirmed"
    changes, _ = pull_all(client, team["officer"])
    assert [c["reopened_from"] for c in changes if c["id"] == created["id"]] == ["confirmed"]


def test_patch_of_a_disputed_activity_says_it_was_disputed(client, team):
    created = post_activity(client, team["officer"], team["school"])
    review(client, team, created["id"], "confirm")
    review(client, team, created["id"], "dispute")

    response = client.patch(
        f"{ACTIVITIES}/{created['id']}",
        json={"participant_count": 5},
        headers=auth(team["officer"]) | {"If-Match": '"3"'},
    )

    assert response.status_code == 200
    assert response.json["reopened_from"] == "disputed"
    fetched = client.get(f"{ACTIVITIES}/{created['id']}", headers=auth(team["leader"]))
    assert fetched.json["reopened_from"] == "disputed"


def test_second_edit_before_the_review_keeps_reopened_from(client, team):
    created = post_activity(client, team["officer"], team["school"])
    review(client, team, created["id"])
    push(
        client,
        team["officer"],
        [upsert(activity_id=created["id"], base=2, data={"outcome": "none"})],
    )

    again = upsert(activity_id=created["id"], base=3, data={"participant_count": 7})
    (result,) = push(client, team["officer"], [again]).json["results"]

    assert (result["status"], result["activity"]["version"]) == ("applied", 4)
    assert result["activity"]["reopened_from"] == "confirmed"


def test_review_after_the_edit_clears_reopened_from(client, team):
    created = post_activity(client, team["officer"], team["school"])
    review(client, team, created["id"])
    push(
        client,
        team["officer"],
        [upsert(activity_id=created["id"], base=1, data={"outcome": "none"})],
    )

    confirmed = review(client, team, created["id"])

    assert confirmed["status"] == "confirmed"
    assert "reopened_from" not in confirmed
    fetched = client.get(f"{ACTIVITIES}/{created['id']}", headers=auth(team["officer"]))
    assert "reopened_from" not in fetched.json


def test_activity_never_reviewed_has_no_reopened_from(client, team):
    created = post_activity(client, team["officer"], team["school"])
    assert "reopened_from" not in created

    edited = client.patch(
        f"{ACTIVITIES}/{created['id']}",
        json={"participant_count": 5},
        headers=auth(team["officer"]),
    )

    assert edited.status_code == 200
    assert "reopened_from" not in edited.json
    assert "reopened_from" not in _queue(client, team)[created["id"]]
