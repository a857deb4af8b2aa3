"""Engine settings: SQLite tuned for several gunicorn workers writing at once."""

import logging
import os
import struct

from flask import Flask, g, has_request_context, request
from sqlalchemy import Engine, event

from api.extensions import db

READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")
log = logging.getLogger(__name__)


def begin_as_reader(enabled: bool) -> None:
    """For the rest of this request, start SQLite transactions with a plain BEGIN (enabled)
    or with BEGIN IMMEDIATE (the default for writes): for a write request that signs in and
    checks its input before it needs the write lock."""
    g.sqlite_read_first = enabled


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
        fold_pages = app.config["SQLITE_WAL_FOLD_PAGES"]

        @app.after_request
        def _fold_wal_later(response):
            if request.method not in READ_ONLY_METHODS:
                response.call_on_close(lambda: fold_wal(engine, wal_file, fold_pages))
            return response


def fold_wal(engine: Engine, wal_file: str, pages: int) -> tuple | None:
    """Copy the WAL back into the database once more than ``pages`` of its frames are not
    yet copied: a passive checkpoint, after the response has gone and outside every lock,
    which never blocks readers or writers (what SQLite's automatic checkpoint would do
    inside a commit). Returns the checkpoint's (busy, WAL frames, frames copied), or None
    when not needed."""
    if unfolded_frames(wal_file) <= pages:
        return None
    try:
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


# The wal-index (the "-shm" file, https://www.sqlite.org/walformat.html) starts with the
# index header, whose mxFrame (a u32 at byte 16, native byte order) is the WAL's last valid
# frame, and holds at byte 96 nBackfill, the frames a checkpoint has copied. The WAL file
# itself keeps its size when SQLite starts writing it from the top again, so its size says
# nothing about what is left to copy.
_WAL_INDEX = struct.Struct("=16xI76xI")


def unfolded_frames(wal_file: str) -> int:
    """How many WAL frames no checkpoint has copied yet; 0 when there is no WAL. Without
    a readable wal-index, the WAL file's size in 4 KiB pages (which can only overstate)."""
    try:
        with open(wal_file.removesuffix("-wal") + "-shm", "rb") as index:
            header = index.read(_WAL_INDEX.size)
        if len(header) == _WAL_INDEX.size:
            last, copied = _WAL_INDEX.unpack(header)
            return max(last - copied, 0)
        return os.path.getsize(wal_file) // 4096
    except OSError:
        return 0
