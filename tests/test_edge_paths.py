"""Paths the rest of the suite never took: suppression's size limits and its give-up, push
items that only the schemas can word, and edits or deletes that reach a rule late."""

import uuid
from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy import create_engine, select

from api import create_app
from api.database import fold_wal
from api.extensions import db
from api.models import Activity, ActivityRevision, ActivityRollup
from api.models.types import UTCDateTime
from api.services import rollup, suppression
from api.services.suppression import TableTooLarge, suppress
from tests.conftest import BASE_CONFIG
from tests.factories import app_context, auth, count, make_school, make_user, post_activity, stored
from tests.test_sync_support import push, remove, upsert

MIX = "/api/v1/reports/activity-mix"


# --- suppression: limits and the last resort ---------------------------------------------


def test_suppress_grid_over_the_limit_raises_table_too_large():
    side = int(suppression.GRID_LIMIT**0.5) + 1
    table = {(n, n): 3 for n in range(side)}  # few cells, but a grid of side * side
    with pytest.raises(
        TableTooLarge,
        match=f"^A suppressed table may have at most {suppression.GRID_LIMIT} cells.$",
    ):
        suppress(table, 10)


def test_suppress_grid_of_exactly_the_limit_is_suppressed(monkeypatch):
    monkeypatch.setattr(suppression, "GRID_LIMIT", 4)
    table = {(0, 0): 3, (0, 1): 20, (1, 0): 15, (1, 1): 25}
    assert suppress(table, 10).hidden == set(table)


def test_suppress_three_dimensions_past_elimination_size_hides_the_whole_grid():
    sizes = (15, 15, 14)  # 3,150 grid cells: more than exact elimination is run on
    assert sizes[0] * sizes[1] * sizes[2] > suppression.ELIMINATION_CELLS
    table = {key: 20 for key in product(*(range(n) for n in sizes)) if sum(key) % 7 == 0}
    table[(1, 2, 3)] = 2
    result = suppress(table, 10)
    assert result.hidden == set(product(*(range(n) for n in sizes)))


def test_suppress_three_dimensions_giving_up_hides_every_cell(monkeypatch):
    monkeypatch.setattr(suppression, "ELIMINATION_ROUNDS", 0)
    table = {key: 12 for key in product(range(2), range(2), range(2))}
    table[(0, 0, 0)] = 1
    result = suppress(table, 10)
    assert result.hidden == set(product(range(2), range(2), range(2)))


def test_public_report_too_many_groups_returns_422_naming_group_by(client, monkeypatch):
    school = make_school()
    officer = make_user("officer", [school])
    manager = make_user("program_manager")
    for category in ("education", "mediation"):
        post_activity(client, officer, school, category=category)
    monkeypatch.setattr(suppression, "GRID_LIMIT", 1)
    query = {"public": "true", "group_by": "school,category"}
    response = client.get(MIX, query_string=query, headers=auth(manager))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "group_by" in response.json["error"]["details"]


# --- push items only the schemas can word ------------------------------------------------


def _officer():
    school = make_school()
    return school, make_user("officer", [school])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_version": 0}, "base_version"),
        ({"mutation_id": "not-a-uuid"}, "mutation_id"),
        ({"activity_id": "also-not-a-uuid"}, "activity_id"),
        ({"data": [1, 2]}, "data"),
        ({"data": {"duration_minutes": "45"}}, "data.duration_minutes"),
    ],
    ids=["base_zero", "mutation_id", "activity_id", "data_list", "data_text_number"],
)
def test_push_item_the_schemas_refuse_is_rejected_naming_the_field(client, change, field):
    school, officer = _officer()
    good = upsert(school)
    item = upsert(school) | change
    if field == "data.duration_minutes":
        item["data"] = upsert(school)["data"] | change["data"]
    response = push(client, officer, [item, good])
    assert response.status_code == 200
    bad, fine = response.json["results"]
    assert bad["status"] == "rejected"
    assert bad["error"]["code"] == "validation_error"
    assert any(key.startswith(field) for key in bad["error"]["details"]), bad
    expected_id = change.get("mutation_id", item["mutation_id"])
    assert bad["mutation_id"] == (None if expected_id == "not-a-uuid" else expected_id)
    assert fine["status"] == "applied"
    assert count(Activity) == 1


def test_push_delete_with_client_time_records_it_in_utc(client):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created])
    deletion = remove(created["activity_id"], base=1) | {"client_time": "2026-01-05T09:30:00-07:00"}
    (result,) = push(client, officer, [deletion]).json["results"]
    assert result["status"] == "applied"
    with app_context():
        revision = db.session.scalar(
            select(ActivityRevision).where(ActivityRevision.action == "delete")
        )
        assert revision.client_time == datetime(2026, 1, 5, 16, 30, tzinfo=UTC)


def test_push_edit_of_deleted_activity_at_its_current_version_is_rejected(client):
    """The base is the tombstone's own version, so not stale: the edit rule still refuses
    to bring a deleted activity back."""
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created, remove(created["activity_id"], base=1)])
    edit = upsert(activity_id=created["activity_id"], base=2, data={"duration_minutes": 9})
    (result,) = push(client, officer, [edit]).json["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "activity_deleted"
    kept = stored(Activity, uuid.UUID(created["activity_id"]))
    assert kept.deleted_at is not None and kept.duration_minutes == 45 and kept.version == 2


# --- who may delete --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["school_leader", "program_manager"])
def test_delete_activity_by_reviewing_role_returns_403_and_keeps_it(client, role):
    school = make_school()
    officer = make_user("officer", [school])
    reviewer = make_user(role, [school] if role == "school_leader" else [])
    created = post_activity(client, officer, school)
    response = client.delete(f"/api/v1/activities/{created['id']}", headers=auth(reviewer))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert stored(Activity, uuid.UUID(created["id"])).deleted_at is None


# --- rollup, audit text, timestamps and the engine set-up ---------------------------------


def test_edit_outside_report_dimensions_leaves_rollup_as_rebuilt(client):
    school, officer = _officer()
    created = post_activity(client, officer, school)
    with app_context():
        before = _rollup_rows()
    response = client.patch(
        f"/api/v1/activities/{created['id']}",
        json={"summary": "Talked about group chats."},
        headers=auth(officer),
    )
    assert response.status_code == 200 and response.json["version"] == 2
    with app_context():
        after = _rollup_rows()
        rollup.rebuild()
        db.session.flush()
        rebuilt = _rollup_rows()
        db.session.rollback()
    assert after == before == rebuilt


def _rollup_rows() -> list[tuple]:
    rows = db.session.scalars(select(ActivityRollup)).all()
    return sorted((r.grain, r.period, r.category, r.status, r.count, r.minutes) for r in rows)


def test_naive_datetime_is_never_stored():
    from sqlalchemy.dialects import sqlite

    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2026, 1, 5, 9, 0), sqlite.dialect())


def test_in_memory_sqlite_gets_foreign_keys_but_keeps_its_own_checkpoints():
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        db.engine.dispose()


def test_fold_wal_without_a_wal_file_does_nothing(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        assert fold_wal(engine, str(tmp_path / "missing-wal"), 1) is None
    finally:
        engine.dispose()


def test_push_delete_with_null_client_time_is_applied_without_one(client):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created])
    deletion = remove(created["activity_id"], base=1) | {"client_time": None}
    (result,) = push(client, officer, [deletion]).json["results"]
    assert result["status"] == "applied"
    with app_context():
        revision = db.session.scalar(
            select(ActivityRevision).where(ActivityRevision.action == "delete")
        )
        assert revision.client_time is None


def test_suppress_two_dimensions_all_small_without_total_hides_everything():
    table = {(row, column): 1 for row in range(2) for column in range(2)}
    result = suppress(table, 10)
    assert result.hidden == set(table)
    assert result.total_published is False
