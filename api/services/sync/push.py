"""Push: a device's outbox parsed, and its creates' rows built, outside any transaction; then
applied in order under the write lock."""

import contextlib
import fcntl
import uuid
from datetime import datetime

from marshmallow import ValidationError

from api.database import begin_as_reader
from api.extensions import db
from api.models import User
from api.models.activity import CONTENT_FIELDS
from api.models.types import utcnow
from api.services import activities, schools
from api.services.sync.envelope import Mutation, load_content, parse_mutation
from api.services.sync.feed import lock_feed
from api.services.sync.outbox import OutboxRun, new_creates
from api.services.sync.plain import plain_create
from api.services.sync.prepared import Stamp, Tables, prepare_create


def push(officer: User, device_id: uuid.UUID, items: list) -> list[dict]:
    """Apply each mutation in order, each on its own; one result a mutation, same order."""
    # The signed-in user arrives as a request-local proxy; resolve it once, not per access.
    officer = getattr(officer, "_get_current_object", lambda: officer)()
    officer_id, officer_name = officer.id, officer.display_name
    tables = Tables(db.session.get_bind().dialect)
    # Parsing, validating and building rows, the bulk of the work, happen in the sign-in
    # check's read transaction; the write lock is for writing.
    now = utcnow()
    mutations = [_parse(item, now) for item in items]
    stamp = Stamp.of(officer_id, officer_name, device_id, now, tables)
    for mutation in mutations:
        if mutation.content is not None:
            mutation.create = prepare_create(mutation, stamp, tables)
    # Read before the write lock too: which creates are new, and the officer's schools
    # (the scope every request reads at its start).
    new = new_creates(mutations, tables)
    school_ids = schools.writable_ids(officer_id)
    db.session.commit()  # end the read transaction
    begin_as_reader(False)  # from here on, transactions begin as writers
    with writer_queue():
        lock_feed()
        return OutboxRun(officer, officer_id, device_id, mutations, school_ids, new).apply()


def _parse(item: object, now: datetime) -> Mutation:
    """The item as a mutation; a would-be create with its content validated and normalised
    (the common case quickly, anything else through the schemas)."""
    mutation = plain_create(item, now)
    if mutation is not None:
        return mutation
    mutation = parse_mutation(item)
    mutation.content = _create_content(mutation)
    return mutation


def _create_content(mutation: Mutation) -> dict | None:
    """Validated, normalised content of a would-be create; None when not one or invalid
    (the one-by-one path then decides and words any rejection)."""
    if mutation.error or mutation.op != "upsert" or mutation.base_version is not None:
        return None
    if not isinstance(mutation.data, dict):
        return None
    try:
        content = activities.normalise_content(load_content(mutation.data, partial=False))
    except ValidationError:
        return None
    return {name: content.get(name) for name in CONTENT_FIELDS}


@contextlib.contextmanager
def writer_queue():
    """On a SQLite file, queue pushes on an OS file lock before they take the database's
    write lock: SQLite's busy handler polls with sleeps of up to 100 ms, so a waiting worker
    can sleep well past the moment the lock is freed, while a blocked flock() wakes at once.
    Other writers still rely on busy_timeout."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    with open(f"{url.database}-push.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
