"""`flask sync purge`: retention of tombstones and applied-mutation records."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from api.extensions import db
from api.models import (
    Activity,
    ActivityDeparture,
    ActivityRevision,
    SequenceCounter,
    SyncMutation,
)
from tests.factories import app_context, auth, make_school, make_user, stored
from tests.test_sync_support import pull, pull_all, push, remove, upsert


def _setup(client):
    school = make_school()
    officer = make_user("officer", [school])
    leader = make_user("school_leader", [school])
    return school, officer, leader


def _age_deletion(activity_id: str, days: int) -> None:
    when = datetime.now(UTC) - timedelta(days=days)
    with app_context():
        db.session.execute(
            update(Activity).where(Activity.id == uuid.UUID(activity_id)).values(deleted_at=when)
        )
        db.session.commit()


def _age_mutations(days: int) -> None:
    when = datetime.now(UTC) - timedelta(days=days)
    with app_context():
        db.session.execute(update(SyncMutation).values(created_at=when))
        db.session.commit()


def _ids() -> set[str]:
    with app_context():
        return {str(i) for i in db.session.scalars(select(Activity.id))}


def _revisions(activity_id: str) -> int:
    query = select(func.count()).where(ActivityRevision.activity_id == uuid.UUID(activity_id))
    with app_context():
        return db.session.scalar(query)


def test_sync_purge_old_tombstones_removes_them_and_their_revisions(client, runner):
    school, officer, _ = _setup(client)
    old, recent, live = upsert(school), upsert(school), upsert(school)
    push(client, officer, [old, recent, live])
    push(client, officer, [remove(old["activity_id"], 1), remove(recent["activity_id"], 1)])
    _age_deletion(old["activity_id"], 120)
    _age_deletion(live["activity_id"], 0)  # not deleted: this only proves live rows stay
    with app_context():
        db.session.execute(
            update(Activity)
            .where(Activity.id == uuid.UUID(live["activity_id"]))
            .values(deleted_at=None)
        )
        db.session.commit()

    result = runner.invoke(args=["sync", "purge", "--days", "90"])

    assert result.exit_code == 0, result.output
    assert "Purged 1 tombstones (2 revisions)" in result.output
    assert _ids() == {recent["activity_id"], live["activity_id"]}
    assert _revisions(old["activity_id"]) == 0
    assert _revisions(recent["activity_id"]) == 2


def test_sync_purge_raises_purged_through_to_newest_purged_change(client, runner):
    school, officer, _ = _setup(client)
    first, second = upsert(school), upsert(school)
    push(client, officer, [first, second, remove(first["activity_id"], 1)])
    tombstone_seq = stored(Activity, uuid.UUID(first["activity_id"])).change_seq
    _age_deletion(first["activity_id"], 400)

    assert runner.invoke(args=["sync", "purge"]).exit_code == 0

    counter = stored(SequenceCounter, "activity")
    assert counter.purged_through == tombstone_seq
    assert f"before sequence {tombstone_seq}" in runner.invoke(args=["sync", "purge"]).output


def test_sync_purge_forgets_moves_away_that_no_kept_cursor_can_reach(client, runner):
    a, b = make_school(), make_school()
    officer = make_user("officer", [a, b])
    early, late, gone = upsert(a), upsert(a), upsert(a)
    move = {"school_id": b.id}
    push(client, officer, [early, gone, remove(gone["activity_id"], 1)])
    push(client, officer, [upsert(activity_id=early["activity_id"], base=1, data=move)])
    _age_deletion(gone["activity_id"], 400)
    push(client, officer, [late, upsert(activity_id=late["activity_id"], base=1, data=move)])
    with app_context():  # the purged tombstone lies between the two moves in the feed
        db.session.execute(
            update(Activity)
            .where(Activity.id == uuid.UUID(gone["activity_id"]))
            .values(change_seq=stored(Activity, uuid.UUID(late["activity_id"])).change_seq - 2)
        )
        db.session.commit()

    assert runner.invoke(args=["sync", "purge"]).exit_code == 0

    with app_context():
        kept = db.session.scalars(select(ActivityDeparture.activity_id)).all()
    assert [str(i) for i in kept] == [late["activity_id"]]


def test_sync_purge_keeps_confirmed_deleted_activity_unless_asked(client, runner):
    school, officer, leader = _setup(client)
    created = upsert(school)
    push(client, officer, [created])
    url = f"/api/v1/activities/{created['activity_id']}"
    assert client.post(url + "/confirm", json={}, headers=auth(leader)).status_code == 200
    admin = make_user("admin")
    assert client.delete(url, headers=auth(admin)).status_code == 204
    _age_deletion(created["activity_id"], 365)

    kept = runner.invoke(args=["sync", "purge", "--days", "30"])
    assert kept.exit_code == 0, kept.output
    assert created["activity_id"] in _ids()

    purged = runner.invoke(args=["sync", "purge", "--days", "30", "--include-confirmed"])
    assert purged.exit_code == 0, purged.output
    assert created["activity_id"] not in _ids()


def test_sync_purge_never_touches_live_activities(client, runner):
    school, officer, leader = _setup(client)
    created = upsert(school)
    push(client, officer, [created])
    url = f"/api/v1/activities/{created['activity_id']}/confirm"
    assert client.post(url, json={}, headers=auth(leader)).status_code == 200
    with app_context():
        long_ago = datetime.now(UTC) - timedelta(days=3650)
        db.session.execute(update(Activity).values(created_at=long_ago))
        db.session.commit()

    result = runner.invoke(args=["sync", "purge", "--days", "0", "--include-confirmed"])

    assert result.exit_code == 0, result.output
    assert _ids() == {created["activity_id"]}


def test_sync_purge_old_mutation_records_then_old_retry_still_writes_nothing(client, runner):
    school, officer, _ = _setup(client)
    created = upsert(school)
    edit = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 20})
    push(client, officer, [created, edit])
    _age_mutations(100)
    fresh = upsert(school)
    push(client, officer, [fresh])

    result = runner.invoke(args=["sync", "purge", "--days", "90"])

    assert result.exit_code == 0, result.output
    assert "2 sync mutation records" in result.output
    with app_context():
        remaining = {str(m) for m in db.session.scalars(select(SyncMutation.mutation_id))}
    assert remaining == {fresh["mutation_id"]}
    # A retry older than the retention period is decided on versions instead: the create
    # matches nothing new (conflict: the server copy changed), the edit's base is stale.
    replay = push(client, officer, [created, edit])
    assert replay.status_code == 200
    assert [r["status"] for r in replay.json["results"]] == ["conflict", "applied"]
    assert replay.json["results"][1]["activity"]["version"] == 2
    assert _revisions(created["activity_id"]) == 2


def test_sync_purge_uses_configured_retention_by_default(app, client, runner):
    school, officer, _ = _setup(client)
    created = upsert(school)
    push(client, officer, [created, remove(created["activity_id"], 1)])
    _age_deletion(created["activity_id"], 10)
    app.config["SYNC_RETENTION_DAYS"] = 30
    assert runner.invoke(args=["sync", "purge"]).exit_code == 0
    assert created["activity_id"] in _ids()
    app.config["SYNC_RETENTION_DAYS"] = 7
    result = runner.invoke(args=["sync", "purge"])
    assert result.exit_code == 0
    assert "older than 7 days" in result.output
    assert created["activity_id"] not in _ids()


def test_sync_purge_then_stale_cursor_resets_and_fresh_pull_is_complete(client, runner):
    school, officer, _ = _setup(client)
    gone, kept = upsert(school), upsert(school)
    push(client, officer, [gone, kept])
    _, cursor = pull_all(client, officer)
    push(client, officer, [remove(gone["activity_id"], 1)])
    _age_deletion(gone["activity_id"], 200)
    assert runner.invoke(args=["sync", "purge"]).exit_code == 0

    response = pull(client, officer, since=cursor)

    assert response.status_code == 200
    assert response.json == {"reset": True}
    changes, _ = pull_all(client, officer)
    assert [c["id"] for c in changes] == [kept["activity_id"]]
