"""Rules that a one-line change once broke without any test noticing, each defended here:
sync deletes from an out-of-date copy, an admin changing an email, the default suppression
threshold, constraint errors from a race, hidden empty report cells, rollup rows of a bulk
push, the unassigned-school check on the bulk path, and reused mutation ids."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from api.extensions import db
from api.models import Activity, ActivityRevision, AuditEvent, SyncMutation, User
from api.models.rollup import GRAIN_DAY, GRAIN_MONTH, GRAIN_MONTH_ALL, ActivityRollup
from api.services import rollup
from tests.factories import (
    PASSWORD,
    app_context,
    auth,
    count,
    make_school,
    make_user,
    post_activity,
    stored,
)
from tests.test_sync_support import push, remove, upsert

MIX = "/api/v1/reports/activity-mix"


def _officer():
    school = make_school()
    return school, make_user("officer", [school])


def _footprint() -> tuple[int, ...]:
    """Rows a write leaves behind; an equal footprint means nothing was written."""
    return tuple(count(m) for m in (Activity, ActivityRevision, AuditEvent, SyncMutation))


# --- a sync delete from an out-of-date copy ----------------------------------------------


@pytest.mark.parametrize("edits", [1, 2])
def test_push_delete_with_stale_base_is_a_conflict_and_keeps_the_record(client, edits):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created])
    for n in range(edits):  # another device edits it meanwhile
        change = upsert(
            activity_id=created["activity_id"], base=1 + n, data={"duration_minutes": 10 + n}
        )
        assert push(client, officer, [change]).json["results"][0]["status"] == "applied"
    before = _footprint()

    (result,) = push(client, officer, [remove(created["activity_id"], base=1)]).json["results"]

    assert result["status"] == "conflict"
    assert result["activity"]["version"] == 1 + edits
    assert result["activity"]["duration_minutes"] == 10 + edits - 1
    kept = stored(Activity, uuid.UUID(created["activity_id"]))
    assert kept.deleted_at is None and kept.version == 1 + edits
    assert _footprint()[:3] == before[:3]  # no revision, no audit row: nothing deleted


def test_push_delete_with_current_base_is_applied(client):
    school, officer = _officer()
    created = upsert(school)
    push(client, officer, [created])
    (result,) = push(client, officer, [remove(created["activity_id"], base=1)]).json["results"]
    assert result["status"] == "applied"
    assert result["activity"] == {"id": created["activity_id"], "deleted": True, "version": 2}
    assert stored(Activity, uuid.UUID(created["activity_id"])).deleted_at is not None


# --- an admin changes a user's email ------------------------------------------------------


def test_patch_user_email_stores_it_lowercased_and_sign_in_follows(client):
    admin, officer = make_user("admin"), make_user("officer")
    old_email = officer.email
    response = client.patch(
        f"/api/v1/users/{officer.id}",
        json={"email": "Renamed.Officer@Example.ORG"},
        headers=auth(admin) | {"If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.json["email"] == "renamed.officer@example.org"
    assert response.json["version"] == 2
    saved = stored(User, officer.id)
    assert (saved.email, saved.version) == ("renamed.officer@example.org", 2)
    with app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user_update")
        ).one()
    assert event.changes["email"] == [old_email, "renamed.officer@example.org"]
    login = "/api/v1/auth/login"
    new = client.post(login, json={"email": "renamed.officer@example.org", "password": PASSWORD})
    assert new.status_code == 200
    assert client.post(login, json={"email": old_email, "password": PASSWORD}).status_code == 401


# --- the default suppression threshold is 10 ------------------------------------------------


def test_public_report_default_threshold_is_ten(client):
    """9 is hidden, a 10 stays visible (the other 10 is hidden as the complement): a
    threshold of 9 would show the 9, one of 11 would hide both 10s."""
    school, officer = _officer()
    manager = make_user("program_manager")
    for category, how_many in (("education", 10), ("counselling", 9), ("mediation", 10)):
        for _ in range(how_many):
            post_activity(client, officer, school, category=category, duration_minutes=5)
    response = client.get(MIX, query_string={"public": "true"}, headers=auth(manager))
    assert response.status_code == 200
    assert response.json["filters"]["suppress_below"] == 10
    rows = {row["category"]: row for row in response.json["rows"]}
    assert rows["counselling"]["suppressed"] is True and rows["counselling"]["count"] is None
    visible = [row for row in rows.values() if not row["suppressed"]]
    assert [(row["count"], row["minutes"]) for row in visible] == [(10, 50)]
    assert response.json["totals"]["count"] == 29


def test_public_report_hides_an_empty_grid_cell_with_its_labels(client):
    """Two schools by two categories, one combination empty: the empty cell is hidden as a
    complement and comes back as a row that names its school and category."""
    north, south = make_school(name="North"), make_school(name="South")
    officer = make_user("officer", [north, south])
    manager = make_user("program_manager")
    for school, category, how_many in ((north, "education", 12), (north, "mediation", 2)):
        for _ in range(how_many):
            post_activity(client, officer, school, category=category)
    for _ in range(15):
        post_activity(client, officer, south, category="education")
    query = {"public": "true", "group_by": "school,category"}
    response = client.get(MIX, query_string=query, headers=auth(manager))
    assert response.status_code == 200
    rows = {(row["school_name"], row["category"]): row for row in response.json["rows"]}
    assert set(rows) == {(s, c) for s in ("North", "South") for c in ("education", "mediation")}
    empty = rows[("South", "mediation")]
    assert empty["school_id"] == south.id
    assert empty["suppressed"] is True and empty["count"] is None and empty["minutes"] is None
    assert all(row["suppressed"] for row in rows.values())
    assert response.json["totals"] == {"count": 29, "minutes": 29 * 45, "suppressed": False}


# --- constraint errors: a race is a 409, anything else a 500 ----------------------------------


@pytest.fixture
def racing_app(make_app):
    """An app with one extra route that writes a row the database refuses."""
    app = make_app()
    inserts = {
        # The code is taken: what a concurrent create of the same school would hit.
        "unique": "INSERT INTO school (name, code, level, active, version, created_at, "
        "updated_at) VALUES ('Twin', :code, 'other', true, 1, :t, :t)",
        # Upper-case email breaks a CHECK constraint: a bug, not a race.
        "check": "INSERT INTO user_account (email, display_name, role, active, password_hash, "
        "token_generation, version, created_at, updated_at) VALUES "
        "('UPPER@example.org', 'X', 'officer', true, 'h', 0, 1, :t, :t)",
    }

    def refused(kind: str):
        db.session.execute(text(inserts[kind]), {"code": "TAKEN", "t": "2025-01-01"})
        db.session.commit()
        return {}

    app.add_url_rule("/race/<kind>", view_func=refused, methods=["POST"])
    return app


def test_unique_violation_in_a_request_is_a_409_conflict(racing_app):
    make_school(code="TAKEN")
    response = racing_app.test_client().post("/race/unique")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert "try again" in response.json["error"]["message"]
    assert count(User) == 0


def test_other_integrity_error_in_a_request_is_a_500(racing_app, caplog):
    response = racing_app.test_client().post("/race/check")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "UPPER" not in response.get_data(as_text=True)  # no detail of the failure leaks
    assert count(User) == 0
    assert "unhandled error" in caplog.text


# --- a bulk push: two days of one month add into one month row ----------------------------------


def test_bulk_push_two_days_of_one_month_add_into_one_month_row(client):
    school, officer = _officer()
    now = datetime.now(UTC)
    month = now.replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    if now.day < 3:  # the 1st and 2nd must both be in the past: take last month
        month = (month - timedelta(days=1)).replace(day=1)
    days = [month, month + timedelta(days=1)]
    mutations = [
        upsert(school, started_at=day.isoformat(), duration_minutes=minutes)
        for day, minutes in zip(days, (30, 45), strict=True)
    ]
    response = push(client, officer, mutations)
    assert [r["status"] for r in response.json["results"]] == ["applied", "applied"]
    with app_context():
        rows = db.session.scalars(select(ActivityRollup)).all()  # this officer's alone
        by_grain = {}
        for row in rows:
            by_grain.setdefault(row.grain, []).append((row.period, row.count, row.minutes))
        stored_rows = sorted((r.grain, r.period, r.count, r.minutes) for r in rows)
        rollup.rebuild()  # the same counts built from the activity rows
        db.session.flush()
        rebuilt = db.session.scalars(select(ActivityRollup)).all()
        rebuilt_rows = sorted((r.grain, r.period, r.count, r.minutes) for r in rebuilt)
        db.session.rollback()
    assert sorted(by_grain[GRAIN_DAY]) == [(days[0].date(), 1, 30), (days[1].date(), 1, 45)]
    assert by_grain[GRAIN_MONTH] == [(month.date(), 2, 75)]
    assert by_grain[GRAIN_MONTH_ALL] == [(month.date(), 2, 75)]
    assert stored_rows == rebuilt_rows


# --- the unassigned-school check, on the bulk path -------------------------------------------


@pytest.mark.parametrize("pattern", ["xoo", "oxo", "oox", "xox", "oxxo", "ooxoo"])
def test_bulk_push_refuses_each_create_for_an_unassigned_school(client, pattern):
    """A run of plain creates with unassigned schools (another real school, or none) at
    any position: those are rejected, the others written, and nothing for them stored."""
    school, officer = _officer()
    elsewhere = make_school()
    mutations = []
    for n, mark in enumerate(pattern):
        target = school if mark == "o" else (elsewhere if n % 2 else None)
        data = upsert(school)["data"] | {"school_id": target.id if target else 999_999}
        mutations.append(upsert(data=data))
    response = push(client, officer, mutations)
    assert response.status_code == 200
    results = response.json["results"]
    for mark, result in zip(pattern, results, strict=True):
        if mark == "o":
            assert result["status"] == "applied"
        else:
            assert result["status"] == "rejected"
            assert result["error"]["code"] == "school_not_assigned"
    with app_context():
        stored_ids = set(db.session.scalars(select(Activity.id)))
    expected = {
        uuid.UUID(m["activity_id"])
        for m, mark in zip(mutations, pattern, strict=True)
        if mark == "o"
    }
    assert stored_ids == expected
    assert count(Activity, Activity.school_id != school.id) == 0


# --- a reused mutation_id ---------------------------------------------------------------------


REUSES = {
    "other_summary": lambda original: {
        **original,
        "data": {**original["data"], "summary": "Something else entirely."},
    },
    "other_minutes": lambda original: {
        **original,
        "data": {**original["data"], "duration_minutes": 99},
    },
    "other_activity": lambda original: {**original, "activity_id": str(uuid.uuid4())},
    "now_a_delete": lambda original: {
        "mutation_id": original["mutation_id"],
        "op": "delete",
        "activity_id": original["activity_id"],
        "base_version": 1,
    },
    "now_an_edit": lambda original: {
        **original,
        "base_version": 1,
        "data": {"participant_count": 3},
    },
}


@pytest.mark.parametrize("reuse", REUSES.values(), ids=list(REUSES))
def test_push_reused_mutation_id_for_anything_else_is_rejected_and_writes_nothing(client, reuse):
    school, officer = _officer()
    original = upsert(school)
    assert push(client, officer, [original]).json["results"][0]["status"] == "applied"
    before = _footprint()
    (result,) = push(client, officer, [reuse(original)]).json["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "mutation_id_reused"
    assert _footprint() == before
    kept = stored(Activity, uuid.UUID(original["activity_id"]))
    assert (kept.version, kept.deleted_at) == (1, None)


def test_push_same_mutation_again_is_a_duplicate_with_the_first_answer(client):
    school, officer = _officer()
    original = upsert(school)
    first = push(client, officer, [original]).json["results"][0]
    before = _footprint()
    (again,) = push(client, officer, [dict(original)]).json["results"]
    assert again["status"] == "duplicate"
    assert again["activity"] == first["activity"]
    assert _footprint() == before
