"""The sync state machine (tests/test_sync_state_machine.py) with devices that keep the base
of their pending edits, and a model of the server that judges every pushed change itself.

Two phones of one officer edit the same activities offline, each edit sent on the version it
was made on (a pull never moves it) with the fields the officer changed, sometimes as the
whole record; pushes lose their answers; the school confirms and disputes. The model keeps
every version's content and decides each result by the three-way rule of api.md (push,
``conflict``), independently of the server's code: every result must be the one it expects
(a conflict only where both sides changed a field to different values), and the server must
hold exactly the model's content, so no acknowledged change is ever lost or reverted.
"""

import contextlib
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from flask import has_app_context
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
from api.models import Activity, ActivityRevision
from tests.factories import activity_body, auth, make_school, make_user
from tests.test_sync_support import PULL, PUSH

# The fields the phones edit, each over a few values so that edits often collide.
TRACKED = ("duration_minutes", "participant_count", "summary")
VALUES = {
    "duration_minutes": st.integers(1, 3),
    "participant_count": st.integers(0, 2),
    "summary": st.sampled_from([None, "Assembly.", "Drop-in."]),
}
EDIT = st.fixed_dictionaries({}, optional=VALUES).filter(bool)
NEW = st.fixed_dictionaries(VALUES)
PHONES = st.sampled_from(["a", "b"])


def tracked(record: dict) -> dict:
    return {name: record.get(name) for name in TRACKED}


# --- the model of the server ------------------------------------------------------------


@dataclass
class Model:
    """One activity as the server must hold it: the tracked content of every version."""

    versions: list[dict]
    status: str = "submitted"
    deleted: bool = False

    @property
    def version(self) -> int:
        return len(self.versions)

    @property
    def current(self) -> dict:
        return self.versions[-1]

    def bump(self, content: dict) -> None:
        self.versions.append(dict(content))


@dataclass
class Server:
    """What every pushed change must do: the rule of api.md, applied to the model."""

    activities: dict[str, Model] = field(default_factory=dict)
    applied: set[str] = field(default_factory=set)  # mutation_ids the server applied

    def expect(self, mutation: dict) -> tuple[str, str | None]:
        """(status, error code) the server must answer; the model takes the change."""
        if mutation["mutation_id"] in self.applied:
            return "duplicate", None
        activity_id, base = mutation["activity_id"], mutation["base_version"]
        model = self.activities.get(activity_id)
        if model is None:
            self.activities[activity_id] = Model([tracked(mutation["data"])])
            return self._applied(mutation)
        if mutation["op"] == "delete":
            return self._delete(mutation, model, base)
        if model.deleted:
            return ("rejected", "activity_deleted") if base == model.version else ("conflict", None)
        at_base, current = model.versions[base - 1], model.current
        mine = {k: v for k, v in tracked(mutation["data"]).items() if k in mutation["data"]}
        changed = {k for k, v in mine.items() if v != at_base[k]}
        theirs = {k for k in TRACKED if at_base[k] != current[k]}
        if any(mine[k] != current[k] for k in changed & theirs):
            return "conflict", None
        wanted = {k: mine[k] for k in changed if mine[k] != current[k]}
        if wanted:
            model.bump({**current, **wanted})
            model.status = "submitted"
        return self._applied(mutation)

    def _delete(self, mutation: dict, model: Model, base: int) -> tuple[str, str | None]:
        if model.deleted:
            return self._applied(mutation)
        if model.versions[base - 1] != model.current:
            return "conflict", None
        if model.status == "confirmed":
            return "rejected", "activity_confirmed"
        model.deleted = True
        model.bump(model.current)
        return self._applied(mutation)

    def _applied(self, mutation: dict) -> tuple[str, None]:
        self.applied.add(mutation["mutation_id"])
        return "applied", None

    def reviewed(self, activity_id: str, version: int, status: str) -> None:
        model = self.activities[activity_id]
        while model.version < version:
            model.bump(model.current)
        model.status = status

    def check(self, activity_id: str, payload: dict) -> None:
        """A copy the server sent now is the model's current copy."""
        model = self.activities[activity_id]
        assert payload["version"] == model.version, (payload, model)
        if model.deleted:
            assert payload.get("deleted") is True, payload
            return
        assert tracked(payload) == model.current, (payload, model)
        assert payload["status"] == model.status, (payload, model)


# --- a phone ----------------------------------------------------------------------------


class Phone:
    """One installation: server copies, what the officer sees, and an outbox whose edits
    keep the version they were made on."""

    def __init__(self, client, headers: dict, server: Server):
        self.client, self.headers, self.model = client, headers, server
        self.device_id = str(uuid.uuid4())
        self.server: dict[str, dict] = {}  # the newest server copy received
        self.local: dict[str, dict] = {}  # what the officer sees
        self.outbox: list[dict] = []
        self.sent: set[str] = set()  # mutation_ids pushed at least once
        self.cursor: str | None = None

    def entry(self, activity_id: str) -> dict | None:
        return next((m for m in self.outbox if m["activity_id"] == activity_id), None)

    def editable(self) -> list[str]:
        """Live activities without an entry already pushed (an unsent one takes more edits)."""
        return sorted(
            i
            for i, record in self.local.items()
            if not record.get("deleted")
            and (self.entry(i) is None or self.entry(i)["mutation_id"] not in self.sent)
            and (i in self.server or self.entry(i) is not None)
        )

    def create(self, activity_id: str, data: dict) -> None:
        self.local[activity_id] = {"id": activity_id, **data}
        self.outbox.append(_mutation("upsert", activity_id, None, data))

    def edit(self, activity_id: str, change: dict, whole: bool) -> None:
        record = {**self.local[activity_id], **change}
        self.local[activity_id] = record
        pending = self.entry(activity_id)
        if pending is not None:  # not yet sent: the same change, grown; its base kept
            if pending["base_version"] is None:
                pending["data"] = {**pending["data"], **change}
            else:
                pending["data"] = tracked(record) if whole else {**pending["data"], **change}
            return
        base = self.server[activity_id]["version"]  # the version the form was opened at
        data = tracked(record) if whole else change
        self.outbox.append(_mutation("upsert", activity_id, base, data))

    def delete(self, activity_id: str) -> None:
        base = self.server[activity_id]["version"]
        self.local[activity_id] = {"id": activity_id, "deleted": True}
        self.outbox.append(_mutation("delete", activity_id, base, None))

    def push(self, *, lose_response: bool = False) -> None:
        if not self.outbox:
            return
        body = {"device_id": self.device_id, "mutations": self.outbox}
        response = self.client.post(PUSH, json=body, headers=self.headers)
        assert response.status_code == 200, response.json
        self.sent.update(m["mutation_id"] for m in self.outbox)
        results = response.json["results"]
        for mutation, result in zip(self.outbox, results, strict=True):
            # The server decided every item, answered or not: judge each one.
            status, code = self.model.expect(mutation)
            assert result["status"] == status, (mutation, result)
            if code is not None:
                assert result["error"]["code"] == code, result
            if status in ("applied", "conflict"):
                self.model.check(mutation["activity_id"], result["activity"])
        if lose_response:
            return
        for mutation, result in zip(self.outbox, results, strict=True):
            self._settle(mutation["activity_id"], result)
        self.outbox = []

    def _settle(self, activity_id: str, result: dict) -> None:
        """Applied: the server's copy. Conflict or rejected: the officer takes the newest
        server copy (the model has checked the decision)."""
        copy = result.get("activity")
        if copy is not None:
            self._newer(copy)
        if activity_id in self.server:
            self.local[activity_id] = self.server[activity_id]
        else:
            self.local.pop(activity_id, None)

    def _newer(self, copy: dict) -> None:
        known = self.server.get(copy["id"])
        if known is None or known["version"] <= copy["version"]:
            self.server[copy["id"]] = copy

    def pull(self) -> None:
        while True:
            params = {"limit": 3, **({"since": self.cursor} if self.cursor else {})}
            response = self.client.get(PULL, query_string=params, headers=self.headers)
            assert response.status_code == 200, response.json
            for change in response.json["changes"]:
                self._newer(change)
                if self.entry(change["id"]) is None:  # pending edits keep their base
                    self.local[change["id"]] = self.server[change["id"]]
            self.cursor = response.json["cursor"]
            if not response.json["has_more"]:
                return

    def sync(self) -> None:
        self.push()
        self.pull()


@contextlib.contextmanager
def reading(app):
    """Read the database between requests: in an application context of its own, or in the
    one the test holds (which requests then share), its transaction ended before and after,
    as outside a request a transaction takes SQLite's write lock."""
    if not has_app_context():
        with app.app_context():
            yield
        return
    db.session.rollback()
    try:
        yield
    finally:
        db.session.rollback()


def _mutation(op: str, activity_id: str, base: int | None, data: dict | None) -> dict:
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "op": op,
        "activity_id": activity_id,
        "base_version": base,
    }
    if data is not None:
        mutation["data"] = data
    return mutation


class MergeMachine(RuleBasedStateMachine):
    client = None  # set by the test

    @initialize()
    def start(self):
        school = make_school()
        officer = make_user("officer", [school])
        self.school = SimpleNamespace(id=school.id)
        self.officer_id = officer.id
        self.leader_headers = auth(make_user("school_leader", [school]))
        headers = auth(officer)
        if has_app_context():  # outside a request a transaction holds the write lock
            db.session.rollback()
        self.server = Server()
        self.phones = {name: Phone(self.client, headers, self.server) for name in "ab"}
        for data in ({"duration_minutes": 1}, {"duration_minutes": 2, "summary": None}):
            self.create("a", {**{name: None for name in TRACKED}, "participant_count": 0, **data})
        self.phones["a"].sync()
        self.phones["b"].pull()  # both phones start with the same two activities

    @precondition(lambda self: len(self.server.activities) < 5)
    @rule(name=PHONES, data=NEW)
    def new_activity(self, name, data):
        """A few activities only, so that the phones' edits meet."""
        self.create(name, data)

    def create(self, name, data):
        body = activity_body(self.school, **data)
        self.phones[name].create(str(uuid.uuid4()), body)

    @rule(name=PHONES, pick=st.integers(0, 50), change=EDIT, whole=st.booleans())
    def edit(self, name, pick, change, whole):
        phone = self.phones[name]
        ids = phone.editable()
        if ids:
            phone.edit(ids[pick % len(ids)], change, whole)

    @rule(name=PHONES, pick=st.integers(0, 50))
    def delete(self, name, pick):
        """Rarer than edits (one pick in four), so that activities live long enough to clash."""
        phone = self.phones[name]
        ids = [i for i in phone.editable() if i in phone.server and phone.entry(i) is None]
        if ids and pick % 4 == 0:
            phone.delete(ids[pick % len(ids)])

    @rule(name=PHONES)
    def sync(self, name):
        self.phones[name].sync()

    @rule(name=PHONES)
    def pull_only(self, name):
        """A pull while edits wait (a timer, or a slow push): it must not move their base."""
        self.phones[name].pull()

    @precondition(lambda self: any(p.outbox for p in self.phones.values()))
    @rule(name=PHONES)
    def push_and_lose_the_response(self, name):
        self.phones[name].push(lose_response=True)

    @rule(action=st.sampled_from(["confirm", "dispute"]), pick=st.integers(0, 50))
    def review(self, action, pick):
        live = sorted(i for i, m in self.server.activities.items() if not m.deleted)
        if not live:
            return
        activity_id = live[pick % len(live)]
        body = {"note": None} if action == "confirm" else {"reason": "Not on that day."}
        url = f"/api/v1/activities/{activity_id}/{action}"
        response = self.client.post(url, json=body, headers=self.leader_headers)
        assert response.status_code == 200, response.json
        self.server.reviewed(activity_id, response.json["version"], response.json["status"])

    @invariant()
    def the_server_holds_every_acknowledged_change(self):
        """Every change the model took (each one the server answered applied) is on the
        server, and nothing the model did not take."""
        if not hasattr(self, "server"):
            return
        with self.client.application.app_context():
            rows = db.session.scalars(
                select(Activity).where(Activity.officer_id == self.officer_id)
            )
            stored = {str(a.id): a for a in rows}
            assert set(stored) == set(self.server.activities)
            for activity_id, activity in stored.items():
                model = self.server.activities[activity_id]
                assert activity.version == model.version
                assert activity.is_deleted == model.deleted
                assert tracked(activity.content()) == model.current
                if not model.deleted:
                    assert activity.status == model.status

    @invariant()
    def one_history_entry_a_version(self):
        if not hasattr(self, "server"):
            return
        with reading(self.client.application):
            versions = dict(
                db.session.execute(
                    select(Activity.id, Activity.version).where(
                        Activity.officer_id == self.officer_id
                    )
                ).all()
            )
            history = dict(
                db.session.execute(
                    select(ActivityRevision.activity_id, func.count())
                    .where(ActivityRevision.activity_id.in_(list(versions)))
                    .group_by(ActivityRevision.activity_id)
                ).all()
            )
        assert history == versions

    def teardown(self):
        if not hasattr(self, "server"):
            return
        for _ in range(2):  # the second round carries what the first one pushed
            for phone in self.phones.values():
                phone.sync()
        for phone in self.phones.values():
            assert not phone.outbox
            for activity_id, model in self.server.activities.items():
                copy = phone.local.get(activity_id, {"deleted": True})
                if model.deleted:
                    assert copy.get("deleted"), copy
                else:
                    self.server.check(activity_id, copy)


@pytest.mark.slow
def test_sync_merge_state_machine_never_loses_an_acknowledged_change(client):
    MergeMachine.client = client
    run_state_machine_as_test(
        MergeMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
