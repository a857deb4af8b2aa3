"""Rows bound for the database driver ahead of time, and written without per-row ORM work."""

import functools

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect

from api.extensions import db


class Binder:
    """One table's rows for the database driver, built ahead of time and written with one
    executemany, without per-row SQLAlchemy work.

    ``out[key]`` converts a value for a column as SQLAlchemy would (UUIDs, UTC times, JSON;
    the identity where the driver takes the value as it is). ``row(values)`` takes a row's
    converted values in ``keys`` order and gives what the driver takes: a list in the
    INSERT's parameter order, or a dict for drivers with named parameters. ``slot(key)`` is
    where a value goes in it, for values filled in later."""

    def __init__(self, table: Table, keys: tuple[str, ...], dialect: Dialect):
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(compiled)
        self.keys = keys
        self.positional = bool(compiled.positional)
        order = tuple(compiled.positiontup) if self.positional else keys
        self.order = order
        self.reorder = None if order == keys else [keys.index(key) for key in order]
        self.out = {}
        for column in table.columns:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            self.out[column.key] = processor or _same

    def slot(self, key: str) -> int | str:
        return self.order.index(key) if self.positional else key

    def row(self, values: list) -> list | dict:
        if not self.positional:
            return dict(zip(self.keys, values, strict=True))
        return values if self.reorder is None else [values[i] for i in self.reorder]

    def insert(self, rows: list) -> None:
        """executemany of rows made by row()."""
        params = [tuple(row) for row in rows] if self.positional else rows
        db.session.connection().exec_driver_sql(self.sql, params)


def _same(value):
    return value


@functools.cache
def binder(table: Table, keys: tuple[str, ...], dialect: Dialect) -> Binder:
    return Binder(table, keys, dialect)
