"""Rows bound for the database driver ahead of time, and written without per-row ORM work."""

import functools
from datetime import datetime

from marshmallow import fields
from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect

from api.extensions import db
from api.schemas.sync import SyncActivitySchema


class Binder:
    """One table's rows converted for the database driver ahead of time, as SQLAlchemy would
    convert them (UUIDs, UTC times, JSON), and written with one executemany.

    A bound row is a list in the INSERT's parameter order (a dict for drivers with named
    parameters); ``slot(key)`` is where a value goes, for values filled in later."""

    def __init__(self, table: Table, keys: tuple[str, ...], dialect: Dialect):
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.order = tuple(compiled.positiontup) if self.positional else keys
        processors = {
            column.key: column.type.dialect_impl(dialect).bind_processor(dialect)
            for column in table.columns
        }
        self.converted = tuple(
            (index, processors[key]) for index, key in enumerate(self.order) if processors[key]
        )

    def slot(self, key: str) -> int | str:
        return self.order.index(key) if self.positional else key

    def bind(self, row: dict, memo: dict) -> list | dict:
        """The row's values for the driver. ``memo`` keeps converted timestamps: a push
        stamps every row with the same time."""
        values = [row[key] for key in self.order]
        for index, processor in self.converted:
            value = values[index]
            if value is None:
                continue
            if type(value) is datetime:
                cached = memo.get((processor, value))
                if cached is None:
                    cached = memo[(processor, value)] = processor(value)
                values[index] = cached
            else:
                values[index] = processor(value)
        return values if self.positional else dict(zip(self.order, values, strict=True))

    def insert(self, rows: list) -> None:
        """executemany of bound rows (no per-row SQLAlchemy work)."""
        params = [tuple(row) for row in rows] if self.positional else rows
        db.session.connection().exec_driver_sql(self.sql, params)


@functools.cache
def binder(table: Table, keys: tuple[str, ...], dialect: Dialect) -> Binder:
    return Binder(table, keys, dialect)


def _payload_kinds() -> list[tuple[str, str]]:
    kinds = []
    for name, field in SyncActivitySchema().fields.items():
        if name in ("deleted", "officer_name"):
            continue
        kind = "uuid" if isinstance(field, fields.UUID) else ""
        kinds.append((name, "time" if isinstance(field, fields.DateTime) else kind))
    return kinds


_PAYLOAD_KINDS = _payload_kinds()


def row_payload(row: dict, memo: dict | None = None) -> dict:
    """What activity_payload() makes of a live activity, from a row dict without the
    schema's per-field machinery (a test holds the two to the same output). ``memo`` keeps
    the text of timestamps met before."""
    memo = {} if memo is None else memo
    payload = {}
    for name, kind in _PAYLOAD_KINDS:
        value = row[name]
        if value is not None and kind:
            if kind == "uuid":
                value = str(value)
            else:
                key = (value, value.tzinfo)  # equal instants in other zones read otherwise
                text = memo.get(key)
                if text is None:
                    text = memo[key] = value.isoformat()
                value = text
        payload[name] = value
    return payload
