"""Offline sync: a device pushes its outbox and pulls the changes it has not seen.

Push (outbox.py) parses every item with the schemas, reads what the batch names under the
write lock, decides every item in plain Python (decide.py, with the three-way merge of
merge.py) and stores the changes with one statement a table (api.services.writes). Each
applied result is kept with its mutation_id in the same transaction, so a retry (also after
a crash between commit and response) is answered ``duplicate`` with the stored result.

Pull (changes.py) walks the change feed by ``change_seq``, a number taken from a counter
whose row lock is held to commit, so sequence order is commit order and a cursor never skips
a change that commits late. Retention (retention.py) purges old tombstones and results.
"""

from api.services.sync.changes import pull
from api.services.sync.decide import activity_payload
from api.services.sync.outbox import push
from api.services.sync.retention import purge

__all__ = ["activity_payload", "pull", "purge", "push"]
