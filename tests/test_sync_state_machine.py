"""A hypothesis state machine: two devices of one officer and a leader against the server.

Devices work offline (create, edit, delete into an outbox), sync (push then pull), lose
responses (push, then forget the answer, so the next sync retries it), and the leader
confirms or disputes. After every step, every device that has synced since the server last
changed must see exactly what the server holds; no record or history entry is ever doubled.
Each push's answers are also checked against the server's state just before it (`expected`):
adopting whatever the server says would only prove agreement, not a right decision.
"""

import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from api.extensions import db
from api.models import Activity, ActivityRevision, SequenceCounter, SyncMutation
from api.services.sync import activity_payload
from tests.factories import activity_body, app_context, auth, make_school, make_user, stored
from tests.test_sync_support import PULL, PUSH

CONTENT = st.fixed_dictionaries(
    {
        "category": st.sampled_from(["education", "counselling", "mediation"]),
        "duration_minutes": st.integers(1, 720),
        "participant_count": st.integers(0, 60),
        "audience": st.lists(
            st.sampled_from(["students", "staff", "families"]), unique=True, max_size=3
        ),
        "summary": st.sampled_from([None, "Assembly on online safety.", "Lunch-hour drop-in."]),
    }
)
EDIT = st.dictionaries(
    st.sampled_from(["duration_minutes", "participant_count"]), st.integers(1, 500), min_size=1
)


class Device:
    """What one installation of the app holds: server copies, local changes, an outbox."""

    def __init__(self, client, user):
        self.client, self.user, self.headers = client, user, auth(user)
        self.device_id = str(uuid.uuid4())
        self.server: dict[str, dict] = {}  # last copy received from the server (or tombstone)
        self.local: dict[str, dict] = {}  # what the officer sees
        self.outbox: list[dict] = []
        self.cursor: str | None = None
        self.mark = -1  # the server's change counter when this device last finished a sync

    def pending(self, activity_id: str) -> bool:
        return any(m["activity_id"] == activity_id for m in self.outbox)

    def editable(self) -> list[str]:
        return sorted(
            i
            for i, record in self.server.items()
            if not record.get("deleted") and not self.pending(i) and i in self.local
        )

    def queue(self, op: str, activity_id: str, base: int | None, data: dict | None) -> None:
        mutation = {
            "mutation_id": str(uuid.uuid4()),
            "op": op,
            "activity_id": activity_id,
            "base_version": base,
        }
        if data is not None:
            mutation["data"] = data
        self.outbox.append(mutation)

    def push(self, *, lose_response: bool = False) -> None:
        if not self.outbox:
            return
        before = server_state(self.outbox)
        body = {"device_id": self.device_id, "mutations": self.outbox}
        response = self.client.post(PUSH, json=body, headers=self.headers)
        assert response.status_code == 200, response.json
        for mutation, result in zip(self.outbox, response.json["results"], strict=True):
            check_decision(mutation, result, *before[mutation["mutation_id"]])
        if lose_response:
            return
        for mutation, result in zip(self.outbox, response.json["results"], strict=True):
            activity_id = mutation["activity_id"]
            assert result["mutation_id"] == mutation["mutation_id"]
            if result["status"] in ("applied", "duplicate", "conflict"):
                self.server[activity_id] = result["activity"]
                self.local[activity_id] = result["activity"]  # the server copy wins conflicts
            else:
                assert result["status"] == "rejected"
                assert result["error"]["code"] == "activity_confirmed", result
                self.local[activity_id] = self.server[activity_id]
        self.outbox = []

    def pull(self) -> None:
        while True:
            params = {"limit": 3, **({"since": self.cursor} if self.cursor else {})}
            response = self.client.get(PULL, query_string=params, headers=self.headers)
            assert response.status_code == 200, response.json
            assert "reset" not in response.json
            for change in response.json["changes"]:
                self.server[change["id"]] = change
                if not self.pending(change["id"]):
                    self.local[change["id"]] = change
            self.cursor = response.json["cursor"]
            if not response.json["has_more"]:
                return

    def sync(self) -> None:
        self.push()
        self.pull()
        self.mark = server_mark()

    def view(self) -> dict[str, dict]:
        return {i: r for i, r in self.local.items() if not r.get("deleted")}


def server_state(outbox: list[dict]) -> dict[str, tuple]:
    """For each mutation: whether the server already recorded it, and its activity then."""
    ids = [uuid.UUID(m["mutation_id"]) for m in outbox]
    with app_context():
        recorded = {
            str(i)
            for i in db.session.scalars(
                select(SyncMutation.mutation_id).where(SyncMutation.mutation_id.in_(ids))
            )
        }
        activities = {
            m["mutation_id"]: db.session.get(Activity, uuid.UUID(m["activity_id"])) for m in outbox
        }
        return {i: (i in recorded, _snapshot(activity)) for i, activity in activities.items()}


def _snapshot(activity: Activity | None) -> dict | None:
    if activity is None:
        return None
    return {
        "version": activity.version,
        "content_version": activity.content_version,
        "deleted": activity.deleted_at is not None,
        "status": activity.status,
    }


def check_decision(mutation: dict, result: dict, recorded: bool, before: dict | None) -> None:
    """The answer the rules give for this mutation against the server's copy before it."""
    status, base = result["status"], mutation["base_version"]
    if recorded:
        assert status == "duplicate", result
        return
    assert status != "duplicate", result
    if before is None:  # a create (a device never edits what the server has not sent it)
        assert (status, result["activity"]["version"]) == ("applied", 1), result
        return
    stale = before["content_version"] > base or base > before["version"]
    if mutation["op"] == "delete":
        if before["deleted"]:
            assert status == "applied", result
        elif stale:
            assert status == "conflict", result
        elif before["status"] == "confirmed":
            assert (status, result["error"]["code"]) == ("rejected", "activity_confirmed")
        else:
            assert status == "applied" and result["activity"]["deleted"], result
            assert result["activity"]["version"] == before["version"] + 1, result
        return
    if before["deleted"]:
        # An edit of a deleted activity is a conflict, unless the server already holds
        # exactly the edited content (then nothing is written).
        assert status in ("conflict", "applied"), result
        if status == "applied":
            assert result["activity"]["version"] == before["version"], result
        return
    if stale:
        # A stale edit is judged field by field (the three-way merge, whose exact outcomes
        # tests/test_sync_merge*.py hold): a conflict, or applied on top of the server's copy.
        assert status in ("conflict", "applied"), result
        if status == "applied":
            assert result["activity"]["version"] in (before["version"], before["version"] + 1)
        return
    assert status == "applied", result
    assert result["activity"]["version"] in (before["version"], before["version"] + 1), result


def server_mark() -> int:
    return stored(SequenceCounter, "activity").value


def server_view(user) -> dict[str, dict]:
    """The live activities the user may see, as the server would send them."""
    if user.role == "officer":
        query = select(Activity).where(Activity.officer_id == user.id)
    else:
        query = select(Activity).where(Activity.school_id.in_(user.school_ids))
    with app_context():
        return {
            str(a.id): activity_payload(a)
            for a in db.session.scalars(query.where(Activity.deleted_at.is_(None)))
        }


class SyncMachine(RuleBasedStateMachine):
    client = None  # set by the test

    @initialize()
    def start(self):
        self.school = make_school()
        self.officer = make_user("officer", [self.school])
        self.leader = make_user("school_leader", [self.school])
        self.devices = {name: Device(self.client, self.officer) for name in ("a", "b")}
        self.leader_device = Device(self.client, self.leader)
        self.leader_headers = auth(self.leader)
        self.created: set[str] = set()

    def _device(self, name: str) -> Device:
        return self.devices[name]

    @rule(name=st.sampled_from(["a", "b"]), data=CONTENT)
    def create(self, name, data):
        activity_id = str(uuid.uuid4())
        body = activity_body(self.school, **data)
        device = self._device(name)
        device.local[activity_id] = {"id": activity_id, **body}
        device.queue("upsert", activity_id, None, body)
        self.created.add(activity_id)

    @rule(name=st.sampled_from(["a", "b"]), pick=st.integers(0, 50), change=EDIT)
    def edit(self, name, pick, change):
        device = self._device(name)
        ids = device.editable()
        if not ids:
            return
        activity_id = ids[pick % len(ids)]
        device.local[activity_id] = {**device.local[activity_id], **change}
        device.queue("upsert", activity_id, device.server[activity_id]["version"], change)

    @rule(pick=st.integers(0, 50), first=EDIT, second=EDIT, delete_second=st.booleans())
    def change_on_both_devices(self, pick, first, second, delete_second):
        """Both devices change the same activity offline, then both sync: the second push
        carries a stale base, the case conflicts are made of."""
        a, b = self.devices["a"], self.devices["b"]
        shared = sorted(set(a.editable()) & set(b.editable()))
        if not shared:  # make one: created on a, seen by b
            self.create("a", {"category": "education", "duration_minutes": 30})
            a.sync()
            b.sync()
            shared = sorted(set(a.editable()) & set(b.editable()))
        activity_id = shared[pick % len(shared)]
        a.local[activity_id] = {**a.local[activity_id], **first}
        a.queue("upsert", activity_id, a.server[activity_id]["version"], first)
        base = b.server[activity_id]["version"]
        if delete_second:
            b.local[activity_id] = {"id": activity_id, "deleted": True}
            b.queue("delete", activity_id, base, None)
        else:
            b.local[activity_id] = {**b.local[activity_id], **second}
            b.queue("upsert", activity_id, base, second)
        a.sync()
        b.sync()

    @rule(name=st.sampled_from(["a", "b"]), pick=st.integers(0, 50))
    def delete(self, name, pick):
        device = self._device(name)
        ids = device.editable()
        if not ids:
            return
        activity_id = ids[pick % len(ids)]
        device.local[activity_id] = {"id": activity_id, "deleted": True}
        device.queue("delete", activity_id, device.server[activity_id]["version"], None)

    @rule(name=st.sampled_from(["a", "b"]))
    def sync(self, name):
        device = self._device(name)
        device.sync()
        assert device.view() == server_view(self.officer)

    @precondition(lambda self: any(d.outbox for d in self.devices.values()))
    @rule(name=st.sampled_from(["a", "b"]))
    def push_and_lose_the_response(self, name):
        self._device(name).push(lose_response=True)

    @rule(action=st.sampled_from(["confirm", "dispute"]), pick=st.integers(0, 50))
    def review(self, action, pick):
        live = sorted(server_view(self.leader))
        if not live:
            return
        activity_id = live[pick % len(live)]
        body = {"note": None} if action == "confirm" else {"reason": "Not on that day."}
        url = f"/api/v1/activities/{activity_id}/{action}"
        response = self.client.post(url, json=body, headers=self.leader_headers)
        assert response.status_code == 200, response.json

    @rule()
    def leader_sync(self):
        self.leader_device.sync()
        assert self.leader_device.view() == server_view(self.leader)

    @invariant()
    def synced_devices_agree_with_the_server(self):
        if not hasattr(self, "devices"):
            return
        mark = server_mark()
        for device in (*self.devices.values(), self.leader_device):
            if not device.outbox and device.mark == mark:
                assert device.view() == server_view(device.user)

    @invariant()
    def nothing_is_doubled(self):
        if not hasattr(self, "devices"):
            return
        mine = Activity.officer_id == self.officer.id
        with app_context():
            ids = {str(i) for i in db.session.scalars(select(Activity.id).where(mine))}
            versions = dict(
                db.session.execute(select(Activity.id, Activity.version).where(mine)).all()
            )
            history = dict(
                db.session.execute(
                    select(ActivityRevision.activity_id, func.count())
                    .where(ActivityRevision.activity_id.in_(list(versions)))
                    .group_by(ActivityRevision.activity_id)
                ).all()
            )
        assert ids <= self.created
        assert history == versions

    def teardown(self):
        if not hasattr(self, "devices"):
            return
        for _ in range(2):  # the second round carries what the first one pushed
            for device in self.devices.values():
                device.sync()
        self.leader_device.sync()
        expected = server_view(self.officer)
        for device in self.devices.values():
            assert device.view() == expected
        assert self.leader_device.view() == server_view(self.leader)
        pushed = {i for i in self.created if i in expected or self._deleted(i)}
        assert pushed == self.created  # every create reached the server, once

    def _deleted(self, activity_id: str) -> bool:
        activity = stored(Activity, uuid.UUID(activity_id))
        return activity is not None and activity.deleted_at is not None


@pytest.mark.slow
def test_sync_state_machine_devices_and_leader_converge(client):
    SyncMachine.client = client
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
