"""Engine settings: SQLite tuned for several gunicorn workers writing at once."""

import contextlib
import fcntl
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask, g, has_request_context, request
from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite

from api.extensions import db

READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")
log = logging.getLogger(__name__)


def dialect_insert(dialect: str):
    """The dialect's INSERT construct, for its ON CONFLICT clauses (SQLite and PostgreSQL
    spell them alike)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert


def begin_as_reader(enabled: bool) -> None:
    """For the rest of this request, start SQLite transactions with a plain BEGIN (enabled)
    or with BEGIN IMMEDIATE (the default for writes): for a write request that signs in and
    checks its input before it needs the write lock."""
    g.sqlite_read_first = enabled


def start_writing() -> None:
    """End this request's reading transaction (nothing was written in it): the next one
    takes the write lock up front, as writes do."""
    db.session.commit()
    begin_as_reader(False)


@contextlib.contextmanager
def writer_queue():
    """On a SQLite file, queue pushes (api.services.sync.outbox) on an OS file lock before
    they take the database's write lock: SQLite's busy handler polls with sleeps of up to
    100 ms, so a waiting worker can sleep well past the moment the lock is freed, while a
    blocked flock() wakes at once. Other writers still rely on busy_timeout."""
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


def configure_engine(app: Flask) -> None:
    """WAL, busy_timeout and foreign keys on every SQLite connection; writes begin IMMEDIATE."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]
    database = engine.url.database
    wal_file = f"{database}-wal" if database and database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal_file:
            # No checkpoint inside a commit (while holding the write lock): each write
            # request folds the WAL back after its response instead (fold_wal), and SQLite
            # folds it when the last connection closes (the CLI's, say).
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
            # SQLite reuses the WAL file from the top after a checkpoint and keeps its size
            # unless told otherwise: truncated then, its size is what is left to fold.
            cursor.execute("PRAGMA journal_size_limit = 0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A write transaction takes the write lock up front, so it waits (busy_timeout)
        # instead of failing with "database is locked" when it tries to upgrade later.
        reading = has_request_context() and (
            request.method in READ_ONLY_METHODS or g.get("sqlite_read_first", False)
        )
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    if wal_file:
        folder = app.extensions["wal_folder"] = WalFolder(
            engine, wal_file, app.config["SQLITE_WAL_FOLD_PAGES"]
        )

        @app.after_request
        def _fold_wal_later(response):
            if request.method not in READ_ONLY_METHODS:
                response.call_on_close(folder.nudge)
            return response


class WalFolder:
    """Folds the WAL back into the database on a thread of the worker's own, once a write
    request's response has gone: a checkpoint waits on the disk twice (its fsyncs, tens of
    milliseconds) without holding the GIL, and the worker serves the next request meanwhile.
    At most one fold runs or waits at a time in a process."""

    def __init__(self, engine: Engine, wal_file: str, pages: int):
        self.engine, self.wal_file, self.pages = engine, wal_file, pages
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._owner = 0  # the process the executor's thread belongs to
        self._pending: Future | None = None

    def nudge(self) -> None:
        """Start a fold (which does nothing while the WAL is small) unless one is under way."""
        with self._lock:
            if self._pending is not None and not self._pending.done():
                return
            if self._executor is None or self._owner != os.getpid():
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="wal-fold")
                self._owner = os.getpid()
            self._pending = self._executor.submit(self._fold)

    def wait(self, timeout: float | None = None) -> tuple | None:
        """The result of the latest fold, once done (None if there was none)."""
        pending = self._pending
        return pending.result(timeout) if pending is not None else None

    def _fold(self) -> tuple | None:
        return fold_wal(self.engine, self.wal_file, self.pages)


def fold_wal(engine: Engine, wal_file: str, pages: int) -> tuple | None:
    """Copy the WAL back into the database once it holds more than ``pages`` pages: a
    passive checkpoint, after the response has gone and outside every lock, which never
    blocks readers or writers (what SQLite's automatic checkpoint would do inside a commit).
    The WAL's size tells how much it holds because journal_size_limit truncates it whenever
    SQLite starts it afresh after a checkpoint. (Never open SQLite's own files to look
    inside: closing a file drops the process's POSIX locks on it, SQLite's included.)
    Returns the checkpoint's (busy, WAL frames, frames copied), or None when not needed."""
    try:
        if os.path.getsize(wal_file) <= pages * 4096:
            return None
        connection = engine.raw_connection()
    except OSError:
        return None
    try:
        return tuple(connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
    except Exception:  # a checkpoint is an optimisation: never fail a finished request
        log.warning("WAL checkpoint failed", exc_info=True)
        return None
    finally:
        connection.close()
