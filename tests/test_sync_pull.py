"""GET /api/v1/sync/pull: the change feed by server sequence, scoped, with resets."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from api.extensions import db
from api.models import Activity, ActivityRevision, School, User
from tests.factories import app_context, auth, make_school, make_user
from tests.test_sync_support import pull, pull_all, push, remove, upsert


def _officer():
    school = make_school()
    return school, make_user("officer", [school])


def _push_ok(client, user, mutations) -> list[dict]:
    response = push(client, user, mutations)
    assert response.status_code == 200
    assert {r["status"] for r in response.json["results"]} <= {"applied"}, response.json
    return response.json["results"]


def test_pull_without_token_returns_401(client):
    response = client.get("/api/v1/sync/pull")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_pull_as_manager_returns_403(client):
    manager = make_user("program_manager")
    response = pull(client, manager)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_pull_garbage_cursor_returns_422(client):
    _, officer = _officer()
    response = pull(client, officer, since="not-a-cursor")
    assert response.status_code == 422
    assert "since" in response.json["error"]["details"]


def test_pull_limit_over_500_returns_422(client):
    _, officer = _officer()
    response = pull(client, officer, limit=501)
    assert response.status_code == 422
    assert "limit" in response.json["error"]["details"]


def test_pull_from_start_returns_own_activities_only(client):
    school, officer = _officer()
    other = make_user("officer", [school])
    mine = upsert(school)
    _push_ok(client, officer, [mine])
    _push_ok(client, other, [upsert(school)])
    response = pull(client, officer)
    assert response.status_code == 200
    assert response.json["has_more"] is False
    assert [c["id"] for c in response.json["changes"]] == [mine["activity_id"]]
    assert response.json["changes"][0]["version"] == 1
    assert isinstance(response.json["cursor"], str)


def test_pull_with_latest_cursor_returns_no_changes_and_same_position(client):
    school, officer = _officer()
    _push_ok(client, officer, [upsert(school)])
    _, cursor = pull_all(client, officer)
    response = pull(client, officer, since=cursor)
    assert response.status_code == 200
    assert response.json == {"changes": [], "cursor": cursor, "has_more": False}


def test_pull_delete_then_pull_returns_tombstone(client):
    school, officer = _officer()
    created = upsert(school)
    _push_ok(client, officer, [created])
    changes, cursor = pull_all(client, officer)
    assert changes[0]["id"] == created["activity_id"]

    _push_ok(client, officer, [remove(created["activity_id"], base=1)])
    response = pull(client, officer, since=cursor)

    assert response.status_code == 200
    assert response.json["changes"] == [
        {"id": created["activity_id"], "deleted": True, "version": 2}
    ]
    from_start, _ = pull_all(client, officer)
    assert from_start == response.json["changes"]


def test_pull_1000_changes_at_odd_page_size_has_no_gap_or_duplicate(client):
    school, officer = _officer()
    created = []
    for _ in range(2):
        batch = [upsert(school) for _ in range(500)]
        _push_ok(client, officer, batch)
        created.extend(m["activity_id"] for m in batch)

    changes, _ = pull_all(client, officer, limit=7)

    seen = [c["id"] for c in changes]
    assert len(seen) == 1000
    assert len(set(seen)) == 1000
    assert seen == created  # commit order is push order


def test_pull_changed_again_is_returned_once_at_its_new_position(client):
    school, officer = _officer()
    first, second = upsert(school), upsert(school)
    _push_ok(client, officer, [first, second])
    edit = upsert(activity_id=first["activity_id"], base=1, data={"duration_minutes": 15})
    _push_ok(client, officer, [edit])
    changes, _ = pull_all(client, officer, limit=1)
    assert [(c["id"], c["version"]) for c in changes] == [
        (second["activity_id"], 1),
        (first["activity_id"], 2),
    ]


def test_pull_client_clock_far_in_future_changes_nothing(client):
    school, officer = _officer()
    future = upsert(school) | {"client_time": "2099-12-31T23:59:00+00:00"}
    _push_ok(client, officer, [future])
    changes, cursor = pull_all(client, officer)
    assert [c["id"] for c in changes] == [future["activity_id"]]
    stamped = datetime.fromisoformat(changes[0]["updated_at"])
    assert stamped <= datetime.now(UTC) + timedelta(minutes=1)

    past = upsert(school) | {"client_time": "2001-01-01T00:00:00+00:00"}
    now = upsert(school)
    _push_ok(client, officer, [past])
    _push_ok(client, officer, [now])
    response = pull(client, officer, since=cursor)

    assert response.status_code == 200
    assert [c["id"] for c in response.json["changes"]] == [
        past["activity_id"],
        now["activity_id"],
    ]
    with app_context():
        revision = db.session.scalar(
            select(ActivityRevision).where(
                ActivityRevision.activity_id == uuid.UUID(future["activity_id"])
            )
        )
    assert revision.client_time.year == 2099
    assert revision.at < datetime.now(UTC) + timedelta(minutes=1)


def test_pull_review_reaches_the_officer(client):
    school, officer = _officer()
    leader = make_user("school_leader", [school])
    created = upsert(school)
    _push_ok(client, officer, [created])
    _, cursor = pull_all(client, officer)
    url = f"/api/v1/activities/{created['activity_id']}/confirm"
    assert client.post(url, json={"note": "Seen it"}, headers=auth(leader)).status_code == 200

    response = pull(client, officer, since=cursor)

    assert response.status_code == 200
    (change,) = response.json["changes"]
    assert change["status"] == "confirmed"
    assert change["version"] == 2
    assert change["reviewed_by"] == leader.id


def test_pull_leader_sees_own_schools_with_tombstones(client):
    school, officer = _officer()
    elsewhere = make_school()
    officer_elsewhere = make_user("officer", [elsewhere])
    leader = make_user("school_leader", [school])
    kept, deleted = upsert(school), upsert(school)
    _push_ok(client, officer, [kept, deleted, remove(deleted["activity_id"], base=1)])
    _push_ok(client, officer_elsewhere, [upsert(elsewhere)])

    changes, _ = pull_all(client, leader)

    assert [c["id"] for c in changes] == [kept["activity_id"], deleted["activity_id"]]
    assert changes[1] == {"id": deleted["activity_id"], "deleted": True, "version": 2}


def _moved_school_world():
    """An officer of schools A and B, a leader of A, and another leader of A and B."""
    a, b = make_school(), make_school()
    return a, b, make_user("officer", [a, b]), make_user("school_leader", [a])


def _move(client, officer, activity_id: str, base: int, school: School) -> None:
    edit = upsert(activity_id=activity_id, base=base, data={"school_id": school.id})
    _push_ok(client, officer, [edit])


def test_pull_leader_hears_when_an_activity_moves_away_from_their_school(client):
    a, b, officer, leader = _moved_school_world()
    moved, stays = upsert(a), upsert(a)
    _push_ok(client, officer, [moved, stays])
    first, cursor = pull_all(client, leader)
    assert {c["id"] for c in first} == {moved["activity_id"], stays["activity_id"]}

    _move(client, officer, moved["activity_id"], 1, b)
    changes, cursor = pull_all(client, leader, since=cursor)

    assert changes == [{"id": moved["activity_id"], "deleted": True, "version": 2}]
    assert pull_all(client, leader, since=cursor)[0] == []  # told once
    from_start, _ = pull_all(client, leader)  # as for a deleted one: its tombstone only
    assert [(c["id"], c.get("deleted", False)) for c in from_start] == [
        (stays["activity_id"], False),
        (moved["activity_id"], True),
    ]


def test_pull_leader_gets_an_activity_back_when_it_returns(client):
    a, b, officer, leader = _moved_school_world()
    both = make_user("school_leader", [a, b])
    activity = upsert(a)
    _push_ok(client, officer, [activity])
    _, cursor = pull_all(client, leader)
    _, cursor_of_both = pull_all(client, both)

    _move(client, officer, activity["activity_id"], 1, b)
    _move(client, officer, activity["activity_id"], 2, a)
    changes, _ = pull_all(client, leader, since=cursor, limit=1)
    assert [(c["id"], c.get("deleted"), c["version"]) for c in changes] == [
        (activity["activity_id"], None, 3)
    ]
    # A leader of both schools saw it move between them: the record each time, no tombstone.
    changes, _ = pull_all(client, both, since=cursor_of_both)
    assert [(c.get("deleted"), c["school_id"]) for c in changes] == [(None, a.id)]


def test_pull_leader_pages_through_moves_away_in_feed_order(client):
    a, b, officer, leader = _moved_school_world()
    created = [upsert(a) for _ in range(5)]
    _push_ok(client, officer, created)
    _, cursor = pull_all(client, leader)
    for index in (0, 2, 4):
        _move(client, officer, created[index]["activity_id"], 1, b)
    _push_ok(
        client,
        officer,
        [upsert(activity_id=created[1]["activity_id"], base=1, data={"participant_count": 7})],
    )

    changes, _ = pull_all(client, leader, since=cursor, limit=2)

    expected = [created[i]["activity_id"] for i in (0, 2, 4, 1)]
    assert [c["id"] for c in changes] == expected
    assert [bool(c.get("deleted")) for c in changes] == [True, True, True, False]


def _assign(user: User, *schools: School) -> None:
    with app_context():
        stored = db.session.get(User, user.id)
        stored.schools = [*stored.schools, *(db.session.get(School, s.id) for s in schools)]
        db.session.commit()


def test_pull_leader_given_another_school_returns_reset(client):
    school, officer = _officer()
    added = make_school()
    officer_added = make_user("officer", [added])
    leader = make_user("school_leader", [school])
    _push_ok(client, officer, [upsert(school)])
    added_activity = upsert(added)
    _push_ok(client, officer_added, [added_activity])
    _, cursor = pull_all(client, leader)

    _assign(leader, added)
    response = pull(client, leader, since=cursor)

    assert response.status_code == 200
    assert response.json == {"reset": True}
    changes, _ = pull_all(client, leader)
    assert added_activity["activity_id"] in {c["id"] for c in changes}


def test_pull_officer_reassigned_returns_reset(client):
    school, officer = _officer()
    _push_ok(client, officer, [upsert(school)])
    _, cursor = pull_all(client, officer)
    _assign(officer, make_school())
    response = pull(client, officer, since=cursor)
    assert response.status_code == 200
    assert response.json == {"reset": True}


def test_pull_another_users_cursor_returns_reset(client):
    school, officer = _officer()
    other = make_user("officer", [school])
    _push_ok(client, officer, [upsert(school)])
    _, cursor = pull_all(client, officer)
    response = pull(client, other, since=cursor)
    assert response.status_code == 200
    assert response.json == {"reset": True}


def test_pull_cursor_ahead_of_server_returns_reset(client):
    school, officer = _officer()
    _push_ok(client, officer, [upsert(school)])
    _, cursor = pull_all(client, officer)
    padded = cursor + "=" * (-len(cursor) % 4)
    sequence, scope = json.loads(base64.urlsafe_b64decode(padded))
    forged = base64.urlsafe_b64encode(json.dumps([sequence + 50, scope]).encode()).decode()
    response = pull(client, officer, since=forged.rstrip("="))
    assert response.status_code == 200
    assert response.json == {"reset": True}


def test_pull_cursor_older_than_purge_returns_reset(client, runner):
    school, officer = _officer()
    gone, kept = upsert(school), upsert(school)
    _push_ok(client, officer, [gone, kept])
    _, old_cursor = pull_all(client, officer)
    _push_ok(client, officer, [remove(gone["activity_id"], base=1)])
    _, fresh_cursor = pull_all(client, officer, since=old_cursor)
    long_ago = datetime.now(UTC) - timedelta(days=400)
    with app_context():
        db.session.execute(
            update(Activity)
            .where(Activity.id == uuid.UUID(gone["activity_id"]))
            .values(deleted_at=long_ago)
        )
        db.session.commit()

    purged = runner.invoke(args=["sync", "purge", "--days", "90"])
    assert purged.exit_code == 0, purged.output

    stale = pull(client, officer, since=old_cursor)
    assert stale.status_code == 200
    assert stale.json == {"reset": True}
    current = pull(client, officer, since=fresh_cursor)
    assert current.status_code == 200
    assert current.json["changes"] == []
    restart, _ = pull_all(client, officer)
    assert [c["id"] for c in restart] == [kept["activity_id"]]


def test_pull_cursor_with_out_of_range_sequence_returns_422(client):
    _, officer = _officer()
    forged = base64.urlsafe_b64encode(json.dumps([2**70, "x"]).encode()).decode()
    response = pull(client, officer, since=forged)
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"since": ["Invalid cursor."]}
