"""What push, pull and purge share: the change feed's counter, its row lock, and batching."""

import logging

from api.services import activities, writes

# One logger for the package, named as it was when sync was a single module.
log = logging.getLogger(__package__)

FEED = writes.CHANGE_FEED
APPLIED = "applied"
CHUNK = 500


# The same lock every other write takes first: concurrent pushes cannot interleave.
lock_feed = activities.lock_change_feed


def chunks(values) -> list[list]:
    """The values in lists of at most CHUNK, to keep IN (...) lists bounded."""
    values = list(values)
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]
