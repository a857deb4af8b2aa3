"""What push, pull and purge share: the change feed's counter, its row lock, and batching."""

import logging

from sqlalchemy import select

from api.extensions import db
from api.models import SequenceCounter
from api.services import activities

# One logger for the package, named as it was when sync was a single module.
log = logging.getLogger(__package__)

FEED = activities.CHANGE_FEED
APPLIED = "applied"
CHUNK = 500


def lock_feed() -> None:
    """Take the change-feed counter's row lock first (PostgreSQL), so every read below sees
    the latest commits and concurrent pushes cannot interleave; SQLite's BEGIN IMMEDIATE
    already holds the database's write lock."""
    db.session.execute(
        select(SequenceCounter.value).where(SequenceCounter.name == FEED).with_for_update()
    )


def chunks(values) -> list[list]:
    """The values in lists of at most CHUNK, to keep IN (...) lists bounded."""
    values = list(values)
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]
