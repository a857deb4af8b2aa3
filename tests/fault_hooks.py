"""Test-only gunicorn config (`gunicorn -c python:tests.fault_hooks`) for tests/test_faults.py.

Loaded in the gunicorn master before it forks, so every worker inherits these SQLAlchemy event
listeners. During the first push (POST /api/v1/sync/push) the worker stops at the point named
by FAULT_KILL_POINT, writes that name to FAULT_PROGRESS_FILE and sleeps, so the test can
SIGKILL it exactly there:

- ``after_first_insert``: an INSERT into ``activity`` has run, the transaction is open;
- ``before_commit``: every row of the push is written, COMMIT not yet sent;
- ``after_commit``: committed, the response not yet sent.

Later pushes (the client's retries) run normally. Nothing here is imported by the app.
"""

import os
import re
import time

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

PUSH_PATH = "/api/v1/sync/push"
_PROGRESS = os.environ["FAULT_PROGRESS_FILE"]
_KILL_POINT = os.environ.get("FAULT_KILL_POINT", "")
_PAUSE = float(os.environ.get("FAULT_PAUSE", "30"))
_ACTIVITY_INSERT = re.compile(r'\s*INSERT\s+INTO\s+"?activity"?\s*\(', re.IGNORECASE)


def _stop_here(point: str) -> None:
    if point != _KILL_POINT or not has_request_context() or request.path != PUSH_PATH:
        return
    with open(_PROGRESS, encoding="utf-8") as handle:
        if handle.read():
            return  # only the first push stops; retries run through
    with open(_PROGRESS, "a", encoding="utf-8") as handle:
        handle.write(point)
    time.sleep(_PAUSE)


def _wrote_activities() -> bool:
    return has_request_context() and g.get("fault_wrote_activity", False)


@event.listens_for(Engine, "after_cursor_execute")
def _after_execute(conn, cursor, statement, parameters, context, executemany):
    if has_request_context() and _ACTIVITY_INSERT.match(statement):
        g.fault_wrote_activity = True
        _stop_here("after_first_insert")


@event.listens_for(Engine, "commit")
def _before_commit(conn):
    if _wrote_activities():  # the commit that stores the push's rows, not an earlier one
        _stop_here("before_commit")
        g.fault_committing = True


@event.listens_for(Session, "after_transaction_end")
def _after_commit(session, transaction):
    # Only the outermost transaction, and only once its COMMIT has gone through.
    if transaction.parent is None and has_request_context() and g.get("fault_committing"):
        g.fault_committing = g.fault_wrote_activity = False
        _stop_here("after_commit")
