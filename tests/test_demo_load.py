"""The demo loader's large-load path: indexes dropped for the load come back intact."""

import pytest
from sqlalchemy import func, select, text

from api.extensions import db
from api.models import Activity, ActivityRevision
from api.services import demo

INDEX_QUERY = text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
    "AND tbl_name IN ('activity', 'activity_revision') ORDER BY name"
)


@pytest.mark.sqlite_only
def test_large_demo_load_rebuilds_every_index(app, monkeypatch):
    before = db.session.execute(INDEX_QUERY).all()
    db.session.rollback()
    monkeypatch.setattr(demo, "LARGE_LOAD", 1)

    demo.load_demo(600)

    assert db.session.execute(INDEX_QUERY).all() == before
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 600
    revisions = db.session.scalar(select(func.count()).select_from(ActivityRevision))
    assert revisions >= 600
    assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_demo_load_ids_are_unique_across_loads(app):
    demo.load_demo(300)
    demo.load_demo(300)

    ids = db.session.scalars(select(Activity.id)).all()
    assert len(ids) == len(set(ids)) == 600
