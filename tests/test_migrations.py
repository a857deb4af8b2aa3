"""Migrations build the schema the models describe; SQLite connections are tuned."""

import threading
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, make_url, select, text

from api import create_app
from api.extensions import db
from api.health import migration_heads
from tests.conftest import BASE_CONFIG, POSTGRES_URL

TABLES = {
    "user_account",
    "school",
    "school_assignment",
    "activity",
    "activity_revision",
    "audit_event",
    "login_attempt",
    "token_family",
    "revoked_token",
    "sequence_counter",
    "sync_mutation",
}


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL database."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"sro_migration_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_app(empty_database_url):
    app = create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _diffs() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_on_empty_database_creates_schema_at_head(empty_app):
    assert _tables() == set()
    upgrade(directory="migrations")
    assert TABLES <= _tables()
    with db.engine.connect() as connection:
        applied = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    assert applied == set(migration_heads())


def test_models_match_migrations(empty_app):
    upgrade(directory="migrations")
    assert _diffs() == []


def test_upgrade_seeds_the_change_counters(empty_app):
    upgrade(directory="migrations")
    with db.engine.connect() as connection:
        names = set(connection.scalars(text("SELECT name FROM sequence_counter")))
    assert {"activity", "audit"} <= names


def test_downgrade_to_base_then_upgrade_again(empty_app):
    upgrade(directory="migrations")
    downgrade(directory="migrations", revision="base")
    assert _tables() <= {"alembic_version"}
    upgrade(directory="migrations")
    assert TABLES <= _tables()
    assert _diffs() == []


def test_flask_db_upgrade_command_on_empty_database(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert TABLES <= _tables()


# An activity row as the schema holds it at head, and as it held it before 0009.
ACTIVITY_INSERT = text(
    "INSERT INTO activity (id, officer_id, school_id, category, started_at, duration_minutes, "
    "audience, participant_count, referral_to, outcome, status, version, content_version, "
    "change_seq, created_at, updated_at, submitted_at) VALUES (:id, :o, :s, :category, :t, 30, "
    "'[]', 0, :referral_to, :outcome, :status, 1, 1, 1, :t, :t, :t)"
)
ACTIVITY_INSERT_BEFORE_0009 = text(
    "INSERT INTO activity (id, officer_id, school_id, category, started_at, duration_minutes, "
    "audience, participant_count, referral_to, outcome, status, version, content_version, "
    "change_seq, created_at, updated_at) VALUES (:id, :o, :s, :category, :t, 30, '[]', 0, "
    ":referral_to, :outcome, :status, 1, 1, 1, :t, :t)"
)
REVISION_INSERT = text(
    "INSERT INTO activity_revision (activity_id, version, action, actor_id, at, changes) "
    "VALUES (:id, :version, :action, :o, :t, '{}')"
)


def _seed_officer_and_school() -> tuple[int, int]:
    """A school and an officer written with SQL alone (the models may be ahead of the
    schema under test)."""
    stamp = {"t": "2025-01-01 00:00:00"}
    db.session.execute(
        text(
            "INSERT INTO school (name, code, level, active, version, created_at, updated_at) "
            "VALUES ('Migration School', 'MIG1', 'other', true, 1, :t, :t)"
        ),
        stamp,
    )
    db.session.execute(
        text(
            "INSERT INTO user_account (email, display_name, role, active, password_hash, "
            "token_generation, version, created_at, updated_at) VALUES "
            "('mig@example.org', 'M', 'officer', true, 'h', 0, 1, :t, :t)"
        ),
        stamp,
    )
    school = db.session.scalar(text("SELECT id FROM school WHERE code = 'MIG1'"))
    officer = db.session.scalar(text("SELECT id FROM user_account WHERE email = 'mig@example.org'"))
    return officer, school


def _activity(officer: int, school: int, **values) -> dict:
    return {
        "id": uuid.uuid4().hex,
        "o": officer,
        "s": school,
        "t": "2025-01-01 00:00:00",
        "category": "education",
        "referral_to": None,
        "outcome": None,
        "status": "submitted",
    } | values


def test_activity_checks_refuse_every_value_outside_their_lists(app):
    """The checks written as chains of comparisons (migration 0003) accept each listed
    value and refuse anything else, on every database."""
    with app.app_context():
        from sqlalchemy.exc import IntegrityError

        from api.models.activity import CATEGORIES, OUTCOMES, REFERRALS, STATUSES

        officer, school = _seed_officer_and_school()
        db.session.commit()
        good = [{"category": c, "referral_to": "other"} for c in CATEGORIES]
        good += [{"status": s} for s in STATUSES] + [{"outcome": o} for o in OUTCOMES]
        good += [{"referral_to": r} for r in REFERRALS]
        for values in good:
            db.session.execute(ACTIVITY_INSERT, _activity(officer, school, **values))
        db.session.commit()
        bad = [
            {"category": "Education"},
            {"category": "education "},
            {"status": "deleted"},
            {"outcome": "arrest"},
            {"referral_to": "police"},
            {"category": "community_referral"},  # a referral needs referral_to
        ]
        for values in bad:
            with pytest.raises(IntegrityError):
                db.session.execute(ACTIVITY_INSERT, _activity(officer, school, **values))
                db.session.flush()
            db.session.rollback()


def test_upgrade_to_0003_keeps_activities_and_their_history(empty_app):
    """0003 rebuilds the activity table on SQLite: children that cascade from it (revisions)
    survive, foreign keys are on again afterwards, and downgrading keeps them too."""
    upgrade(directory="migrations", revision="0002")
    officer, school = _seed_officer_and_school()
    rows = [_activity(officer, school, outcome="follow_up") for _ in range(3)]
    for row in rows:
        db.session.execute(ACTIVITY_INSERT_BEFORE_0009, row)
        db.session.execute(REVISION_INSERT, row | {"version": 1, "action": "create"})
    db.session.commit()

    def counts() -> tuple[int, int]:
        found = (
            db.session.scalar(text("SELECT count(*) FROM activity")),
            db.session.scalar(text("SELECT count(*) FROM activity_revision")),
        )
        db.session.rollback()  # let the migrations take the write lock
        return found

    upgrade(directory="migrations")
    assert counts() == (3, 3)
    assert _diffs() == []
    if db.engine.dialect.name == "sqlite":
        sql = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'activity'"))
        assert " IN (" not in sql
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1
        db.session.rollback()
    downgrade(directory="migrations", revision="0002")
    assert counts() == (3, 3)
    upgrade(directory="migrations")
    assert counts() == (3, 3)


# Histories (action, day of January 2025) and the revision whose time 0009 gives submitted_at
# (its version; 1 is the create, whose time is created_at).
HISTORIES = {
    "never edited": ([], 1),
    "edited, never reviewed": ([("edit", 2), ("edit", 3)], 1),
    "reviewed after its only edit": ([("edit", 2), ("confirm", 3)], 1),
    "disputed, then corrected": ([("dispute", 2), ("edit", 9)], 3),
    "reopened twice, then edited again": (
        [("confirm", 2), ("edit", 4), ("confirm", 5), ("edit", 20), ("edit", 21)],
        5,
    ),
    "deleted after a reopening edit": ([("dispute", 2), ("edit", 6), ("delete", 7)], 3),
}


def test_upgrade_to_0009_backfills_submitted_at_from_the_history(empty_app):
    """created_at for every row; for one sent back by an edit, that edit's time: the first
    edit after a review, walking the revisions in version order."""
    upgrade(directory="migrations", revision="0008")
    officer, school = _seed_officer_and_school()
    expected = {}
    for name, (history, resubmitted) in HISTORIES.items():
        row = _activity(officer, school)
        db.session.execute(ACTIVITY_INSERT_BEFORE_0009, row)
        db.session.execute(REVISION_INSERT, row | {"version": 1, "action": "create"})
        content_version = 1
        for version, (action, day) in enumerate(history, start=2):
            at = {"t": f"2025-01-{day:02d} 10:00:00"}
            db.session.execute(REVISION_INSERT, row | at | {"version": version, "action": action})
            if action in ("edit", "delete"):
                content_version = version
        db.session.execute(
            text("UPDATE activity SET version = :v, content_version = :c WHERE id = :id"),
            {"v": len(history) + 1, "c": content_version, "id": row["id"]},
        )
        expected[name] = (uuid.UUID(row["id"]), resubmitted)
    db.session.commit()
    db.session.remove()

    upgrade(directory="migrations")

    from api.models import Activity, ActivityRevision

    for name, (activity_id, resubmitted) in expected.items():
        activity = db.session.get(Activity, activity_id)
        revision = db.session.scalar(
            select(ActivityRevision).where(
                ActivityRevision.activity_id == activity_id,
                ActivityRevision.version == resubmitted,
            )
        )
        assert activity.submitted_at == revision.at, name
        if resubmitted == 1:
            assert activity.submitted_at == activity.created_at, name
    db.session.rollback()
    assert _diffs() == []
    downgrade(directory="migrations", revision="0008")
    assert "submitted_at" not in {c["name"] for c in inspect(db.engine).get_columns("activity")}


def test_database_constraints_refuse_bad_rows(app):
    """Checks live in the database too, not only in the schemas."""
    with app.app_context():
        from sqlalchemy.exc import IntegrityError

        from tests.factories import make_school, make_user

        school = make_school()
        officer = make_user("officer", [school])
        with pytest.raises(IntegrityError):
            db.session.execute(
                text(
                    "INSERT INTO activity (id, officer_id, school_id, category, started_at, "
                    "duration_minutes, audience, participant_count, status, version, "
                    "content_version, change_seq, created_at, updated_at, submitted_at) VALUES "
                    "(:id, :o, :s, 'education', :t, 0, '[]', 0, 'submitted', 1, 1, 1, :t, :t, :t)"
                ),
                {"id": uuid.uuid4().hex, "o": officer.id, "s": school.id, "t": "2025-01-01"},
            )
            db.session.flush()
        db.session.rollback()
        with pytest.raises(IntegrityError):
            db.session.execute(
                text(
                    "INSERT INTO user_account (email, display_name, role, active, password_hash, "
                    "token_generation, version, created_at, updated_at) VALUES "
                    "('UPPER@example.org', 'X', 'officer', true, 'h', 0, 1, :t, :t)"
                ),
                {"t": "2025-01-01"},
            )
        db.session.rollback()


@pytest.mark.sqlite_only
def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(app):
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            busy = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert busy == app.config["SQLITE_BUSY_TIMEOUT_MS"] > 0


@pytest.mark.sqlite_only
def test_sqlite_every_pooled_connection_is_configured(app):
    with app.app_context():
        connections = [db.engine.raw_connection() for _ in range(3)]
        try:
            for connection in connections:
                cursor = connection.cursor()
                assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1
                assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] > 0
                assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                cursor.close()
        finally:
            for connection in connections:
                connection.close()


@pytest.mark.sqlite_only
def test_sqlite_foreign_keys_are_enforced(app):
    with app.app_context():
        from sqlalchemy.exc import IntegrityError

        with pytest.raises(IntegrityError):
            db.session.execute(
                text("INSERT INTO school_assignment (user_id, school_id) VALUES (9999, 9999)")
            )
        db.session.rollback()


@pytest.mark.sqlite_only
def test_sqlite_request_writes_begin_immediate(client, app):
    """A write request takes the write lock up front (BEGIN IMMEDIATE), reads do not."""
    from sqlalchemy import event

    from tests.factories import activity_body, auth, make_school, make_user

    school = make_school()
    officer = make_user("officer", [school])
    headers = auth(officer)
    statements = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        client.get("/api/v1/activities", headers=headers)
        reads = list(statements)
        statements.clear()
        client.post("/api/v1/activities", json=activity_body(school), headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert "BEGIN" in reads and "BEGIN IMMEDIATE" not in reads
    assert "BEGIN IMMEDIATE" in statements


@pytest.mark.sqlite_only
@pytest.mark.parametrize("fold_pages, folded", [(1, True), (100_000, False)])
def test_sqlite_write_request_folds_the_wal_after_its_response(
    make_app, monkeypatch, fold_pages, folded
):
    """Requests never checkpoint inside a commit; a write request whose WAL has grown past
    SQLITE_WAL_FOLD_PAGES checkpoints it once its response is done."""
    from api import database
    from tests.factories import activity_body, auth, make_school, make_user

    checkpoints, threads = [], []

    def recorded(*args):
        threads.append(threading.get_ident())
        checkpoints.append(fold_wal(*args))
        return checkpoints[-1]

    fold_wal = database.fold_wal
    monkeypatch.setattr(database, "fold_wal", recorded)
    app = make_app(SQLITE_WAL_FOLD_PAGES=fold_pages)
    school = make_school()
    headers = auth(make_user("officer", [school]))
    response = app.test_client().post(
        "/api/v1/activities", json=activity_body(school), headers=headers
    )
    assert response.status_code == 201
    assert checkpoints == []  # not before the response is done
    response.close()  # as a WSGI server does once the response is sent
    app.extensions["wal_folder"].wait(timeout=30)
    if folded:
        # On the folder's own thread: the worker is free for its next request.
        assert threads and threads[0] != threading.get_ident()
        busy, frames, copied = checkpoints[0]
        assert busy == 0 and copied == frames > 0
    else:
        assert checkpoints == [None]  # nothing to fold: the WAL is small
    with app.test_request_context("/"):
        connection = db.engine.raw_connection()
    try:
        assert connection.cursor().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    finally:
        connection.close()


@pytest.mark.sqlite_only
def test_sqlite_fold_goes_by_what_the_wal_holds_since_the_last_fold(make_app):
    """SQLite writes the WAL from the top again after a checkpoint; journal_size_limit
    truncates it then, so a small write after a fold does not checkpoint again."""
    import os

    from api.database import fold_wal

    app = make_app(SQLITE_WAL_FOLD_PAGES=50)
    with app.app_context():
        engine = db.engine
        wal = f"{engine.url.database}-wal"
        with engine.begin() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_size_limit").scalar() == 0
            connection.exec_driver_sql("CREATE TABLE filler (x BLOB)")
            connection.exec_driver_sql("INSERT INTO filler VALUES (randomblob(400000))")
        busy, frames, copied = fold_wal(engine, wal, 50)
        assert busy == 0 and copied == frames > 50
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO filler VALUES (randomblob(10))")
        assert 0 < os.path.getsize(wal) <= 5 * 4200  # started afresh, not kept at full size
        assert fold_wal(engine, wal, 50) is None
