"""Reports: the activity mix and review health, checked against the raw activity rows."""

import csv
import io
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from api.extensions import db
from api.models import Activity, ActivityRollup, AuditEvent, School, User
from api.models.activity import CATEGORIES, OUTCOMES, REFERRALS
from api.services import activities, demo, rollup
from tests.factories import app_context, auth, make_school, make_user, post_activity

MIX = "/api/v1/reports/activity-mix"
CONFIRMATION = "/api/v1/reports/confirmation"
MOUNTAIN = timezone(timedelta(hours=-6))
PROGRAM = ZoneInfo("America/Edmonton")  # PROGRAM_TIMEZONE's default: calendar dates are here


# --- an independent computation over the raw rows ----------------------------------------


def _group_values(activity: Activity, key: str) -> dict:
    day = activity.started_at.astimezone(PROGRAM)
    if key == "school":
        school = db.session.get(School, activity.school_id)
        return {"school_id": school.id, "school_name": school.name}
    if key == "school_level":
        return {"school_level": db.session.get(School, activity.school_id).level}
    if key == "officer":
        officer = db.session.get(User, activity.officer_id)
        return {"officer_id": officer.id, "officer_name": officer.display_name}
    if key == "month":
        return {"month": f"{day.year:04d}-{day.month:02d}"}
    return {key: getattr(activity, key)}


def expected_mix(group_by, first=None, last=None, status=None, school_id=None) -> dict:
    with app_context():
        return _expected_mix(group_by, first, last, status, school_id)


def _expected_mix(group_by, first, last, status, school_id) -> dict:
    groups = defaultdict(lambda: [0, 0])
    for activity in db.session.scalars(select(Activity).where(Activity.deleted_at.is_(None))):
        day = activity.started_at.astimezone(PROGRAM).date()
        if (first and day < first) or (last and day > last):
            continue
        if (status and activity.status != status) or (
            school_id and activity.school_id != school_id
        ):
            continue
        values = {}
        for key in group_by:
            values |= _group_values(activity, key)
        cell = groups[tuple(sorted(values.items()))]
        cell[0] += 1
        cell[1] += activity.duration_minutes
    return {key: tuple(value) for key, value in groups.items()}


def reported_mix(client, headers, group_by, first=None, last=None, **params) -> dict:
    query = {"group_by": ",".join(group_by), **params}
    if first:
        query["from"] = first.isoformat()
    if last:
        query["to"] = last.isoformat()
    response = client.get(MIX, query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    measures = {"count", "minutes", "share_of_count", "share_of_minutes", "suppressed"}
    cells = {}
    for row in body["rows"]:
        key = tuple(sorted((k, v) for k, v in row.items() if k not in measures))
        cells[key] = (row["count"], row["minutes"])
    assert body["totals"]["count"] == sum(c for c, _ in cells.values())
    assert body["totals"]["minutes"] == sum(m for _, m in cells.values())
    return cells


def rollup_rows() -> dict:
    with app_context():
        rows = db.session.scalars(select(ActivityRollup).where(ActivityRollup.count != 0)).all()
    return {
        (
            r.grain,
            r.period,
            r.school_id,
            r.officer_id,
            r.category,
            r.outcome,
            r.referral_to,
            r.status,
        ): (r.count, r.minutes)
        for r in rows
    }


def assert_rollup_matches_raw() -> None:
    """The rollup kept up write by write equals one rebuilt from the rows (then rolled back)."""
    with app_context():
        incremental = rollup_rows()
        rollup.rebuild()
        db.session.flush()
        assert incremental == rollup_rows()
        db.session.rollback()


# --- a random history of writes through the API ------------------------------------------


@pytest.fixture
def world(client):
    schools = [make_school(level=level) for level in ("elementary", "junior_high", "k_to_12")]
    officers = [make_user("officer", schools[:2]), make_user("officer", schools[1:])]
    leader = make_user("school_leader", schools)
    manager = make_user("program_manager")
    admin = make_user("admin")
    return {
        "schools": schools,
        "officers": officers,
        "leader": leader,
        "manager": manager,
        "admin": admin,
        "headers": {user.id: auth(user) for user in (*officers, leader, manager, admin)},
    }


def random_content(rng: random.Random, schools) -> dict:
    category = rng.choice(list(CATEGORIES))
    now = datetime.now(MOUNTAIN).replace(microsecond=0)
    started = now - timedelta(days=rng.randrange(0, 80), minutes=rng.randrange(0, 24 * 60))
    return {
        "school_id": rng.choice(schools).id,
        "category": category,
        "started_at": started.isoformat(),
        "duration_minutes": rng.randrange(1, 200),
        "referral_to": rng.choice(REFERRALS) if category == "community_referral" else None,
        "outcome": rng.choice([None, *OUTCOMES]),
    }


def random_history(client, world, rng: random.Random, count: int) -> list[dict]:
    headers = world["headers"]
    created = []
    for _ in range(count):
        officer = rng.choice(world["officers"])
        content = random_content(rng, officer.schools)
        school_id = content.pop("school_id")
        school = next(s for s in officer.schools if s.id == school_id)
        created.append((officer, post_activity(client, officer, school, **content)))
    for officer, activity in rng.sample(created, count // 2):
        url = f"/api/v1/activities/{activity['id']}"
        roll = rng.random()
        if roll < 0.4:
            response = client.post(url + "/confirm", json={}, headers=headers[world["leader"].id])
        elif roll < 0.55:
            response = client.post(
                url + "/dispute",
                json={"reason": "Not at our school."},
                headers=headers[world["leader"].id],
            )
        elif roll < 0.8:
            body = random_content(rng, officer.schools)
            response = client.patch(url, json=body, headers=headers[officer.id])
        else:
            response = client.delete(url, headers=headers[world["admin"].id])
        assert response.status_code in (200, 204), response.json
    return created


GROUPINGS = (
    ["category"],
    ["school", "category"],
    ["school_level"],
    ["officer", "month"],
    ["outcome"],
    ["referral_to", "month"],
    ["category", "month", "outcome"],
)


@pytest.mark.parametrize("seed", [1, 2])
def test_activity_mix_after_random_writes_matches_raw_rows(client, world, seed):
    rng = random.Random(seed)
    headers = world["headers"][world["manager"].id]
    random_history(client, world, rng, 24)
    # Edit some reviewed ones too: they go back to submitted and move cells.
    officers = {officer.id: officer for officer in world["officers"]}
    with app_context():
        stored = list(db.session.scalars(select(Activity)))
    for activity in rng.sample(stored, 6):
        if activity.deleted_at is None:
            body = random_content(rng, officers[activity.officer_id].schools)
            officer_headers = world["headers"][activity.officer_id]
            response = client.patch(
                f"/api/v1/activities/{activity.id}", json=body, headers=officer_headers
            )
            assert response.status_code == 200
    today = datetime.now(PROGRAM).date()
    ranges = [
        (None, None),
        (today - timedelta(days=45), today),
        (today - timedelta(days=70), today - timedelta(days=20)),
        (today.replace(day=1), None),
        (None, today.replace(day=1) - timedelta(days=1)),
    ]
    for group_by in GROUPINGS:
        for first, last in ranges:
            assert reported_mix(client, headers, group_by, first, last) == expected_mix(
                group_by, first, last
            ), (group_by, first, last)
    for status in ("submitted", "confirmed", "disputed"):
        assert reported_mix(client, headers, ["category"], status=status) == expected_mix(
            ["category"], status=status
        )
    school_id = world["schools"][1].id
    assert reported_mix(client, headers, ["month"], school_id=school_id) == expected_mix(
        ["month"], school_id=school_id
    )
    assert_rollup_matches_raw()


def test_rollup_after_each_kind_of_write_matches_rebuild(client, world):
    rng = random.Random(7)
    officer, leader, admin = world["officers"][0], world["leader"], world["admin"]
    school = world["schools"][0]
    headers = world["headers"]
    first = post_activity(client, officer, school, category="mediation", outcome="charge_laid")
    url = f"/api/v1/activities/{first['id']}"
    assert_rollup_matches_raw()
    steps = [
        lambda: client.patch(url, json=random_content(rng, [school]), headers=headers[officer.id]),
        lambda: client.post(url + "/confirm", json={}, headers=headers[leader.id]),
        lambda: client.patch(url, json={"duration_minutes": 5}, headers=headers[officer.id]),
        lambda: client.post(url + "/dispute", json={"reason": "No."}, headers=headers[leader.id]),
        lambda: client.delete(url, headers=headers[admin.id]),
    ]
    for step in steps:
        assert step().status_code in (200, 204)
        assert_rollup_matches_raw()
    assert rollup_rows() == {}


def test_rollup_change_to_expired_activity_moves_its_count(app, client, world):
    officer, school = world["officers"][0], world["schools"][0]
    created = post_activity(client, officer, school, category="education")
    with app.app_context():
        activity = db.session.get(Activity, uuid.UUID(created["id"]))
        author = db.session.get(User, officer.id)
        db.session.commit()  # expires it: the write reads it afresh
        activities.edit(activity, author, {"category": "mediation"})
        db.session.commit()
    assert_rollup_matches_raw()
    headers = world["headers"][world["manager"].id]
    response = client.get(MIX, headers=headers)
    assert [(r["category"], r["count"]) for r in response.json["rows"]] == [("mediation", 1)]


def test_activity_mix_day_bucket_is_program_date(client, world):
    officer, school = world["officers"][0], world["schools"][0]
    # 23:30 in Alberta on 30 September is 05:30 UTC on 1 October: a September activity.
    post_activity(client, officer, school, started_at="2026-09-30T23:30:00-06:00")
    headers = world["headers"][world["manager"].id]
    response = client.get(MIX, query_string={"group_by": "month"}, headers=headers)
    assert response.status_code == 200
    assert [(r["month"], r["count"]) for r in response.json["rows"]] == [("2026-09", 1)]
    september = client.get(
        MIX, query_string={"from": "2026-09-30", "to": "2026-09-30"}, headers=headers
    )
    assert september.status_code == 200
    assert september.json["totals"] == {"count": 1, "minutes": 45}
    october_first = client.get(
        MIX, query_string={"from": "2026-10-01", "to": "2026-10-01"}, headers=headers
    )
    assert october_first.json["totals"]["count"] == 0


def test_activity_mix_default_shape_has_shares_totals_and_filters(client, world):
    officer, school = world["officers"][0], world["schools"][0]
    post_activity(client, officer, school, category="education", duration_minutes=30)
    post_activity(client, officer, school, category="education", duration_minutes=30)
    post_activity(client, officer, school, category="mediation", duration_minutes=60)
    response = client.get(MIX, headers=world["headers"][world["manager"].id])
    assert response.status_code == 200
    assert response.json["rows"] == [
        {
            "category": "education",
            "count": 2,
            "minutes": 60,
            "share_of_count": pytest.approx(2 / 3, abs=1e-6),
            "share_of_minutes": 0.5,
        },
        {
            "category": "mediation",
            "count": 1,
            "minutes": 60,
            "share_of_count": pytest.approx(1 / 3, abs=1e-6),
            "share_of_minutes": 0.5,
        },
    ]
    assert response.json["totals"] == {"count": 3, "minutes": 120}
    assert response.json["filters"] == {
        "from": None,
        "to": None,
        "group_by": ["category"],
        "status": None,
        "school_id": None,
        "public": False,
        "suppress_below": None,
    }


def test_activity_mix_outcomes_give_charge_to_alternative_measures_ratio(client, world):
    officer, school = world["officers"][0], world["schools"][0]
    for outcome in ["charge_laid"] + ["alternative_measures"] * 3 + [None]:
        post_activity(client, officer, school, category="counselling", outcome=outcome)
    post_activity(
        client,
        officer,
        school,
        category="community_referral",
        referral_to="housing",
        outcome="referral_made",
    )
    headers = world["headers"][world["manager"].id]
    outcomes = client.get(MIX, query_string={"group_by": "outcome"}, headers=headers)
    assert outcomes.status_code == 200
    counts = {row["outcome"]: row["count"] for row in outcomes.json["rows"]}
    assert counts == {"alternative_measures": 3, "charge_laid": 1, "referral_made": 1, None: 1}
    referrals = client.get(MIX, query_string={"group_by": "referral_to"}, headers=headers)
    assert {row["referral_to"]: row["count"] for row in referrals.json["rows"]} == {
        "housing": 1,
        None: 5,
    }


# --- CSV -----------------------------------------------------------------------------------


def test_activity_mix_csv_round_trips_through_dictreader(client, world):
    rng = random.Random(3)
    random_history(client, world, rng, 10)
    headers = world["headers"][world["manager"].id]
    query = {"group_by": "school,category", "status": "confirmed"}
    as_json = client.get(MIX, query_string=query, headers=headers)
    as_csv = client.get(MIX, query_string=query, headers=headers | {"Accept": "text/csv"})
    assert as_csv.status_code == 200
    assert as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert len(rows) == len(as_json.json["rows"])
    for row, expected in zip(rows, as_json.json["rows"], strict=True):
        assert row["school_id"] == str(expected["school_id"])
        assert row["school_name"] == expected["school_name"]
        assert row["category"] == expected["category"]
        assert int(row["count"]) == expected["count"]
        assert int(row["minutes"]) == expected["minutes"]
        assert float(row["share_of_count"]) == pytest.approx(expected["share_of_count"])
        assert row["filter_group_by"] == "school,category"
        assert row["filter_status"] == "confirmed"
        assert int(row["total_count"]) == as_json.json["totals"]["count"]


def test_activity_mix_format_csv_neutralises_formulas_in_names(client):
    school = make_school(name='=HYPERLINK("http://x","y")')
    officer = make_user("officer", [school], display_name="@SUM(1+1)")
    manager = make_user("program_manager")
    post_activity(client, officer, school)
    response = client.get(
        MIX, query_string={"group_by": "school,officer", "format": "csv"}, headers=auth(manager)
    )
    assert response.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["school_name"] == '\'=HYPERLINK("http://x","y")'
    assert row["officer_name"] == "'@SUM(1+1)"
    assert row["count"] == "1"


def test_activity_mix_format_json_wins_over_csv_accept(client, world):
    headers = world["headers"][world["manager"].id] | {"Accept": "text/csv"}
    response = client.get(MIX, query_string={"format": "json"}, headers=headers)
    assert response.status_code == 200
    assert response.json["rows"] == []


# --- suppression through the API -----------------------------------------------------------


def test_activity_mix_public_suppresses_small_cells_and_complements(make_app):
    app = make_app(SUPPRESS_BELOW=3)
    client = app.test_client()
    school = make_school()
    officer = make_user("officer", [school])
    manager = make_user("program_manager")
    for category, count in (("education", 5), ("counselling", 1), ("mediation", 4)):
        for _ in range(count):
            post_activity(client, officer, school, category=category, duration_minutes=10)
    response = client.get(MIX, query_string={"public": "true"}, headers=auth(manager))
    assert response.status_code == 200
    rows = {row["category"]: row for row in response.json["rows"]}
    assert rows["counselling"] == {
        "category": "counselling",
        "count": None,
        "minutes": None,
        "share_of_count": None,
        "share_of_minutes": None,
        "suppressed": True,
    }
    # The next smallest is hidden too, or 10 - 5 would give the hidden count away.
    assert rows["mediation"]["suppressed"] is True
    assert rows["mediation"]["count"] is None
    assert rows["education"]["count"] == 5
    assert rows["education"]["suppressed"] is False
    assert response.json["totals"] == {"count": 10, "minutes": 100, "suppressed": False}
    assert response.json["filters"]["suppress_below"] == 3


def test_activity_mix_two_small_schools_of_one_activity_are_not_given_away(client):
    """Two schools with one education activity each, beside a large one: each small school
    is listed, so its one hidden row is at least 1, and the education column and the total
    say the two add up to 2. Suppression hides more, until they could be other than 1."""
    large, small_1, small_2 = (make_school() for _ in range(3))
    officer = make_user("officer", [large, small_1, small_2])
    for _ in range(3):
        post_activity(client, officer, large, category="education")
        post_activity(client, officer, large, category="counselling")
    post_activity(client, officer, small_1, category="education")
    post_activity(client, officer, small_2, category="education")
    query = {"group_by": "school,category", "suppress_below": 3}
    body = client.get(MIX, query_string=query, headers=auth(make_user("admin"))).json
    hidden = [r for r in body["rows"] if r["suppressed"]]
    visible = [r for r in body["rows"] if not r["suppressed"]]
    listed = [r["school_id"] for r in body["rows"]]
    surely_counted = [r for r in hidden if listed.count(r["school_id"]) == 1]
    hidden_sum = body["totals"]["count"] - sum(r["count"] for r in visible)
    assert len(hidden) > 2
    assert not (len(surely_counted) == len(hidden) and hidden_sum == len(hidden))


def test_activity_mix_suppress_below_hides_grid_cells_in_two_dimensions(client, world):
    officer, schools = world["officers"][1], world["schools"][1:]
    plan = {(0, "education"): 12, (0, "mediation"): 2, (1, "education"): 15, (1, "mediation"): 11}
    for (index, category), count in plan.items():
        for _ in range(count):
            post_activity(client, officer, schools[index], category=category)
    headers = world["headers"][world["manager"].id]
    response = client.get(
        MIX, query_string={"group_by": "school,category", "suppress_below": 10}, headers=headers
    )
    assert response.status_code == 200
    hidden = {(r["school_id"], r["category"]) for r in response.json["rows"] if r["suppressed"]}
    # Row, column and grand margins would each recompute a lone hidden cell: all four go.
    assert hidden == {(s.id, c) for s in schools for c in ("education", "mediation")}
    assert all(r["count"] is None for r in response.json["rows"])
    assert response.json["totals"]["count"] == 40


def test_activity_mix_without_public_returns_raw_small_counts(client, world):
    officer, school = world["officers"][0], world["schools"][0]
    post_activity(client, officer, school)
    response = client.get(MIX, headers=world["headers"][world["manager"].id])
    assert response.status_code == 200
    assert response.json["rows"][0]["count"] == 1
    assert "suppressed" not in response.json["rows"][0]


# --- access and validation -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "school_leader"])
@pytest.mark.parametrize("path", [MIX, CONFIRMATION])
def test_reports_officer_or_leader_is_forbidden(client, role, path):
    user = make_user(role, [make_school()])
    response = client.get(path, headers=auth(user))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize("path", [MIX, CONFIRMATION])
def test_reports_without_token_is_unauthorized(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("role", ["program_manager", "admin"])
def test_reports_manager_or_admin_may_read(client, role):
    response = client.get(CONFIRMATION, headers=auth(make_user(role)))
    assert response.status_code == 200
    assert response.json["rows"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"group_by": "category,shoe_size"}, "group_by"),
        ({"group_by": "month,month"}, "group_by"),
        ({"group_by": ""}, "group_by"),
        ({"from": "2026-09-10", "to": "2026-09-01"}, "to"),
        ({"from": "2010-01-01", "to": "2026-01-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"to": "1999-12-31"}, "to"),
        ({"status": "deleted"}, "status"),
        ({"suppress_below": "0"}, "suppress_below"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_activity_mix_bad_query_returns_422(client, query, field):
    response = client.get(MIX, query_string=query, headers=auth(make_user("program_manager")))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["details"]


def test_confirmation_inverted_dates_returns_422(client):
    query = {"from": "2026-02-01", "to": "2026-01-01"}
    response = client.get(CONFIRMATION, query_string=query, headers=auth(make_user("admin")))
    assert response.status_code == 422
    assert "to" in response.json["error"]["details"]


def test_reports_export_writes_audit_event_with_filters(client, world):
    manager = world["manager"]
    query = {"group_by": "category,month", "status": "confirmed", "format": "csv"}
    assert (
        client.get(MIX, query_string=query, headers=world["headers"][manager.id]).status_code == 200
    )
    assert client.get(CONFIRMATION, headers=world["headers"][manager.id]).status_code == 200
    with app_context():
        query = select(AuditEvent).where(AuditEvent.action == "report_export")
        events = list(db.session.scalars(query.order_by(AuditEvent.seq)))
    assert [e.target_id for e in events] == ["activity-mix", "confirmation"]
    assert events[0].actor_id == manager.id
    assert events[0].changes["format"] == "csv"
    assert events[0].changes["filters"]["group_by"] == ["category", "month"]
    assert events[0].changes["filters"]["status"] == "confirmed"


def test_reports_are_described_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    mix = spec["paths"][MIX]["get"]
    names = {p["name"] for p in mix["parameters"]}
    assert {"from", "to", "group_by", "status", "school_id", "public", "suppress_below"} <= names
    assert set(mix["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    confirmation = spec["paths"][CONFIRMATION]["get"]["responses"]["200"]
    assert confirmation["content"]["application/json"]["schema"]["$ref"].endswith("Confirmation")
    assert (
        "median_hours_to_review" in spec["components"]["schemas"]["ConfirmationRow"]["properties"]
    )


# --- review health -------------------------------------------------------------------------


def _set_times(activity_id: str, logged: datetime, reviewed: datetime | None = None) -> None:
    """As if logged (and so submitted) at ``logged``, and reviewed at ``reviewed``."""
    values = {"created_at": logged, "submitted_at": logged}
    if reviewed is not None:
        values["reviewed_at"] = reviewed
    with app_context():
        query = update(Activity).where(Activity.id == uuid.UUID(activity_id))
        db.session.execute(query.values(values))
        db.session.commit()


def test_confirmation_counts_overdue_and_median_hours(client, world):
    officer, leader = world["officers"][0], world["leader"]
    school, other = world["schools"][0], world["schools"][1]
    headers = world["headers"]
    now = datetime.now(UTC).replace(microsecond=0)
    made = [post_activity(client, officer, school) for _ in range(6)]
    for activity, hours in zip(made[:3], (2, 10, 30), strict=True):
        url = f"/api/v1/activities/{activity['id']}/confirm"
        assert client.post(url, json={}, headers=headers[leader.id]).status_code == 200
        _set_times(activity["id"], now - timedelta(days=3), now - timedelta(days=3, hours=-hours))
    url = f"/api/v1/activities/{made[3]['id']}/dispute"
    body = {"reason": "Not here."}
    assert client.post(url, json=body, headers=headers[leader.id]).status_code == 200
    _set_times(made[3]["id"], now - timedelta(days=2), now - timedelta(days=2, hours=-4))
    _set_times(made[4]["id"], now - timedelta(days=8))  # overdue with the default 7 days
    post_activity(client, officer, other)
    response = client.get(CONFIRMATION, headers=headers[world["manager"].id])
    assert response.status_code == 200
    rows = {row["school_id"]: row for row in response.json["rows"]}
    assert rows[school.id] == {
        "school_id": school.id,
        "school_name": school.name,
        "school_level": school.level,
        "total": 6,
        "submitted": 2,
        "confirmed": 3,
        "disputed": 1,
        "overdue": 1,
        "confirmation_rate": 0.5,
        "median_hours_to_review": 7.0,  # of 2, 4, 10, 30
    }
    assert rows[other.id]["submitted"] == 1
    assert rows[other.id]["median_hours_to_review"] is None
    assert rows[world["schools"][2].id]["total"] == 0
    assert response.json["totals"]["total"] == 7
    assert response.json["totals"]["median_hours_to_review"] == 7.0
    assert response.json["filters"]["overdue_days"] == 7


def test_confirmation_median_odd_count_and_date_range(client, world):
    officer, leader, school = world["officers"][0], world["leader"], world["schools"][0]
    now = datetime.now(UTC).replace(microsecond=0)
    for hours in (5, 1, 3):
        activity = post_activity(client, officer, school)
        url = f"/api/v1/activities/{activity['id']}/confirm"
        assert client.post(url, json={}, headers=world["headers"][leader.id]).status_code == 200
        _set_times(activity["id"], now - timedelta(days=1), now - timedelta(days=1, hours=-hours))
    old = post_activity(client, officer, school, started_at="2026-01-15T10:00:00+00:00")
    headers = world["headers"][world["manager"].id]
    response = client.get(CONFIRMATION, headers=headers)
    assert response.json["totals"]["median_hours_to_review"] == 3.0
    query = {"from": "2026-01-01", "to": "2026-01-31"}
    january = client.get(CONFIRMATION, query_string=query, headers=headers)
    assert january.status_code == 200
    row = next(r for r in january.json["rows"] if r["school_id"] == school.id)
    assert (row["total"], row["submitted"]) == (1, 1)
    assert old["status"] == "submitted"


def _set_submitted(activity_id: str, submitted: datetime) -> None:
    with app_context():
        query = update(Activity).where(Activity.id == uuid.UUID(activity_id))
        db.session.execute(query.values(submitted_at=submitted))
        db.session.commit()


def _corrected(client, world, logged: datetime, action: str = "dispute") -> dict:
    """An activity logged at ``logged``, reviewed, then changed by its officer (now): back to
    submitted."""
    officer, leader = world["officers"][0], world["leader"]
    activity = post_activity(client, officer, world["schools"][0])
    _set_times(activity["id"], logged)
    url = f"/api/v1/activities/{activity['id']}/{action}"
    body = {"reason": "Not here."} if action == "dispute" else {}
    assert client.post(url, json=body, headers=world["headers"][leader.id]).status_code == 200
    edited = client.patch(
        f"/api/v1/activities/{activity['id']}",
        json={"participant_count": 3},
        headers=world["headers"][officer.id],
    )
    assert edited.status_code == 200 and edited.json["status"] == "submitted"
    return edited.json


def test_confirmation_activity_corrected_now_after_dispute_is_not_overdue(client, world):
    now = datetime.now(UTC)
    corrected = _corrected(client, world, logged=now - timedelta(days=20))
    response = client.get(CONFIRMATION, headers=world["headers"][world["manager"].id])
    assert response.status_code == 200
    assert corrected["created_at"] < (now - timedelta(days=19)).isoformat()
    assert response.json["totals"]["submitted"] == 1
    assert response.json["totals"]["overdue"] == 0


@pytest.mark.parametrize(("resubmitted_days_ago", "overdue"), [(1, 0), (8, 1)])
def test_confirmation_overdue_counts_from_the_last_submission(
    client, world, resubmitted_days_ago, overdue
):
    """Logged 20 days ago, disputed, corrected: overdue 7 days after the correction, not
    after the logging."""
    now = datetime.now(UTC)
    corrected = _corrected(client, world, logged=now - timedelta(days=20))
    _set_submitted(corrected["id"], now - timedelta(days=resubmitted_days_ago))
    response = client.get(CONFIRMATION, headers=world["headers"][world["manager"].id])
    assert response.status_code == 200
    row = next(r for r in response.json["rows"] if r["school_id"] == world["schools"][0].id)
    assert (row["submitted"], row["overdue"]) == (1, overdue)


def test_confirmation_median_counts_hours_from_the_last_submission(client, world):
    """Logged 30 days ago and confirmed, then edited and confirmed again at once: its wait
    is the second one (about 0 hours), not 720."""
    officer, leader, school = world["officers"][0], world["leader"], world["schools"][0]
    now = datetime.now(UTC).replace(microsecond=0)
    logged = now - timedelta(days=30)
    corrected = _corrected(client, world, logged=logged, action="confirm")
    url = f"/api/v1/activities/{corrected['id']}/confirm"
    assert client.post(url, json={}, headers=world["headers"][leader.id]).status_code == 200
    other = post_activity(client, officer, school)
    url = f"/api/v1/activities/{other['id']}/confirm"
    assert client.post(url, json={}, headers=world["headers"][leader.id]).status_code == 200
    _set_times(other["id"], now - timedelta(days=3), now - timedelta(days=3, hours=-4))
    response = client.get(CONFIRMATION, headers=world["headers"][world["manager"].id])
    assert response.status_code == 200
    assert response.json["totals"]["confirmed"] == 2
    assert response.json["totals"]["median_hours_to_review"] == 2.0  # of about 0 and 4


# --- bulk paths: the demo loader and the migration backfill --------------------------------


def test_demo_loader_fills_rollup_like_a_rebuild(app):
    with app.app_context():
        demo.load_demo(300, seed=11)
        demo.load_demo(200, seed=12)
    assert_rollup_matches_raw()
    total = sum(count for (grain, *_), (count, _m) in rollup_rows().items() if grain == "day")
    assert total == 500


@pytest.mark.sqlite_only
def test_migration_backfills_rollup_from_existing_activities(client, world):
    from flask_migrate import downgrade, upgrade

    rng = random.Random(5)
    random_history(client, world, rng, 8)
    before = rollup_rows()
    with app_context():
        downgrade(directory="migrations", revision="0001")
        upgrade(directory="migrations", revision="0002")
    # 0002 counted UTC dates; the totals are the same, the days may differ.
    assert _totals_by_grain(rollup_rows()) == _totals_by_grain(before)
    with app_context():
        upgrade(directory="migrations")  # 0005 recounts by dates in the program's zone
    assert rollup_rows() == before


def _totals_by_grain(rows: dict) -> dict:
    totals = defaultdict(lambda: [0, 0])
    for (grain, *_), (count, minutes) in rows.items():
        totals[grain][0] += count
        totals[grain][1] += minutes
    return {grain: tuple(total) for grain, total in totals.items()}


@pytest.mark.parametrize(
    "day", ["20261031", "2026-W44-6", "2026-10-31T00:00", "2026-1-5", "31/10/2026"]
)
def test_activity_mix_date_other_than_yyyy_mm_dd_returns_422(client, world, day):
    headers = world["headers"][world["manager"].id]
    response = client.get(MIX, query_string={"from": day}, headers=headers)
    assert response.status_code == 422
    assert "from" in response.json["error"]["details"]
