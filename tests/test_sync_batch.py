"""A push is written as a batch; it must store exactly what the REST endpoints store."""

import uuid

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import Activity, ActivityRevision, AuditEvent, SyncMutation
from api.models.rollup import ActivityRollup
from api.services.audit import verify_chain
from tests.factories import app_context, auth, count, make_school, make_user, stored
from tests.test_sync_support import content, push, upsert

VARIANTS = [
    {},
    {"summary": "  Spaces around the summary are trimmed.  ", "audience": ["staff", "students"]},
    {"category": "community_referral", "referral_to": "housing", "outcome": "referral_made"},
    {"summary": None, "audience": [], "participant_count": 0},
    {"category": "mediation", "duration_minutes": 720, "started_at": "2026-01-05T09:30:00-05:00"},
]
SERVER_SET = ("id", "officer_id", "officer_name", "created_at", "updated_at", "submitted_at")


def _contents(school) -> list[dict]:
    return [content(school, **variant) for variant in VARIANTS]


def _push_contents(client, officer, contents, client_time=None) -> list[dict]:
    mutations = [upsert(data=data) for data in contents]
    if client_time:
        for mutation in mutations:
            mutation["client_time"] = client_time
    response = push(client, officer, mutations)
    assert response.status_code == 200
    assert [r["status"] for r in response.json["results"]] == ["applied"] * len(contents)
    return response.json["results"]


def _stored(officer) -> list[dict]:
    """What the database holds for an officer's activities, minus ids and server times."""
    with app_context():
        activities = db.session.scalars(
            select(Activity).where(Activity.officer_id == officer.id).order_by(Activity.change_seq)
        ).all()
        rows = []
        for activity in activities:
            revisions = db.session.scalars(
                select(ActivityRevision).where(ActivityRevision.activity_id == activity.id)
            ).all()
            events = db.session.scalars(
                select(AuditEvent).where(AuditEvent.target_id == str(activity.id))
            ).all()
            record = db.session.scalar(
                select(SyncMutation).where(SyncMutation.activity_id == activity.id)
            )
            rows.append(
                {
                    "activity": {
                        **activity.content(),
                        "status": activity.status,
                        "version": activity.version,
                        "content_version": activity.content_version,
                        "deleted_at": activity.deleted_at,
                    },
                    "revisions": [
                        (r.version, r.action, r.actor_id == officer.id, r.changes)
                        for r in revisions
                    ],
                    "events": [
                        (
                            e.action,
                            e.target_type,
                            e.actor_id == officer.id,
                            e.changes,
                            e.client_time,
                        )
                        for e in events
                    ],
                    "client_times": [r.client_time for r in revisions],
                    "result": record
                    and {k: v for k, v in record.result["activity"].items() if k not in SERVER_SET},
                    "op": record and (record.op, record.status, record.user_id == officer.id),
                }
            )
        return rows


def _rollup(officer) -> list[tuple]:
    with app_context():
        rows = db.session.scalars(
            select(ActivityRollup).where(ActivityRollup.officer_id == officer.id)
        ).all()
    return sorted(
        (r.grain, r.period, r.school_id, r.category, r.outcome, r.referral_to, r.status)
        + (r.count, r.minutes)
        for r in rows
    )


def _post_contents(client, officer, contents) -> list[dict]:
    responses = [client.post("/api/v1/activities", json=c, headers=auth(officer)) for c in contents]
    assert [r.status_code for r in responses] == [201] * len(contents)
    return [{"activity": r.json} for r in responses]


def test_push_creates_store_what_rest_creates_store(client):
    """One write path: a pushed batch stores the rows, history, audit events and rollup
    counts that the same activities posted one at a time store."""
    school = make_school()
    pushing, posting = make_user("officer", [school]), make_user("officer", [school])
    contents = _contents(school)  # once: started_at is relative to now
    pushed = _push_contents(client, pushing, contents)
    posted = _post_contents(client, posting, contents)

    def comparable(results):
        return [{k: v for k, v in r["activity"].items() if k not in SERVER_SET} for r in results]

    def without_record(rows):
        return [{k: v for k, v in row.items() if k not in ("result", "op")} for row in rows]

    assert comparable(pushed) == comparable(posted)
    assert without_record(_stored(pushing)) == without_record(_stored(posting))
    assert [row["result"] for row in _stored(pushing)] == comparable(pushed)
    assert _rollup(pushing) == _rollup(posting)
    assert len(_rollup(pushing)) > 0
    with app_context():
        checked, broken, reason = verify_chain()
    assert broken is None, reason
    assert checked == count(AuditEvent)


def test_push_client_time_is_kept_in_history_and_audit_in_utc(client):
    school = make_school()
    officer = make_user("officer", [school])
    _push_contents(client, officer, _contents(school), "2026-03-01T10:15:30.123456+02:00")
    for row in _stored(officer):
        assert [t.isoformat() for t in row["client_times"]] == ["2026-03-01T08:15:30.123456+00:00"]
        assert [e[4].isoformat() for e in row["events"]] == ["2026-03-01T08:15:30+00:00"]


def test_push_result_matches_what_get_returns(client):
    school = make_school()
    officer = make_user("officer", [school])
    results = _push_contents(client, officer, _contents(school))
    for result in results:
        response = client.get(
            f"/api/v1/activities/{result['activity']['id']}", headers=auth(officer)
        )
        assert response.status_code == 200
        assert response.json == result["activity"]


def test_push_creates_then_edit_and_duplicate_in_same_batch(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = upsert(school)
    edit = upsert(activity_id=created["activity_id"], base=1, data={"participant_count": 7})
    later = upsert(school)
    response = push(client, officer, [created, upsert(school), created, edit, later])
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json["results"]]
    assert statuses == ["applied", "applied", "duplicate", "applied", "applied"]
    assert response.json["results"][3]["activity"]["version"] == 2
    activity = stored(Activity, uuid.UUID(created["activity_id"]))
    assert activity.participant_count == 7
    assert [r.version for r in activity_revisions(activity.id)] == [1, 2]
    with app_context():
        checked, broken, reason = verify_chain()
    assert broken is None, reason


def activity_revisions(activity_id) -> list[ActivityRevision]:
    with app_context():
        return db.session.scalars(
            select(ActivityRevision)
            .where(ActivityRevision.activity_id == activity_id)
            .order_by(ActivityRevision.version)
        ).all()


def _counts() -> tuple[int, ...]:
    return tuple(count(model) for model in (Activity, ActivityRevision, AuditEvent, SyncMutation))


@pytest.mark.parametrize("same_mutation_ids", [True, False])
def test_push_again_is_duplicates_or_resends_never_written_twice(client, same_mutation_ids):
    """A whole push again: duplicates under the same mutation_ids; under new ones the same
    content is applied without a new version or history."""
    school = make_school()
    officer = make_user("officer", [school])
    mutations = [upsert(school) for _ in range(3)]
    first = push(client, officer, mutations)
    assert first.status_code == 200
    before = _counts()
    if not same_mutation_ids:  # the same activities, under new mutation_ids
        mutations = [{**m, "mutation_id": str(uuid.uuid4())} for m in mutations]
    again = push(client, officer, mutations)
    assert again.status_code == 200
    results = again.json["results"]
    if same_mutation_ids:
        assert [r["status"] for r in results] == ["duplicate"] * 3
        assert [r["activity"] for r in results] == [r["activity"] for r in first.json["results"]]
        assert _counts() == before
    else:
        assert [r["status"] for r in results] == ["applied"] * 3
        assert [r["activity"]["version"] for r in results] == [1, 1, 1]
        assert _counts()[:3] == before[:3]
    with app_context():
        checked, broken, reason = verify_chain()
    assert broken is None, reason


def test_full_push_tells_stored_ids_from_new_ones(client):
    """The read under the lock, on a full batch (500): stored mutation_ids are duplicates,
    a stored activity under a new mutation_id is a resend, the rest are new."""
    school = make_school()
    officer = make_user("officer", [school])
    pushed = [upsert(school) for _ in range(3)]
    assert push(client, officer, pushed).status_code == 200
    fresh = [upsert(school) for _ in range(496)]
    same_activity = {**pushed[0], "mutation_id": str(uuid.uuid4())}
    response = push(client, officer, [*pushed, *fresh, same_activity])
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json["results"]]
    assert statuses == ["duplicate"] * 3 + ["applied"] * 497
    assert count(Activity) == 499


def test_a_write_between_the_look_and_the_lock_is_decided_again(client, monkeypatch):
    """A batch is decided before the write lock on what it names, then read again under
    the lock: if another write changed any of it meanwhile (here, as if the same push had
    committed in between), the batch is decided again, never written twice."""
    from api.services.sync import outbox

    school = make_school()
    officer = make_user("officer", [school])
    mutations = [upsert(school) for _ in range(2)]
    first = push(client, officer, mutations)
    assert [r["status"] for r in first.json["results"]] == ["applied", "applied"]
    before = _counts()
    real_read, reads = outbox.read, []

    def read_stale_first(items):
        state = real_read(items)
        if not reads:  # the look before the lock misses what the first push stored
            state = outbox.State({}, {}, {})
        reads.append(state)
        return state

    monkeypatch.setattr(outbox, "read", read_stale_first)
    again = push(client, officer, mutations)
    assert again.status_code == 200
    assert len(reads) == 2
    assert [r["status"] for r in again.json["results"]] == ["duplicate", "duplicate"]
    assert [r["activity"] for r in again.json["results"]] == [
        r["activity"] for r in first.json["results"]
    ]
    assert _counts() == before
