"""The activity lifecycle end to end through the API."""

from tests.factories import activity_body, auth, make_school, make_user, post_activity


def test_create_activity_assigned_school_returns_201(client):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.post("/api/v1/activities", json=activity_body(school), headers=auth(officer))
    assert response.status_code == 201
    assert response.json["status"] == "submitted"
    assert response.json["officer_id"] == officer.id
    assert response.headers["ETag"] == '"1"'


def test_leader_confirm_then_officer_edit_returns_to_submitted(client):
    school = make_school()
    officer = make_user("officer", [school])
    leader = make_user("school_leader", [school])
    created = post_activity(client, officer, school)
    url = f"/api/v1/activities/{created['id']}"
    confirmed = client.post(url + "/confirm", json={}, headers=auth(leader))
    assert confirmed.status_code == 200
    assert confirmed.json["status"] == "confirmed"
    edited = client.patch(url, json={"duration_minutes": 30}, headers=auth(officer))
    assert edited.status_code == 200
    assert edited.json["status"] == "submitted"
    assert edited.json["version"] == 3
