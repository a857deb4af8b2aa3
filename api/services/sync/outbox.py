"""One push's outbox applied in order, with one outcome a mutation."""

import functools
import uuid

from sqlalchemy import Column, Select, bindparam, select
from sqlalchemy.exc import IntegrityError

from api.errors import ApiError
from api.extensions import db
from api.models import Activity, SyncMutation, User
from api.services import sync
from api.services.sync.apply import activity_payload, apply_mutation
from api.services.sync.bulk import BulkUnavailable
from api.services.sync.envelope import Mutation
from api.services.sync.feed import APPLIED, chunks, log
from api.services.sync.prepared import Tables
from api.services.sync.results import StoredResult, broke_a_rule, outcome, rejected, replayed


class OutboxRun:
    """One push, applied in order with per-item outcomes.

    Most of an outbox is new activities. Runs of plainly valid creates (new id, new
    mutation_id, content valid, school assigned) are written together: one savepoint, one
    counter bump, multi-row inserts. Their outcome cannot differ from the one-by-one path,
    which everything else (edits, deletes, conflicts, rejections, and a run whose bulk write
    breaks a database constraint) takes, each item in its own savepoint.
    """

    def __init__(
        self,
        officer: User,
        officer_id: int,
        device_id: uuid.UUID,
        mutations: list[Mutation],
        school_ids: frozenset[int],
        new: set[uuid.UUID],
    ):
        """``new``: the mutation_ids of prepared creates whose mutation_id and activity id
        were both absent when read before the write lock (new_creates). Those are written
        in bulk without another look; should one have been written since, the bulk insert
        breaks a unique key and its run is looked up again and applied one by one. The
        rest are looked up here, under the lock."""
        self.officer = officer
        # Given apart: the officer's row expired with the sign-in's read transaction, and
        # reading its id would load it again, under the write lock.
        self.officer_id = officer_id
        self.school_ids = school_ids
        self.device_id = device_id
        self.mutations = mutations
        self.new = new
        rest = [m for m in mutations if m.error is None and m.mutation_id not in new]
        self.stored = self._stored({m.mutation_id for m in rest})
        self.known = self._known({m.activity_id for m in rest})
        self.bulk_created: set[uuid.UUID] = set()
        self.results: list[dict | None] = [None] * len(mutations)
        self.run: list[tuple[int, Mutation]] = []

    @staticmethod
    def _stored(ids: set[uuid.UUID]) -> dict:
        """The stored results of the mutation_ids the batch names (most are new)."""
        found = _existing(SyncMutation.mutation_id, ids)
        query = select(SyncMutation).where(SyncMutation.mutation_id.in_(found))
        return {m.mutation_id: m for m in db.session.scalars(query)} if found else {}

    @staticmethod
    def _known(ids: set[uuid.UUID]) -> dict[uuid.UUID, Activity]:
        """Every activity the batch names that exists; absent ids are new."""
        found = _existing(Activity.id, ids)
        query = select(Activity).where(Activity.id.in_(found))
        return {a.id: a for a in db.session.scalars(query)} if found else {}

    def apply(self) -> list[dict]:
        """Apply every mutation in order, runs of plain creates together; commit once."""
        in_run: set[uuid.UUID] = set()
        for index, mutation in enumerate(self.mutations):
            if self._plain_create(mutation, in_run):
                self.run.append((index, mutation))
                in_run.update((mutation.mutation_id, mutation.activity_id))
                continue
            self._write_run()
            in_run.clear()
            self.results[index] = self._apply_one(mutation)
        self._write_run()
        db.session.commit()
        return self.results

    def _remember(self, mutation: Mutation, payload: dict) -> None:
        """Keep an applied result: a repeat of its mutation_id is then a duplicate."""
        self.stored[mutation.mutation_id] = StoredResult(
            self.officer_id, mutation.request_hash, {"activity": payload}
        )

    # -- the bulk path for plain creates --

    def _plain_create(self, mutation: Mutation, in_run: set) -> bool:
        """Whether this is a valid create that nothing in the database could stop."""
        return not (
            mutation.create is None
            or mutation.mutation_id not in self.new
            or (self.stored and mutation.mutation_id in self.stored)
            or (self.known and mutation.activity_id in self.known)
            or mutation.activity_id in self.bulk_created
            or mutation.mutation_id in in_run
            or mutation.activity_id in in_run
            or mutation.create.school_id not in self.school_ids
        )

    def _write_run(self) -> None:
        """Write the pending run of plain creates at once; one by one if that fails."""
        if not self.run:
            return
        run, self.run = self.run, []
        try:
            with db.session.begin_nested():
                # Looked up on the package, where tests replace it.
                sync.write_creates([mutation.create for _, mutation in run])
        except (IntegrityError, BulkUnavailable):
            log.warning("bulk create fell back to one-by-one", exc_info=True)
            self.stored.update(self._stored({m.mutation_id for _, m in run}))
            self.known.update(self._known({m.activity_id for _, m in run}))
            for index, mutation in run:
                self.results[index] = self._apply_one(mutation)
            return
        for index, mutation in run:
            self._created_in_bulk(index, mutation)

    def _created_in_bulk(self, index: int, mutation: Mutation) -> None:
        payload = mutation.create.payload
        self.results[index] = outcome(mutation, APPLIED, payload)
        self._remember(mutation, payload)
        self.bulk_created.add(mutation.activity_id)

    # -- one by one --

    def _activity(self, activity_id: uuid.UUID) -> Activity | None:
        activity = self.known.get(activity_id)
        if activity is None and activity_id in self.bulk_created:
            activity = self.known[activity_id] = db.session.get(Activity, activity_id)
        return activity

    def _apply_one(self, mutation: Mutation) -> dict:
        """Apply one mutation in its own savepoint; a retry gets the stored result."""
        if mutation.error is not None:
            return rejected(mutation, mutation.error)
        previous = self.stored.get(mutation.mutation_id)
        if previous is not None:
            return replayed(mutation, previous, self.officer_id)
        try:
            status, activity, payload = self._write_one(mutation)
        except ApiError as error:
            return rejected(mutation, error)
        except IntegrityError:
            log.warning("sync mutation broke a database constraint", exc_info=True)
            return broke_a_rule(mutation)
        if status == APPLIED:
            self._remember(mutation, payload)
            self.known[mutation.activity_id] = activity
        return outcome(mutation, status, payload)

    def _write_one(self, mutation: Mutation) -> tuple[str, Activity, dict]:
        """Decide and write in a savepoint, an applied mutation recorded with its change."""
        with db.session.begin_nested():
            activity = self._activity(mutation.activity_id)
            status, activity = apply_mutation(self.officer, mutation, activity)
            payload = activity_payload(activity)
            if status == APPLIED:
                db.session.add(self._record(mutation, payload))
        return status, activity, payload

    def _record(self, mutation: Mutation, payload: dict) -> SyncMutation:
        return SyncMutation(
            mutation_id=mutation.mutation_id,
            user_id=self.officer_id,
            device_id=self.device_id,
            activity_id=mutation.activity_id,
            op=mutation.op,
            request_hash=mutation.request_hash,
            status=APPLIED,
            result={"activity": payload},
        )


def new_creates(mutations: list[Mutation], tables: Tables) -> set[uuid.UUID]:
    """The mutation_ids of prepared creates whose mutation_id and activity id are both
    absent from the database now (read before the write lock, see OutboxRun)."""
    creates = [m for m in mutations if m.create is not None]
    if not creates:
        return set()
    # Looked up with the ids as the prepared rows hold them, converted for the database.
    stored = set(tables.mutation.present("mutation_id", [m.create.mutation for m in creates]))
    known = set(tables.activity.present("id", [m.create.activity for m in creates]))
    if not (stored or known):  # the usual case: no UUID hashing for empty sets
        return {m.mutation_id for m in creates}
    return {
        m.mutation_id for m in creates if m.mutation_id not in stored and m.activity_id not in known
    }


def _existing(key, ids: set[uuid.UUID]) -> list[uuid.UUID]:
    """Which of the ids are in the key column: one narrow query per CHUNK ids (the rows
    themselves are loaded only for those, usually none)."""
    found: list[uuid.UUID] = []
    statement = _present(key.property.columns[0])
    for chunk in chunks(ids):
        found.extend(db.session.execute(statement, {"ids": chunk}).scalars())
    return found


@functools.cache
def _present(column: Column) -> Select:
    """The values of a list (bound as "ids") present in a column: a Core statement built
    once, whatever the list's length."""
    return select(column).where(column.in_(bindparam("ids", expanding=True)))
