"""POST /api/v1/sync/push: per-item, in-order, idempotent application of a device's outbox."""

import uuid

from sqlalchemy import select

from api.extensions import db
from api.models import Activity, ActivityRevision, AuditEvent, SequenceCounter, SyncMutation
from api.resources import sync as sync_resource
from tests.factories import app_context, auth, count, make_school, make_user, stored
from tests.test_sync_support import PUSH, content, push, remove, upsert


def _count(model) -> int:
    return count(model)


def _footprint() -> tuple:
    """Everything a write leaves behind; equal footprints mean nothing was written."""
    counter = stored(SequenceCounter, "activity").value
    return (
        _count(Activity),
        _count(ActivityRevision),
        _count(AuditEvent),
        _count(SyncMutation),
        counter,
    )


def _officer():
    school = make_school()
    return school, make_user("officer", [school])


def test_push_new_activity_returns_applied_version_1(client):
    school, officer = _officer()
    mutation = upsert(school)
    response = push(client, officer, [mutation])
    assert response.status_code == 200
    (result,) = response.json["results"]
    assert result["status"] == "applied"
    assert result["mutation_id"] == mutation["mutation_id"]
    assert result["activity"]["id"] == mutation["activity_id"]
    assert result["activity"]["version"] == 1
    assert result["activity"]["status"] == "submitted"
    assert result["activity"]["officer_id"] == officer.id


def test_push_without_token_returns_401(client):
    response = client.post(PUSH, json={"device_id": str(uuid.uuid4()), "mutations": []})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_push_as_leader_returns_403(client):
    school = make_school()
    leader = make_user("school_leader", [school])
    response = push(client, leader, [upsert(school)])
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert _count(Activity) == 0


def test_push_more_than_500_mutations_returns_413(client):
    school, officer = _officer()
    mutations = [upsert(school, data={"school_id": school.id}) for _ in range(501)]
    response = push(client, officer, mutations)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert "500" in response.json["error"]["message"]
    assert _count(Activity) == 0


def test_push_exactly_500_mutations_applies_all(client):
    school, officer = _officer()
    response = push(client, officer, [upsert(school) for _ in range(500)])
    assert response.status_code == 200
    assert {r["status"] for r in response.json["results"]} == {"applied"}
    assert _count(Activity) == 500


def test_push_body_larger_than_limit_returns_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2000)
    school, officer = _officer()
    response = push(app.test_client(), officer, [upsert(school) for _ in range(20)])
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert _count(Activity) == 0


def test_push_without_device_id_returns_422(client):
    school, officer = _officer()
    response = client.post(PUSH, json={"mutations": [upsert(school)]}, headers=auth(officer))
    assert response.status_code == 422
    assert "device_id" in response.json["error"]["details"]
    assert _count(Activity) == 0


def test_push_empty_outbox_returns_no_results(client):
    _, officer = _officer()
    response = push(client, officer, [])
    assert response.status_code == 200
    assert response.json["results"] == []


def test_push_same_batch_replayed_many_times_writes_once(client):
    school, officer = _officer()
    first, second = upsert(school), upsert(school, duration_minutes=30)
    edit = upsert(activity_id=first["activity_id"], base=1, data={"duration_minutes": 90})
    batch = [first, second, edit, remove(second["activity_id"], base=1)]
    original = push(client, officer, batch)
    assert original.status_code == 200
    assert [r["status"] for r in original.json["results"]] == ["applied"] * 4
    after_first = _footprint()
    for _ in range(10):
        replay = push(client, officer, batch)
        assert replay.status_code == 200
        results = replay.json["results"]
        assert [r["status"] for r in results] == ["duplicate"] * 4
        for sent, again in zip(original.json["results"], results, strict=True):
            assert again["activity"] == sent["activity"]
            assert again["mutation_id"] == sent["mutation_id"]
    assert _footprint() == after_first
    assert after_first[:2] == (2, 4)  # two activities; create+edit and create+delete


def test_push_crash_after_commit_then_retry_returns_duplicate(client, monkeypatch):
    school, officer = _officer()
    mutation = upsert(school)
    real_push = sync_resource.sync.push

    def push_then_crash(*args, **kwargs):
        real_push(*args, **kwargs)  # committed
        raise RuntimeError("worker killed before the response was sent")

    monkeypatch.setattr(sync_resource.sync, "push", push_then_crash)
    crashed = push(client, officer, [mutation])
    assert crashed.status_code == 500
    assert crashed.json["error"]["code"] == "internal_error"
    monkeypatch.setattr(sync_resource.sync, "push", real_push)

    retried = push(client, officer, [mutation])
    assert retried.status_code == 200
    (result,) = retried.json["results"]
    assert result["status"] == "duplicate"
    assert result["activity"]["id"] == mutation["activity_id"]
    assert result["activity"]["version"] == 1
    assert _count(Activity) == 1
    history = client.get(
        f"/api/v1/activities/{mutation['activity_id']}/history", headers=auth(officer)
    )
    assert history.status_code == 200
    assert len(history.json["items"]) == 1


def test_push_mixed_batch_returns_one_result_each_in_order(client):
    school, officer = _officer()
    other_school = make_school()
    existing = upsert(school)
    assert push(client, officer, [existing]).json["results"][0]["status"] == "applied"
    moved = upsert(activity_id=existing["activity_id"], base=1, data={"duration_minutes": 20})
    assert push(client, officer, [moved]).json["results"][0]["status"] == "applied"

    valid = upsert(school)
    invalid = upsert(school, summary="Call the parent at 613-555-0199 tomorrow.")
    conflicting = upsert(activity_id=existing["activity_id"], base=1, data={"duration_minutes": 5})
    elsewhere = upsert(other_school)
    last = upsert(school, category="mediation")
    response = push(client, officer, [valid, invalid, conflicting, elsewhere, last])

    assert response.status_code == 200
    results = response.json["results"]
    assert [r["mutation_id"] for r in results] == [
        m["mutation_id"] for m in (valid, invalid, conflicting, elsewhere, last)
    ]
    assert [r["status"] for r in results] == [
        "applied",
        "rejected",
        "conflict",
        "rejected",
        "applied",
    ]
    assert results[1]["error"]["code"] == "validation_error"
    assert "data.summary" in results[1]["error"]["details"]
    assert results[2]["activity"]["version"] == 2
    assert results[2]["activity"]["duration_minutes"] == 20
    assert results[2]["error"]["code"] == "version_conflict"
    assert results[3]["error"]["code"] == "school_not_assigned"
    with app_context():
        saved = set(db.session.scalars(select(Activity.id)))
    assert saved == {uuid.UUID(m["activity_id"]) for m in (existing, valid, last)}
    assert stored(Activity, uuid.UUID(existing["activity_id"])).duration_minutes == 20


def test_push_malformed_item_is_rejected_without_sinking_others(client):
    school, officer = _officer()
    good = upsert(school)
    response = push(client, officer, [{"op": "frobnicate", "extra": 1}, "not an object", good])
    assert response.status_code == 200
    first, second, third = response.json["results"]
    assert first["status"] == "rejected"
    assert first["mutation_id"] is None
    assert {"op", "extra", "mutation_id"} <= set(first["error"]["details"])
    assert second["status"] == "rejected"
    assert third["status"] == "applied"


def test_push_stale_base_after_content_change_returns_conflict(client):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created])
    other_device = upsert(activity_id=created["activity_id"], base=1, data={"participant_count": 3})
    assert push(client, officer, [other_device]).json["results"][0]["status"] == "applied"
    before = _footprint()

    stale = upsert(activity_id=created["activity_id"], base=1, data={"participant_count": 40})
    response = push(client, officer, [stale])

    assert response.status_code == 200
    (result,) = response.json["results"]
    assert result["status"] == "conflict"
    assert result["activity"]["version"] == 2
    assert result["activity"]["participant_count"] == 3
    assert _footprint() == before


def test_push_stale_base_after_review_only_applies_and_returns_to_submitted(client):
    school, officer = _officer()
    leader = make_user("school_leader", [school])
    created = upsert(school)
    push(client, officer, [created])
    confirm = client.post(
        f"/api/v1/activities/{created['activity_id']}/confirm", json={}, headers=auth(leader)
    )
    assert confirm.status_code == 200
    assert confirm.json["version"] == 2

    edit = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 50})
    response = push(client, officer, [edit])

    assert response.status_code == 200
    (result,) = response.json["results"]
    assert result["status"] == "applied"
    assert result["activity"]["version"] == 3
    assert result["activity"]["status"] == "submitted"
    assert result["activity"]["duration_minutes"] == 50
    assert result["activity"]["reviewed_by"] is None


def test_push_stale_base_after_review_and_edit_returns_conflict(client):
    school, officer = _officer()
    leader = make_user("school_leader", [school])
    created = upsert(school)
    push(client, officer, [created])
    edit = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 50})
    push(client, officer, [edit])
    url = f"/api/v1/activities/{created['activity_id']}/dispute"
    assert (
        client.post(url, json={"reason": "Not that day"}, headers=auth(leader)).status_code == 200
    )

    stale = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 70})
    (result,) = push(client, officer, [stale]).json["results"]

    assert result["status"] == "conflict"
    assert result["activity"]["version"] == 3
    assert result["activity"]["status"] == "disputed"
    assert result["activity"]["duration_minutes"] == 50


def test_push_delete_confirmed_activity_is_rejected(client):
    school, officer = _officer()
    leader = make_user("school_leader", [school])
    created = upsert(school)
    push(client, officer, [created])
    url = f"/api/v1/activities/{created['activity_id']}/confirm"
    assert client.post(url, json={}, headers=auth(leader)).status_code == 200

    (result,) = push(client, officer, [remove(created["activity_id"], base=2)]).json["results"]

    assert result["status"] == "rejected"
    assert result["error"]["code"] == "activity_confirmed"
    assert stored(Activity, uuid.UUID(created["activity_id"])).deleted_at is None


def test_push_delete_returns_tombstone_and_repeat_delete_is_applied(client):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created])
    (first,) = push(client, officer, [remove(created["activity_id"], base=1)]).json["results"]
    (again,) = push(client, officer, [remove(created["activity_id"])]).json["results"]
    assert first["status"] == "applied"
    assert first["activity"] == {"id": created["activity_id"], "deleted": True, "version": 2}
    assert again["status"] == "applied"
    assert again["activity"]["version"] == 2


def test_push_edit_of_deleted_activity_returns_conflict_with_tombstone(client):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created, remove(created["activity_id"], base=1)])
    edit = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 10})
    (result,) = push(client, officer, [edit]).json["results"]
    assert result["status"] == "conflict"
    assert result["activity"] == {"id": created["activity_id"], "deleted": True, "version": 2}


def test_push_reused_mutation_id_with_other_content_is_never_applied(client):
    school, officer = _officer()
    original = upsert(school)
    push(client, officer, [original])
    before = _footprint()
    reused = {**upsert(school), "mutation_id": original["mutation_id"]}
    edited = {
        **upsert(activity_id=original["activity_id"], base=1, data={"duration_minutes": 9}),
        "mutation_id": original["mutation_id"],
    }

    response = push(client, officer, [reused, edited])

    assert response.status_code == 200
    assert [r["status"] for r in response.json["results"]] == ["rejected", "rejected"]
    assert {r["error"]["code"] for r in response.json["results"]} == {"mutation_id_reused"}
    assert _footprint() == before


def test_push_mutation_id_of_another_officer_is_rejected(client):
    school, officer = _officer()
    other = make_user("officer", [school])
    mutation = upsert(school)
    push(client, officer, [mutation])
    (result,) = push(client, other, [mutation]).json["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "mutation_id_reused"
    assert "activity" not in result


def test_push_edit_of_another_officers_activity_is_rejected_not_found(client):
    school, officer = _officer()
    other = make_user("officer", [school])
    created = upsert(school)
    push(client, officer, [created])
    edit = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 9})
    (result,) = push(client, other, [edit, remove(created["activity_id"])]).json["results"][:1]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "not_found"
    assert stored(Activity, uuid.UUID(created["activity_id"])).duration_minutes == 45


def test_push_new_id_taken_by_another_officer_returns_id_conflict(client):
    school, officer = _officer()
    other = make_user("officer", [school])
    created = upsert(school)
    push(client, officer, [created])
    clash = upsert(school, activity_id=created["activity_id"])
    (result,) = push(client, other, [clash]).json["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "id_conflict"


def test_push_resend_under_new_mutation_id_applies_once(client):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created])
    resent = {**created, "mutation_id": str(uuid.uuid4())}
    (result,) = push(client, officer, [resent]).json["results"]
    assert result["status"] == "applied"
    assert result["activity"]["version"] == 1
    assert _count(Activity) == 1
    assert _count(ActivityRevision) == 1


def test_push_new_with_base_version_for_unknown_id_is_rejected(client):
    school, officer = _officer()
    (result,) = push(client, officer, [upsert(school, base=3)]).json["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "not_found"


def test_push_new_activity_missing_fields_is_rejected(client):
    school, officer = _officer()
    (result,) = push(client, officer, [upsert(data={"school_id": school.id})]).json["results"]
    assert result["status"] == "rejected"
    assert "data.category" in result["error"]["details"]
    assert _count(Activity) == 0


def test_push_server_owned_field_in_data_is_rejected(client):
    school, officer = _officer()
    data = content(school) | {"status": "confirmed"}
    (result,) = push(client, officer, [upsert(data=data)]).json["results"]
    assert result["status"] == "rejected"
    assert "data.status" in result["error"]["details"]


def test_push_client_time_is_recorded_in_history_only(client):
    school, officer = _officer()
    mutation = upsert(school) | {"client_time": "2099-01-01T08:00:00+00:00"}
    (result,) = push(client, officer, [mutation]).json["results"]
    assert result["status"] == "applied"
    assert result["activity"]["created_at"] < "2099"
    with app_context():
        revision = db.session.scalar(select(ActivityRevision))
    assert revision.client_time.year == 2099


def test_push_text_no_database_can_store_rejects_only_that_mutation(client):
    school, officer = _officer()
    good, bad = upsert(school), upsert(school, summary="Nul \x00 byte")
    response = push(client, officer, [good, bad])
    assert response.status_code == 200
    first, second = response.json["results"]
    assert first["status"] == "applied"
    assert second["status"] == "rejected"
    assert second["error"]["code"] == "validation_error"
    assert _count(Activity) == 1


def test_push_text_no_database_can_store_in_envelope_returns_422(client):
    _, officer = _officer()
    body = {"device_id": "abc\x00", "mutations": []}
    response = client.post(PUSH, json=body, headers=auth(officer))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_push_number_sent_as_string_is_rejected_like_rest(client):
    school, officer = _officer()
    as_text = upsert(school, duration_minutes="45")
    base_text = {**upsert(school), "base_version": "1"}
    (first, second) = push(client, officer, [as_text, base_text]).json["results"]
    assert first["status"] == "rejected"
    assert "data.duration_minutes" in first["error"]["details"]
    assert second["status"] == "rejected"
    assert "base_version" in second["error"]["details"]
    assert _count(Activity) == 0


def test_push_stale_edit_already_matching_server_is_applied_without_write(client):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created])
    device_a = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 30})
    push(client, officer, [device_a])
    before = _footprint()
    device_b = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 30})
    (result,) = push(client, officer, [device_b]).json["results"]
    assert result["status"] == "applied"
    assert result["activity"]["version"] == 2
    after = _footprint()
    assert after[:3] == before[:3]  # no activity, revision or audit row
    assert after[4] == before[4]  # no change in the feed
