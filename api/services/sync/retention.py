"""Retention: old tombstones and applied-mutation records deleted, the purge mark moved."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from api.extensions import db
from api.models import Activity, ActivityDeparture, ActivityRevision, SequenceCounter, SyncMutation
from api.models.sync import APPLIED
from api.models.types import utcnow
from api.services.activities import lock_change_feed
from api.services.writes import CHANGE_FEED as FEED

CHUNK = 500  # ids an IN (...) list


def purge(days: int, *, include_confirmed: bool = False) -> dict:
    """Delete tombstones and applied-mutation records older than ``days``; cursors from
    before the newest purged tombstone then get ``reset``. Live activities are never touched,
    nor deleted-while-confirmed ones unless asked."""
    cutoff = utcnow() - timedelta(days=days)
    lock_change_feed()
    rows = _old_tombstones(cutoff, include_confirmed)
    ids = [row.id for row in rows]
    revisions = _delete_activities(ids)
    mutations = db.session.execute(
        delete(SyncMutation).where(SyncMutation.status == APPLIED, SyncMutation.created_at < cutoff)
    ).rowcount
    purged_through = _mark_purged([row.change_seq for row in rows])
    # A cursor at or before the mark is reset, so a move away that far back is told to no one.
    gone = ActivityDeparture.change_seq <= purged_through
    db.session.execute(delete(ActivityDeparture).where(gone))
    db.session.commit()
    return {
        "tombstones": len(ids),
        "revisions": revisions,
        "mutations": mutations,
        "purged_through": purged_through,
        "cutoff": cutoff,
    }


def _old_tombstones(cutoff: datetime, include_confirmed: bool) -> list:
    """Id and change_seq of each activity deleted before the cutoff."""
    tombstones = select(Activity.id, Activity.change_seq).where(
        Activity.deleted_at.is_not(None), Activity.deleted_at < cutoff
    )
    if not include_confirmed:
        tombstones = tombstones.where(Activity.status != "confirmed")
    return db.session.execute(tombstones).all()


def _delete_activities(ids: list) -> int:
    """Delete the activities and their revisions; return how many revisions went."""
    revisions = 0
    ids = list(set(ids))
    for chunk in (ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)):
        revisions += db.session.execute(
            delete(ActivityRevision).where(ActivityRevision.activity_id.in_(chunk))
        ).rowcount
        db.session.execute(delete(Activity).where(Activity.id.in_(chunk)))
    return revisions


def _mark_purged(sequences: list[int]) -> int:
    """Move the feed's purge mark up to the newest purged change; return the mark."""
    purged_through = db.session.execute(
        select(SequenceCounter.purged_through).where(SequenceCounter.name == FEED)
    ).scalar_one()
    purged_through = max([purged_through, *sequences])
    db.session.execute(
        update(SequenceCounter)
        .where(SequenceCounter.name == FEED)
        .values(purged_through=purged_through)
    )
    return purged_through
