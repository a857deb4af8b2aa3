"""Pull-sequence correctness on PostgreSQL with concurrent writers whose commits interleave.

The change sequence is taken inside the writing transaction from a counter row whose lock is
held until commit, so a transaction that takes a later number cannot commit before an earlier
one: a reader polling `change_seq > cursor` never skips a row that commits late. These tests
use real connections (one per thread) against the PostgreSQL server; SQLite serialises writers
anyway, so the SQLite run skips them.
"""

import os
import random
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from api.errors import Conflict
from api.extensions import db
from api.models import Activity, User
from api.schemas.activity import ActivityCreateSchema
from api.services import activities, review
from tests.factories import activity_body, make_school, make_user, stored

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
)


class Reader(threading.Thread):
    """A pull loop: poll rows with change_seq above the cursor, advance to the highest seen."""

    def __init__(self, url: str, table: str = "activity", seq_column: str = "change_seq"):
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.query = text(
            f"SELECT id, {seq_column} FROM {table} WHERE {seq_column} > :cursor "
            f"ORDER BY {seq_column} LIMIT 200"
        )
        self.cursor = 0
        self.seen: list = []
        self.done = threading.Event()
        self.error: BaseException | None = None

    def poll(self, connection) -> None:
        rows = connection.execute(self.query, {"cursor": self.cursor}).all()
        connection.commit()
        for row_id, seq in rows:
            self.seen.append(str(row_id))
            self.cursor = max(self.cursor, seq)

    def run(self) -> None:
        try:
            with self.engine.connect() as connection:
                while not self.done.is_set():
                    self.poll(connection)
                    time.sleep(0.005)
                self.poll(connection)  # one last pull after every writer committed
        except BaseException as error:  # surfaced by the test
            self.error = error
        finally:
            self.engine.dispose()

    def finish(self) -> list:
        self.done.set()
        self.join(timeout=30)
        assert not self.is_alive(), "the reader did not stop"
        assert self.error is None, self.error
        return self.seen


def run_threads(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()


def wait_for_a_lock_waiter(engine, timeout: float = 10) -> None:
    """Return once a session of this database waits on a lock (the second writer, blocked on
    the counter row), instead of sleeping and hoping it got there. Looks on a connection of
    its own, outside the caller's open transaction."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while not connection.execute(query).scalar():
            connection.rollback()  # a fresh snapshot of pg_stat_activity for the next look
            assert time.monotonic() < deadline, "the second writer never waited on the lock"
            time.sleep(0.005)


def new_body(school) -> dict:
    """Loaded activity content, as the service receives it from the schema."""
    return ActivityCreateSchema().load({"id": str(uuid.uuid4())} | activity_body(school))


def test_later_started_writer_blocks_until_earlier_commits_reader_misses_nothing(app):
    school = make_school()
    officer_id = make_user("officer", [school]).id
    first, second = new_body(school), new_body(school)
    first_has_sequence = threading.Event()
    record: dict = {}
    errors: list = []

    def slow_writer():
        try:
            with app.app_context():
                activity = activities.create(db.session.get(User, officer_id), dict(first))
                record["first_seq"] = activity.change_seq
                first_has_sequence.set()
                # T1 holds its sequence number, uncommitted, until T2 is seen waiting for it.
                wait_for_a_lock_waiter(db.engine)
                db.session.commit()
                record["first_committed"] = time.monotonic()
        except BaseException as error:
            errors.append(error)
            first_has_sequence.set()

    def fast_writer():
        try:
            first_has_sequence.wait(10)
            with app.app_context():
                officer = db.session.get(User, officer_id)
                record["second_started"] = time.monotonic()
                activity = activities.create(officer, dict(second))
                record["second_got_seq"] = time.monotonic()
                record["second_seq"] = activity.change_seq
                db.session.commit()
        except BaseException as error:
            errors.append(error)

    reader = Reader(app.config["SQLALCHEMY_DATABASE_URI"])
    reader.start()
    run_threads(threading.Thread(target=slow_writer), threading.Thread(target=fast_writer))
    seen = reader.finish()

    assert errors == []
    # T2 started while T1 held the counter row, so it waited for T1's commit ...
    assert record["second_started"] < record["first_committed"] <= record["second_got_seq"]
    # ... and sequence order is commit order: the reader got both, once each, in order.
    assert record["first_seq"] < record["second_seq"]
    assert seen == [str(first["id"]), str(second["id"])]


def test_many_interleaved_writers_reader_sees_every_change_once(app):
    school = make_school()
    officer_id = make_user("officer", [school]).id
    writers, per_writer = 6, 8
    created: list[str] = []
    errors: list = []
    lock = threading.Lock()

    def writer(seed: int):
        rng = random.Random(seed)
        try:
            with app.app_context():
                officer = db.session.get(User, officer_id)
                for _ in range(per_writer):
                    activity = activities.create(officer, dict(new_body(school)))
                    time.sleep(rng.uniform(0, 0.02))  # commit at a random later moment
                    db.session.commit()
                    with lock:
                        created.append(str(activity.id))
        except BaseException as error:
            errors.append(error)

    reader = Reader(app.config["SQLALCHEMY_DATABASE_URI"])
    reader.start()
    run_threads(*(threading.Thread(target=writer, args=(n,)) for n in range(writers)))
    seen = reader.finish()

    assert errors == []
    assert len(created) == writers * per_writer
    assert sorted(seen) == sorted(created)  # every change, none twice
    with app.app_context():
        sequences = db.session.scalars(text("SELECT change_seq FROM activity")).all()
    assert len(set(sequences)) == len(sequences) == writers * per_writer


def test_edits_and_reviews_as_requests_interleave_without_lost_updates(app):
    """Write requests read the activity after taking the feed lock, so concurrent edits and
    reviews of one activity each see the other's commit: contiguous versions, no conflict."""
    school = make_school()
    officer = make_user("officer", [school])
    leader_id = make_user("school_leader", [school]).id
    officer_id = officer.id
    with app.app_context():
        activity = activities.create(db.session.get(User, officer_id), dict(new_body(school)))
        db.session.commit()
        activity_id = activity.id
    errors: list = []

    def editor():
        try:
            for minutes in range(30, 40):
                with app.test_request_context(method="PATCH"):
                    user = db.session.get(User, officer_id)
                    target = activities.get_visible(user, activity_id)
                    activities.edit(target, user, {"duration_minutes": minutes})
                    time.sleep(0.01)
                    db.session.commit()
        except BaseException as error:
            errors.append(error)

    def reviewer():
        try:
            for n in range(6):
                action, note = ("confirm", None) if n % 2 else ("dispute", f"Unclear {n}")
                with app.test_request_context(method="POST"):
                    review.review_one(activity_id, db.session.get(User, leader_id), action, note)
                time.sleep(0.01)
        except BaseException as error:
            errors.append(error)

    reader = Reader(app.config["SQLALCHEMY_DATABASE_URI"])
    reader.start()
    run_threads(threading.Thread(target=editor), threading.Thread(target=reviewer))
    reader.finish()

    assert errors == []
    with app.app_context():
        final_seq, final_version, minutes = db.session.execute(
            text("SELECT change_seq, version, duration_minutes FROM activity WHERE id = :i"),
            {"i": activity_id},
        ).one()
        versions = db.session.scalars(
            text("SELECT version FROM activity_revision WHERE activity_id = :i ORDER BY version"),
            {"i": activity_id},
        ).all()
    assert final_version == 1 + 10 + 6  # create, every edit, every review
    assert versions == list(range(1, final_version + 1))  # one revision a version, no gaps
    assert minutes == 39
    assert reader.cursor == final_seq  # the last pull ended on the latest change


def test_stale_write_without_the_lock_is_a_conflict_not_a_lost_update(app):
    """The safety net for a write path that read before locking: a clean 409-style Conflict,
    never an overwritten change or a duplicate version (IntegrityError)."""
    school = make_school()
    officer = make_user("officer", [school])
    officer_id = officer.id
    with app.app_context():
        activity = activities.create(db.session.get(User, officer_id), dict(new_body(school)))
        db.session.commit()
        activity_id = activity.id
    loaded, other_committed = threading.Event(), threading.Event()
    outcome: dict = {}

    def stale_writer():
        with app.app_context():
            user = db.session.get(User, officer_id)
            target = db.session.get(Activity, activity_id)  # read without the lock
            loaded.set()
            other_committed.wait(10)
            try:
                activities.edit(target, user, {"duration_minutes": 11})
                db.session.commit()
                outcome["result"] = "committed"
            except Conflict as error:
                db.session.rollback()
                outcome["result"] = error.code

    def other_writer():
        loaded.wait(10)
        with app.test_request_context(method="PATCH"):
            user = db.session.get(User, officer_id)
            target = activities.get_visible(user, activity_id)
            activities.edit(target, user, {"duration_minutes": 22})
            db.session.commit()
        other_committed.set()

    run_threads(threading.Thread(target=stale_writer), threading.Thread(target=other_writer))
    saved = stored(Activity, activity_id)
    assert outcome["result"] == "concurrent_change"
    assert (saved.version, saved.duration_minutes) == (2, 22)


def test_non_transactional_sequence_would_let_a_reader_miss_a_row(app):
    """The control: with a plain PostgreSQL SEQUENCE (no lock held to commit), the same
    interleaving makes the pull loop skip T1's row. This is the bug the counter prevents."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS seq_probe"))
        connection.execute(text("DROP SEQUENCE IF EXISTS seq_probe_seq"))
        connection.execute(text("CREATE SEQUENCE seq_probe_seq"))
        connection.execute(text("CREATE TABLE seq_probe (id text PRIMARY KEY, seq bigint)"))
    insert = text("INSERT INTO seq_probe VALUES (:i, nextval('seq_probe_seq'))")
    reader = Reader(url, table="seq_probe", seq_column="seq")
    try:
        with engine.connect() as first, engine.connect() as second, engine.connect() as pulls:
            first.execute(insert, {"i": "first"})  # takes 1, not committed yet
            second.execute(insert, {"i": "second"})  # takes 2: nextval does not wait
            second.commit()
            reader.poll(pulls)  # sees "second", cursor moves to 2
            first.commit()  # "first" appears with 1, below the cursor
            reader.poll(pulls)
        seen = reader.seen
    finally:
        reader.engine.dispose()
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE seq_probe"))
            connection.execute(text("DROP SEQUENCE seq_probe_seq"))
        engine.dispose()
    assert seen == ["second"]  # "first" committed later with a lower number: missed
