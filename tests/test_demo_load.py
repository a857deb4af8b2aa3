"""The demo loader's large-load path: what it stores reads back through the ORM, the API,
the rollup and the audit chain, and it is the data the generator draws for the seed."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from api.extensions import db
from api.models import Activity, ActivityRevision, ActivityRollup, User
from api.models.rollup import GRAIN_DAY, GRAIN_MONTH_ALL
from api.services import demo
from tests.factories import count

INDEX_QUERY = text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
    "AND tbl_name IN ('activity', 'activity_revision') ORDER BY name"
)
NOW = datetime(2026, 3, 9, 14, 7, 31, tzinfo=UTC)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.sqlite_only
def test_large_demo_load_rebuilds_every_index(app, monkeypatch):
    with app.app_context():
        before = db.session.execute(INDEX_QUERY).all()
        db.session.rollback()  # the loader rebuilds indexes: no read transaction in its way
        monkeypatch.setattr(demo, "LARGE_LOAD", 1)

        demo.load_demo(600)

        assert db.session.execute(INDEX_QUERY).all() == before
        assert _count(Activity) == 600
        assert _count(ActivityRevision) >= 600
        # integrity_check also checks every row against the CHECK constraints
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


@pytest.mark.sqlite_only
def test_large_demo_load_leaves_check_constraints_enforced(app, monkeypatch):
    with app.app_context():
        monkeypatch.setattr(demo, "LARGE_LOAD", 1)
        demo.load_demo(100)

        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE activity SET duration_minutes = 0"))
        db.session.rollback()
        assert db.session.execute(text("PRAGMA ignore_check_constraints")).scalar() == 0


def test_demo_load_ids_are_unique_across_loads(app):
    with app.app_context():
        demo.load_demo(300)
        demo.load_demo(300)

        ids = db.session.scalars(select(Activity.id)).all()
        assert len(ids) == len(set(ids)) == 600
        _check_rollup_matches_activities()  # a small load adds its counts chunk by chunk


def test_large_demo_load_on_top_of_a_small_one_recounts_the_rollup(app, monkeypatch):
    with app.app_context():
        demo.load_demo(300)
        monkeypatch.setattr(demo, "LARGE_LOAD", 100)
        demo.load_demo(200)  # recounted once at the end, the first load's activities too
        assert _count(Activity) == 500
        _check_rollup_matches_activities()


def test_large_demo_load_reads_back_through_orm_api_rollup_and_audit(
    app, client, runner, monkeypatch
):
    monkeypatch.setattr(demo, "LARGE_LOAD", 1)  # SQLite: the deferred-index, driver path
    with app.app_context():
        demo.load_demo(2000)
    with app.app_context():
        first, email = _check_stored_load()
    login = client.post("/api/v1/auth/login", json={"email": email, "password": demo.DEMO_PASSWORD})
    assert login.status_code == 200
    response = client.get(
        f"/api/v1/activities/{first.id}",
        headers={"Authorization": f"Bearer {login.json['access_token']}"},
    )
    assert response.status_code == 200
    assert response.json["id"] == str(first.id)
    assert response.json["status"] == first.status
    assert response.json["summary"] == first.summary
    with app.app_context():
        _check_rollup_matches_activities()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit chain intact" in result.output


def _check_stored_load() -> tuple[Activity, str]:
    """The 2,000 loaded activities as the ORM reads them; one reviewed one and its officer."""
    activities = db.session.scalars(select(Activity).order_by(Activity.change_seq)).all()
    assert len(activities) == 2000
    # Written as the app writes: a change sequence number per write (a create, a review).
    assert len({a.change_seq for a in activities}) == 2000
    reviewed = [a for a in activities if a.status != "submitted"]
    assert 0.6 < len(reviewed) / len(activities) < 0.9
    for activity in activities[:50]:
        assert activity.started_at.tzinfo is not None
        assert activity.started_at.minute % 15 == 0
        assert activity.created_at == activity.started_at + timedelta(minutes=5)
        assert activity.audience == demo.AUDIENCE_BY_CATEGORY[activity.category]
        assert activity.version == (1 if activity.status == "submitted" else 2)
        if activity.status != "submitted":
            assert activity.reviewed_by is not None
            assert activity.updated_at == activity.reviewed_at > activity.started_at
    assert _count(ActivityRevision) == 2000 + len(reviewed)
    first = reviewed[0]
    history = db.session.scalars(
        select(ActivityRevision)
        .where(ActivityRevision.activity_id == first.id)
        .order_by(ActivityRevision.version)
    ).all()
    assert [(r.version, r.action) for r in history] == [
        (1, "create"),
        (2, "confirm" if first.status == "confirmed" else "dispute"),
    ]
    assert history[0].changes["category"] == {"from": None, "to": first.category}
    assert history[1].changes["status"] == {"from": "submitted", "to": first.status}
    assert history[1].at == first.reviewed_at

    return first, db.session.get(User, first.officer_id).email


def _check_rollup_matches_activities() -> None:
    """Every day cell of the rollup counts the activities it stands for; the months add up."""
    raw = db.session.execute(
        select(
            func.count(),
            Activity.school_id,
            Activity.officer_id,
            Activity.category,
            Activity.status,
        ).group_by(Activity.school_id, Activity.officer_id, Activity.category, Activity.status)
    ).all()
    cells = db.session.execute(
        select(
            func.sum(ActivityRollup.count),
            ActivityRollup.school_id,
            ActivityRollup.officer_id,
            ActivityRollup.category,
            ActivityRollup.status,
        )
        .where(ActivityRollup.grain == GRAIN_DAY)
        .group_by(
            ActivityRollup.school_id,
            ActivityRollup.officer_id,
            ActivityRollup.category,
            ActivityRollup.status,
        )
    ).all()
    assert sorted(map(tuple, cells)) == sorted(map(tuple, raw))
    program_wide = select(func.sum(ActivityRollup.count), func.sum(ActivityRollup.minutes))
    assert db.session.execute(
        program_wide.where(ActivityRollup.grain == GRAIN_MONTH_ALL)
    ).one() == (_count(Activity), db.session.scalar(select(func.sum(Activity.duration_minutes))))


def test_a_seed_draws_the_same_activities(app, monkeypatch):
    monkeypatch.setattr(demo, "utcnow", lambda: NOW)
    with app.app_context():
        demo.load_demo(0)  # the people
        officers = db.session.scalars(
            select(User).where(User.role == "officer").order_by(User.id)
        ).all()
        assignments = {o.id: o.school_ids for o in officers}

        def drawn(seed: int) -> list[tuple]:
            draw = demo._Draw(seed, officers, assignments)
            return [(c.action, c.after) for chunk in draw.chunks(300) for c in chunk]

        first = drawn(7)
        assert drawn(7) == first
        assert drawn(8) != first
        assert {action for action, _ in first} == {"create", "confirm", "dispute"}


def test_demo_data_after_the_first_admin_was_made_with_a_demo_email(runner):
    """docs/deployment.md makes the first admin admin@example.org: the demo keeps that account
    (its password too) and loads the rest."""
    _create_user(runner, "admin@example.org", "admin")
    loaded = runner.invoke(args=["demo-data", "--activities", "10"])
    assert loaded.exit_code == 0, repr(loaded.exception)
    assert "Kept existing accounts, passwords unchanged: admin@example.org." in loaded.output
    assert count(Activity) == 10


def test_demo_data_again_after_an_officer_without_schools_joined_the_demo_domain(runner):
    assert runner.invoke(args=["demo-data", "--activities", "10"]).exit_code == 0
    _create_user(runner, "new.officer@example.org", "officer")
    again = runner.invoke(args=["demo-data", "--activities", "10"])
    assert again.exit_code == 0, repr(again.exception)
    assert count(Activity) == 20


def test_demo_data_whose_officers_serve_no_school_says_why(runner, app):
    assert runner.invoke(args=["demo-data", "--activities", "0"]).exit_code == 0
    with app.app_context():
        for officer in db.session.scalars(select(User).where(User.role == "officer")):
            officer.schools = []
        db.session.commit()
    again = runner.invoke(args=["demo-data", "--activities", "10"])
    assert again.exit_code == 1
    assert "serve no school" in again.output


def _create_user(runner, email: str, role: str) -> None:
    args = ["users", "create", "--email", email, "--role", role]
    made = runner.invoke(args=[*args, "--password", "a-long-enough-passphrase"])
    assert made.exit_code == 0, made.output
