"""Each role against each other role's, officer's and school's records, for each verb.

Out of scope (the caller may not see the record) is 404, so existence is not leaked; in scope
but not allowed is 403 (api.md: officers see their own, leaders their schools', managers and
admins all; only the owning officer edits; the owner until confirmed, or an admin, deletes;
only a leader of that school reviews).
"""

import pytest

from tests.factories import auth, make_school, make_user, post_activity

VERBS = ("get", "patch", "delete", "confirm", "dispute", "history")

# Who the caller is, relative to an activity logged by an officer at a school.
EXPECTED = {
    "owning_officer": {
        "get": 200, "patch": 200, "delete": 204, "confirm": 403, "dispute": 403, "history": 200,
    },
    "officer_same_school": {
        "get": 404, "patch": 404, "delete": 404, "confirm": 404, "dispute": 404, "history": 404,
    },
    "officer_other_school": {
        "get": 404, "patch": 404, "delete": 404, "confirm": 404, "dispute": 404, "history": 404,
    },
    "leader_of_school": {
        "get": 200, "patch": 403, "delete": 403, "confirm": 200, "dispute": 200, "history": 200,
    },
    "leader_other_school": {
        "get": 404, "patch": 404, "delete": 404, "confirm": 404, "dispute": 404, "history": 404,
    },
    "program_manager": {
        "get": 200, "patch": 403, "delete": 403, "confirm": 403, "dispute": 403, "history": 200,
    },
    "admin": {
        "get": 200, "patch": 403, "delete": 204, "confirm": 403, "dispute": 403, "history": 200,
    },
}  # fmt: skip


@pytest.fixture
def world(client):
    """Two schools, each with two officers and a leader; one activity per officer."""
    north, south = make_school(name="North"), make_school(name="South")
    people = {
        "north_officer": make_user("officer", [north]),
        "north_colleague": make_user("officer", [north]),
        "south_officer": make_user("officer", [south]),
        "south_colleague": make_user("officer", [south]),
        "north_leader": make_user("school_leader", [north]),
        "south_leader": make_user("school_leader", [south]),
        "manager": make_user("program_manager"),
        "admin": make_user("admin"),
    }
    records = {
        "north": post_activity(client, people["north_officer"], north),
        "south": post_activity(client, people["south_officer"], south),
    }
    return people, records


def _caller(people: dict, relation: str, school: str):
    other = "south" if school == "north" else "north"
    return {
        "owning_officer": people[f"{school}_officer"],
        "officer_same_school": people[f"{school}_colleague"],
        "officer_other_school": people[f"{other}_officer"],
        "leader_of_school": people[f"{school}_leader"],
        "leader_other_school": people[f"{other}_leader"],
        "program_manager": people["manager"],
        "admin": people["admin"],
    }[relation]


def _send(client, verb: str, activity_id: str, headers: dict):
    url = f"/api/v1/activities/{activity_id}"
    if verb == "get":
        return client.get(url, headers=headers)
    if verb == "patch":
        return client.patch(url, json={"duration_minutes": 50}, headers=headers)
    if verb == "delete":
        return client.delete(url, headers=headers)
    if verb == "confirm":
        return client.post(url + "/confirm", json={"note": "Seen."}, headers=headers)
    if verb == "dispute":
        return client.post(url + "/dispute", json={"reason": "Not seen."}, headers=headers)
    return client.get(url + "/history", headers=headers)


CASES = [
    (relation, school, verb)
    for relation in EXPECTED
    for school in ("north", "south")
    for verb in VERBS
]


@pytest.mark.parametrize(("relation", "school", "verb"), CASES)
def test_activity_verb_by_relation_returns_spec_status(client, world, relation, school, verb):
    people, records = world
    record = records[school]
    caller = _caller(people, relation, school)
    expected = EXPECTED[relation][verb]
    response = _send(client, verb, record["id"], auth(caller))
    assert response.status_code == expected, response.json
    if expected >= 400:
        assert response.json["error"]["code"] in ("forbidden", "not_found")
        # A refused request changes nothing.
        owner = auth(people[f"{school}_officer"])
        current = client.get(f"/api/v1/activities/{record['id']}", headers=owner)
        assert current.json == record


LIST_SCOPE = {
    "owning_officer": {"north"},
    "officer_same_school": set(),
    "officer_other_school": {"south"},
    "leader_of_school": {"north"},
    "leader_other_school": {"south"},
    "program_manager": {"north", "south"},
    "admin": {"north", "south"},
}


@pytest.mark.parametrize(("relation", "schools"), LIST_SCOPE.items(), ids=list(LIST_SCOPE))
def test_list_activities_by_relation_shows_only_scope(client, world, relation, schools):
    people, records = world
    caller = _caller(people, relation, "north")
    response = client.get("/api/v1/activities", headers=auth(caller))
    assert response.status_code == 200
    assert {a["id"] for a in response.json["items"]} == {records[s]["id"] for s in schools}


@pytest.mark.parametrize("relation", list(EXPECTED))
def test_bulk_review_by_relation_reviews_only_own_schools(client, world, relation):
    people, records = world
    caller = _caller(people, relation, "north")
    body = {"ids": [records["north"]["id"], records["south"]["id"]], "action": "confirm"}
    response = client.post("/api/v1/activities/review", json=body, headers=auth(caller))
    if relation not in ("leader_of_school", "leader_other_school"):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    own = "north" if relation == "leader_of_school" else "south"
    ok = {r["id"]: r["ok"] for r in response.json["results"]}
    assert ok == {records["north"]["id"]: own == "north", records["south"]["id"]: own == "south"}
