"""The push decision's rules that a wrong turn in decide.py or merge.py would break: what a
resend of a deleted activity is, what an edit keeps of its device time, how a batch merges on
its own earlier items, and what a push says when it refuses (the REST wording, the error
shape)."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from api.extensions import db
from api.models import Activity, ActivityRevision
from api.models.activity import CONTENT_FIELDS
from api.services.sync import activity_payload
from api.services.sync.decide import Officer, State, decide
from api.services.sync.items import parse
from api.services.sync.merge import decide as merge_decide
from tests.factories import app_context, auth, make_school, make_user, stored
from tests.test_sync_support import push, remove, upsert

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _statuses(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [result["status"] for result in response.json["results"]]


def test_a_resend_of_a_deleted_activity_is_a_conflict_not_applied(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = upsert(school)
    assert _statuses(push(client, officer, [created])) == ["applied"]
    assert _statuses(push(client, officer, [remove(created["activity_id"], 1)])) == ["applied"]
    resent = {**created, "mutation_id": str(uuid.uuid4())}  # same content, a new mutation_id
    response = push(client, officer, [resent])
    assert _statuses(response) == ["conflict"]
    assert response.json["results"][0]["activity"]["deleted"] is True


def test_a_resend_with_other_content_is_a_conflict_with_the_server_copy(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = upsert(school, duration_minutes=30)
    push(client, officer, [created])
    other = upsert(school, activity_id=created["activity_id"], duration_minutes=45)
    response = push(client, officer, [other])
    assert _statuses(response) == ["conflict"]
    assert response.json["results"][0]["activity"]["duration_minutes"] == 30
    assert response.json["results"][0]["error"] == {
        "code": "version_conflict",
        "message": "The activity changed on the server since this change was made; "
        "the server copy is attached.",
        "details": {},
    }


def test_an_edit_keeps_its_device_time_in_history(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = upsert(school)
    push(client, officer, [created])
    edit = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 50})
    edit["client_time"] = "2026-03-02T09:30:00-07:00"
    assert _statuses(push(client, officer, [edit])) == ["applied"]
    with app_context():
        times = db.session.scalars(
            select(ActivityRevision.client_time)
            .where(ActivityRevision.activity_id == uuid.UUID(created["activity_id"]))
            .order_by(ActivityRevision.version)
        ).all()
    assert [t and t.isoformat() for t in times] == [None, "2026-03-02T16:30:00+00:00"]


def test_a_stale_edit_merges_on_an_edit_earlier_in_the_same_batch(client):
    """The second edit was made on version 1; the first (same batch) made version 2. The
    merge needs version 2's revision, which only the batch knows so far."""
    school = make_school()
    officer = make_user("officer", [school])
    created = upsert(school, duration_minutes=30, participant_count=3)
    first = upsert(activity_id=created["activity_id"], base=1, data={"duration_minutes": 40})
    second = upsert(activity_id=created["activity_id"], base=1, data={"participant_count": 9})
    response = push(client, officer, [created, first, second])
    assert _statuses(response) == ["applied", "applied", "applied"]
    saved = stored(Activity, uuid.UUID(created["activity_id"]))
    assert (saved.version, saved.duration_minutes, saved.participant_count) == (3, 40, 9)


def test_push_refusals_use_the_rest_wording(client):
    school = make_school()
    officer, other = make_user("officer", [school]), make_user("officer", [school])
    unknown = str(uuid.uuid4())
    theirs = upsert(school)
    push(client, other, [theirs])
    response = push(
        client,
        officer,
        [
            upsert(activity_id=unknown, base=1, data={"duration_minutes": 5}),
            remove(unknown),
            {**theirs, "mutation_id": str(uuid.uuid4())},
        ],
    )
    assert _statuses(response) == ["rejected"] * 3
    errors = [result["error"] for result in response.json["results"]]
    rest = client.get(f"/api/v1/activities/{unknown}", headers=auth(officer))
    assert errors[0] == errors[1] == rest.json["error"]
    assert errors[2] == {
        "code": "id_conflict",
        "message": "An activity with this id already exists.",
        "details": {},
    }


def test_a_reused_mutation_id_is_refused_with_its_reason(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = upsert(school)
    push(client, officer, [created])
    reused = {**upsert(school), "mutation_id": created["mutation_id"]}
    response = push(client, officer, [reused])
    assert _statuses(response) == ["rejected"]
    assert response.json["results"][0]["error"] == {
        "code": "mutation_id_reused",
        "message": "This mutation_id was already used for a different change; "
        "give every new change a new mutation_id.",
        "details": {},
    }


def test_a_delete_whose_base_the_history_cannot_tell_is_a_conflict():
    current = {name: 1 for name in CONTENT_FIELDS}
    decision = merge_decide(None, current, None)
    assert decision.conflict == frozenset(CONTENT_FIELDS)


def test_an_edit_whose_history_is_missing_is_decided_without_it(app):
    """Revisions gone (purged, say): the base is unknown, so every field counts as changed on
    the server; the edit applies only where it asks for what is already there."""
    school_id, officer = 7, Officer(1, "Officer", frozenset({7}))
    activity_id = uuid.uuid4()
    row = {
        **dict.fromkeys(("review_note", "reviewed_by", "reviewed_at", "deleted_at")),
        "id": activity_id,
        "officer_id": 1,
        "school_id": school_id,
        "category": "education",
        "started_at": NOW,
        "duration_minutes": 30,
        "audience": [],
        "participant_count": 0,
        "summary": None,
        "referral_to": None,
        "outcome": None,
        "status": "submitted",
        "version": 3,
        "content_version": 3,
        "change_seq": 9,
        "created_at": NOW,
        "updated_at": NOW,
    }
    with app.test_request_context():
        item = parse(
            {
                "mutation_id": str(uuid.uuid4()),
                "op": "upsert",
                "activity_id": str(activity_id),
                "base_version": 1,
                "data": {"duration_minutes": 45},
            }
        )
    state = State({activity_id: row}, {}, {})
    with app.test_request_context():  # no database: the payload's schema reads the viewer
        decided = decide([item], state, officer, NOW)
    assert [r["status"] for r in decided.results] == ["conflict"]
    assert decided.changes == []
    assert state.rows[activity_id] is row  # the state read is left as it was


def test_a_model_and_its_row_travel_the_same(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = upsert(school)
    response = push(client, officer, [created])
    with app_context():
        activity = db.session.get(Activity, uuid.UUID(created["activity_id"]))
        assert activity_payload(activity) == response.json["results"][0]["activity"]
        deleted = {"id": activity.id, "deleted_at": NOW, "version": 2}
        assert activity_payload(deleted) == {
            "id": str(activity.id),
            "deleted": True,
            "version": 2,
        }
