"""The three-way merge of a pushed change (api/services/sync/merge.py): its rule as
properties over any base, server change and device change, and the push endpoint using it."""

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.extensions import db
from api.models import Activity
from api.models.activity import CONTENT_FIELDS
from api.services.sync.merge import Decision, decide
from tests.factories import auth, make_school, make_user
from tests.test_sync_support import push, remove, upsert

# Each field takes one of a few values, so that changes often collide and often agree.
VALUE = st.sampled_from([None, 0, 1, 2, "a", "b", ["students"]])
CONTENT = st.fixed_dictionaries({name: VALUE for name in CONTENT_FIELDS})
FIELDS = st.sets(st.sampled_from(CONTENT_FIELDS))


@st.composite
def change_of(draw, base: dict) -> dict:
    """A change to some fields of ``base``: each named field gets a value other than its own."""
    names = draw(FIELDS)
    return {name: draw(VALUE.filter(lambda v, old=base[name]: v != old)) for name in names}


@st.composite
def three_ways(draw) -> tuple[dict, dict, dict]:
    """(base, the server's change since, the device's change) of one activity."""
    base = draw(CONTENT)
    return base, draw(change_of(base)), draw(change_of(base))


@given(three_ways())
def test_disjoint_changes_merge_and_nothing_else_changes(case):
    base, theirs, mine = case
    mine = {name: value for name, value in mine.items() if name not in theirs}
    current = {**base, **theirs}

    decision = decide(base, current, mine)

    assert decision.conflict == frozenset()
    merged = {**current, **decision.changes}
    assert merged == {**base, **theirs, **mine}
    assert set(decision.changes) == set(mine)


@given(three_ways())
def test_overlapping_changes_to_different_values_conflict_on_exactly_those_fields(case):
    base, theirs, mine = case
    current = {**base, **theirs}
    clash = {name for name in mine if name in theirs and mine[name] != theirs[name]}

    decision = decide(base, current, mine)

    assert decision.conflict == clash
    if not clash:  # both made the same change, or none overlap: merged
        assert {**current, **decision.changes} == {**base, **theirs, **mine}


@given(three_ways(), FIELDS)
def test_fields_sent_unchanged_from_the_base_never_revert_the_server(case, resent):
    """A whole record sent on an old base carries the base's values of fields the officer
    did not touch; those are not changes and never overwrite the server's."""
    base, theirs, mine = case
    current = {**base, **theirs}
    sent = {**{name: base[name] for name in resent}, **mine}

    decision = decide(base, current, sent)

    assert decide(base, current, mine) == decision
    if not decision.conflict:
        merged = {**current, **decision.changes}
        assert all(merged[name] == current[name] for name in resent - set(mine))


@given(three_ways())
def test_a_change_on_the_current_version_always_applies(case):
    base, _, mine = case
    decision = decide(base, base, mine)
    assert decision == Decision(changes=mine)


@given(three_ways())
def test_an_unknown_base_conflicts_unless_the_server_already_has_the_change(case):
    _, theirs, mine = case
    current = {name: "current" for name in CONTENT_FIELDS}
    decision = decide(None, current, mine)
    assert decision.conflict == set(mine)
    assert decide(None, current, {name: current[name] for name in mine}) == Decision()


@given(three_ways())
def test_a_delete_conflicts_exactly_when_content_changed_since_its_base(case):
    base, theirs, _ = case
    decision = decide(base, {**base, **theirs}, None)
    assert decision.conflict == set(theirs)
    assert decision.changes == {}


@given(three_ways())
def test_anything_against_a_deletion(case):
    base, _, mine = case
    assert decide(base, None, mine).conflict == {"deleted"}
    assert decide(base, None, None) == Decision()


# --- the push endpoint ------------------------------------------------------------------


def _created(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = upsert(school, duration_minutes=30, summary="Assembly.", participant_count=10)
    assert push(client, officer, [created]).json["results"][0]["status"] == "applied"
    return school, officer, created


def test_finding_1_stale_edit_of_other_fields_keeps_the_other_phones_change(client):
    """Phone A changes duration and summary (version 2); phone B, opened at version 1,
    changes only the participants and sends its whole record on base 1."""
    school, officer, created = _created(client)
    activity_id = created["activity_id"]
    phone_a = upsert(
        activity_id=activity_id, base=1, data={"duration_minutes": 90, "summary": "Longer."}
    )
    assert push(client, officer, [phone_a]).json["results"][0]["activity"]["version"] == 2
    whole = {**created["data"], "participant_count": 25}

    (result,) = push(client, officer, [upsert(activity_id=activity_id, base=1, data=whole)]).json[
        "results"
    ]

    assert result["status"] == "applied"
    activity = result["activity"]
    assert activity["version"] == 3
    assert (activity["duration_minutes"], activity["summary"]) == (90, "Longer.")
    assert activity["participant_count"] == 25


def test_stale_edit_with_only_the_changed_fields_merges(client):
    _, officer, created = _created(client)
    activity_id = created["activity_id"]
    push(client, officer, [upsert(activity_id=activity_id, base=1, data={"summary": "New."})])
    push(client, officer, [upsert(activity_id=activity_id, base=2, data={"outcome": "none"})])

    partial = upsert(activity_id=activity_id, base=1, data={"audience": ["staff"]})
    (result,) = push(client, officer, [partial]).json["results"]

    assert result["status"] == "applied"
    assert result["activity"]["version"] == 4
    assert result["activity"]["audience"] == ["staff"]
    assert result["activity"]["summary"] == "New."
    assert result["activity"]["outcome"] == "none"
    history = client.get(f"/api/v1/activities/{activity_id}/history", headers=auth(officer))
    assert set(history.json["items"][-1]["changes"]) == {"audience"}


def test_stale_edit_of_the_same_field_conflicts_and_writes_nothing(client):
    _, officer, created = _created(client)
    activity_id = created["activity_id"]
    push(client, officer, [upsert(activity_id=activity_id, base=1, data={"summary": "From A."})])

    stale = upsert(activity_id=activity_id, base=1, data={"summary": "From B.", "outcome": "none"})
    (result,) = push(client, officer, [stale]).json["results"]

    assert result["status"] == "conflict"
    assert result["error"]["code"] == "version_conflict"
    assert result["activity"]["version"] == 2
    assert result["activity"]["summary"] == "From A."
    assert result["activity"]["outcome"] is None


def test_merged_edit_of_a_reviewed_activity_goes_back_to_submitted(client):
    school, officer, created = _created(client)
    activity_id = created["activity_id"]
    leader = make_user("school_leader", [school])
    push(client, officer, [upsert(activity_id=activity_id, base=1, data={"summary": "From A."})])
    url = f"/api/v1/activities/{activity_id}/confirm"
    assert client.post(url, json={}, headers=auth(leader)).json["version"] == 3

    stale = upsert(activity_id=activity_id, base=1, data={"participant_count": 3})
    (result,) = push(client, officer, [stale]).json["results"]

    assert result["status"] == "applied"
    assert result["activity"]["version"] == 4
    assert result["activity"]["status"] == "submitted"
    assert result["activity"]["summary"] == "From A."
    assert result["activity"]["participant_count"] == 3


def test_stale_delete_after_a_content_change_conflicts(client):
    _, officer, created = _created(client)
    activity_id = created["activity_id"]
    push(client, officer, [upsert(activity_id=activity_id, base=1, data={"summary": "Kept."})])

    (result,) = push(client, officer, [remove(activity_id, base=1)]).json["results"]

    assert result["status"] == "conflict"
    assert result["activity"]["summary"] == "Kept."
    with client.application.app_context():
        assert db.session.get(Activity, uuid.UUID(activity_id)).deleted_at is None


def test_stale_delete_after_a_review_only_applies(client):
    school, officer, created = _created(client)
    activity_id = created["activity_id"]
    leader = make_user("school_leader", [school])
    url = f"/api/v1/activities/{activity_id}/dispute"
    assert (
        client.post(url, json={"reason": "Not that day."}, headers=auth(leader)).status_code == 200
    )

    (result,) = push(client, officer, [remove(activity_id, base=1)]).json["results"]

    assert result["status"] == "applied"
    assert result["activity"]["deleted"] is True


def test_edit_on_a_base_the_server_never_had_conflicts(client):
    _, officer, created = _created(client)
    ahead = upsert(activity_id=created["activity_id"], base=7, data={"summary": "Ahead."})
    (result,) = push(client, officer, [ahead]).json["results"]
    assert result["status"] == "conflict"
    assert result["activity"]["version"] == 1


def test_merge_invalid_together_is_rejected_with_the_reason(client):
    """Merged fields are checked together: a referral category needs a referral."""
    _, officer, created = _created(client)
    activity_id = created["activity_id"]
    push(
        client,
        officer,
        [
            upsert(
                activity_id=activity_id,
                base=1,
                data={"category": "community_referral", "referral_to": "housing"},
            )
        ],
    )
    stale = upsert(activity_id=activity_id, base=1, data={"summary": "B."})
    (result,) = push(client, officer, [stale]).json["results"]
    assert result["status"] == "applied"
    assert result["activity"]["referral_to"] == "housing"
    clear = upsert(activity_id=activity_id, base=2, data={"referral_to": None})
    (result,) = push(client, officer, [clear]).json["results"]
    assert result["status"] == "rejected"
    assert "referral_to" in result["error"]["details"]


def test_push_answers_with_the_server_time_for_the_device_clock_check(client):
    """Backward compatible: a new key beside ``results``; a device compares its clock."""
    _, officer, _ = _created(client)
    before = datetime.now(UTC)
    body = push(client, officer, []).json
    received = datetime.fromisoformat(body["server_time"])
    assert body["results"] == []
    assert received.tzinfo is not None
    assert abs(received - before) < timedelta(minutes=1)
