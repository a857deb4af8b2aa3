"""Rows bound for the database driver ahead of time, and written without per-row ORM work."""

import functools
from datetime import datetime

from marshmallow import fields
from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect

from api.extensions import db
from api.schemas.sync import SyncActivitySchema


@functools.cache
def _bind_processors(table: Table, dialect: Dialect) -> dict:
    return {
        column.key: column.type.dialect_impl(dialect).bind_processor(dialect)
        for column in table.columns
    }


def bind_values(table: Table, row: dict, dialect: Dialect, memo: dict) -> dict:
    """Convert values for the driver as SQLAlchemy would (UUIDs, UTC times, JSON).
    ``memo`` keeps converted timestamps: a push stamps every row with the same time."""
    processors = _bind_processors(table, dialect)
    bound = {}
    for key, value in row.items():
        processor = processors[key]
        if processor is None or value is None:
            bound[key] = value if processor is None else processor(value)
        elif type(value) is datetime:
            cached = memo.get((processor, value))
            if cached is None:
                cached = memo[(processor, value)] = processor(value)
            bound[key] = cached
        else:
            bound[key] = processor(value)
    return bound


@functools.cache
def _insert_sql(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, tuple]:
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    return str(compiled), tuple(compiled.positiontup or ()) if compiled.positional else ()


def insert_bound(table: Table, rows: list[dict]) -> None:
    """executemany of rows already bound by bind_values (no per-row SQLAlchemy work)."""
    connection = db.session.connection()
    sql, order = _insert_sql(table, connection.dialect, tuple(rows[0]))
    params = [tuple(row[key] for key in order) for row in rows] if order else rows
    connection.exec_driver_sql(sql, params)


def _payload_kinds() -> list[tuple[str, str]]:
    kinds = []
    for name, field in SyncActivitySchema().fields.items():
        if name in ("deleted", "officer_name"):
            continue
        kind = "uuid" if isinstance(field, fields.UUID) else ""
        kinds.append((name, "time" if isinstance(field, fields.DateTime) else kind))
    return kinds


_PAYLOAD_KINDS = _payload_kinds()


def row_payload(row: dict) -> dict:
    """What activity_payload() makes of a live activity, from a row dict without the
    schema's per-field machinery (a test holds the two to the same output)."""
    payload = {}
    for name, kind in _PAYLOAD_KINDS:
        value = row[name]
        if value is not None and kind:
            value = str(value) if kind == "uuid" else value.isoformat()
        payload[name] = value
    return payload
