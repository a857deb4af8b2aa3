"""Engine settings: SQLite tuned for several gunicorn workers writing at once."""

from flask import Flask, g, has_request_context, request
from sqlalchemy import event

from api.extensions import db

READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


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

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A write transaction takes the write lock up front, so it waits (busy_timeout)
        # instead of failing with "database is locked" when it tries to upgrade later.
        reading = has_request_context() and (
            request.method in READ_ONLY_METHODS or g.get("sqlite_read_first", False)
        )
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
