"""Offline sync: apply a device's outbox (push) and feed it the changes it lacks (pull).

Push applies each mutation in order inside its own savepoint, so one bad item never sinks the
others, and stores the result of every applied mutation in the same transaction as the change:
a retry of the same ``mutation_id`` (also after a crash between commit and response) finds it
and answers ``duplicate`` with the stored result, writing nothing.

Pull walks the change feed by ``change_seq``, a number taken from a counter inside every
writing transaction whose row lock is held to commit, so sequence order is commit order and a
cursor never skips a change that commits late.

The modules: ``push`` (the entry point), ``envelope`` (parsing an item), ``outbox`` (applying
a push in order), ``apply`` (one mutation, its conflicts), ``results`` (what a device is told),
``plain`` (a plainly valid create checked quickly), ``prepared``, ``rows`` and ``bulk``
(the multi-row fast path for creates), ``pull``, ``purge``
(retention) and ``feed`` (what they share).
"""

from api.services.sync.apply import activity_payload
from api.services.sync.bulk import AUDIT_COUNTER, BulkUnavailable, write_creates
from api.services.sync.envelope import (
    MAX_VERSION,
    Mutation,
    load_content,
    parse_mutation,
    request_hash,
)
from api.services.sync.feed import APPLIED, CHUNK, FEED, lock_feed, log
from api.services.sync.outbox import OutboxRun
from api.services.sync.plain import plain_content, plain_create
from api.services.sync.prepared import PreparedCreate, Tables, prepare_create
from api.services.sync.pull import decode_cursor, encode_cursor, pull, scope_key
from api.services.sync.purge import purge
from api.services.sync.push import push, writer_queue
from api.services.sync.results import StoredResult, rejected
from api.services.sync.rows import Binder, binder

__all__ = [
    "APPLIED",
    "AUDIT_COUNTER",
    "CHUNK",
    "FEED",
    "MAX_VERSION",
    "BulkUnavailable",
    "Mutation",
    "OutboxRun",
    "PreparedCreate",
    "StoredResult",
    "Tables",
    "activity_payload",
    "Binder",
    "binder",
    "decode_cursor",
    "encode_cursor",
    "load_content",
    "lock_feed",
    "log",
    "parse_mutation",
    "plain_content",
    "plain_create",
    "prepare_create",
    "pull",
    "purge",
    "push",
    "rejected",
    "request_hash",
    "scope_key",
    "write_creates",
    "writer_queue",
]
