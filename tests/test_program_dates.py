"""Calendar dates are dates in the program's time zone (PROGRAM_TIMEZONE), never UTC dates.

The oracle here is independent of api.dates: ``instant.astimezone(ZoneInfo(zone)).date()``
and a plain grouping of the activity rows by it (and, on PostgreSQL, a SQL GROUP BY with
``AT TIME ZONE``). Activities are written through every path that keeps the rollup: the
one-by-one API, the push's bulk path for runs of plain creates, edits that move an activity
to another day, the full rebuild, the migration and the ``reports rebuild`` command.
"""

import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from api import create_app
from api.dates import day_start, local_date, utc_offsets
from api.extensions import db
from api.models import Activity, ActivityRollup, School
from api.services import demo, reports, rollup
from tests.conftest import BASE_CONFIG, POSTGRES_URL
from tests.factories import activity_body, auth, backdate, make_school, make_user
from tests.test_sync_support import push, upsert

ZONES = ("America/Edmonton", "Pacific/Auckland", "Asia/Kolkata")
LIST = "/api/v1/activities"
MIX = "/api/v1/reports/activity-mix"
CONFIRMATION = "/api/v1/reports/confirmation"
# Several years, each with both daylight-saving changes (Edmonton: March and November;
# Auckland: April and September); not past the API's "not far in the future" limit.
FIRST = datetime(2023, 1, 1, tzinfo=UTC)
LAST = datetime(2026, 11, 25, tzinfo=UTC)
# The database keeps what earlier examples wrote (the oracle reads all of it), so a failure
# is reported as found: shrinking would replay against a different database.
PROPERTY = settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the independent oracle ------------------------------------------------------------------


def local_day(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def expected_rollup(zone: str) -> dict:
    """The rollup's day and month cells as a plain grouping of the rows by local date."""
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    rows = db.session.scalars(select(Activity).where(Activity.deleted_at.is_(None)))
    for a in rows:
        day = local_day(a.started_at, zone)
        keys = (a.category, a.outcome or "", a.referral_to or "", a.status)
        for grain, period, school, officer in (
            ("day", day, a.school_id, a.officer_id),
            ("month", day.replace(day=1), a.school_id, a.officer_id),
            ("month_all", day.replace(day=1), 0, 0),
        ):
            cell = cells[(grain, period, school, officer, *keys)]
            cell[0] += 1
            cell[1] += a.duration_minutes
    return {key: tuple(value) for key, value in cells.items()}


def stored_rollup() -> dict:
    rows = db.session.scalars(select(ActivityRollup).where(ActivityRollup.count != 0))
    return {
        (r.grain, r.period, r.school_id, r.officer_id, r.category, r.outcome, r.referral_to,
         r.status): (r.count, r.minutes)
        for r in rows
    }  # fmt: skip


def sql_grouped_days(zone: str) -> dict:
    """PostgreSQL's own GROUP BY of the local date (AT TIME ZONE)."""
    rows = db.session.execute(
        text(
            "SELECT CAST(started_at AT TIME ZONE :zone AS DATE) AS day, count(*), "
            "sum(duration_minutes) FROM activity WHERE deleted_at IS NULL GROUP BY 1"
        ),
        {"zone": zone},
    )
    return {day: (count, int(minutes)) for day, count, minutes in rows}


def days_of(cells: dict) -> dict:
    totals: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for (grain, period, *_), (count, minutes) in cells.items():
        if grain == "day":
            totals[period][0] += count
            totals[period][1] += minutes
    return {day: tuple(total) for day, total in totals.items()}


def assert_rollup_is_local(app, zone: str) -> None:
    """The rollup as kept by the writes, and as rebuilt, equals the plain grouping."""
    with app.app_context():
        expected = expected_rollup(zone)
        assert stored_rollup() == expected
        rollup.rebuild()
        db.session.flush()
        assert stored_rollup() == expected
        if db.engine.dialect.name == "postgresql":
            assert sql_grouped_days(zone) == days_of(expected)
        db.session.rollback()


# --- a world per zone ------------------------------------------------------------------------


class World:
    """An app in one zone with an officer, a manager and their tokens."""

    def __init__(self, make_app, zone: str):
        self.zone = zone
        self.app = make_app(PROGRAM_TIMEZONE=zone, RATELIMIT_ENABLED=False)
        self.client = self.app.test_client()
        with self.app.app_context():
            self.school = make_school()
            self.school_id = self.school.id
            officer = make_user("officer", [self.school])
            manager = make_user("program_manager")
            self.officer_headers = auth(officer)
            self.manager_headers = auth(manager)
            self.officer = officer

    def body(self, started: datetime, **overrides) -> dict:
        with self.app.app_context():
            school = db.session.get(School, self.school_id)
            return activity_body(school, started_at=started.isoformat(), **overrides)

    def post(self, started: datetime, **overrides) -> str:
        body = {"id": str(uuid.uuid4())} | self.body(started, **overrides)
        response = self.client.post(LIST, json=body, headers=self.officer_headers)
        assert response.status_code == 201, response.json
        return response.json["id"]

    def push(self, instants: list[datetime], category: str = "education") -> list[str]:
        mutations = [upsert(data=self.body(at, category=category)) for at in instants]
        response = push(self.client, self.officer, mutations, headers=self.officer_headers)
        assert response.status_code == 200, response.json
        assert {r["status"] for r in response.json["results"]} <= {"applied"}
        return [m["activity_id"] for m in mutations]

    def move(self, activity_id: str, started: datetime) -> None:
        url = f"{LIST}/{activity_id}"
        body = {"started_at": started.isoformat()}
        response = self.client.patch(url, json=body, headers=self.officer_headers)
        assert response.status_code == 200, response.json

    def listed(self, first: date | None, last: date | None) -> set[str]:
        query = {"limit": 500}
        if first:
            query["from"] = first.isoformat()
        if last:
            query["to"] = last.isoformat()
        found: set[str] = set()
        while True:
            response = self.client.get(LIST, query_string=query, headers=self.manager_headers)
            assert response.status_code == 200, response.json
            found |= {item["id"] for item in response.json["items"]}
            if not response.json["next_cursor"]:
                return found
            query["cursor"] = response.json["next_cursor"]

    def mix(self, **query) -> dict:
        response = self.client.get(MIX, query_string=query, headers=self.manager_headers)
        assert response.status_code == 200, response.json
        return response.json

    def started(self) -> dict[str, datetime]:
        with self.app.app_context():
            rows = db.session.execute(
                select(Activity.id, Activity.started_at).where(Activity.deleted_at.is_(None))
            )
            return {str(activity_id): started for activity_id, started in rows}


# --- strategies ------------------------------------------------------------------------------


def clock_changes(zone: str) -> list[datetime]:
    """Every instant in FIRST..LAST where the zone's UTC offset changes, found hour by hour
    with plain zoneinfo (the exact minute does not matter: instants are drawn around it)."""
    tz = ZoneInfo(zone)
    changes, at = [], FIRST
    offset = at.astimezone(tz).utcoffset()
    while at < LAST:
        at += timedelta(hours=1)
        if at.astimezone(tz).utcoffset() != offset:
            offset = at.astimezone(tz).utcoffset()
            changes.append(at)
    return changes


def instants(zone: str):
    """Instants anywhere in the years, near a clock change, or near a local midnight."""
    tz = ZoneInfo(zone)
    anywhere = st.datetimes(
        min_value=FIRST.replace(tzinfo=None), max_value=LAST.replace(tzinfo=None)
    ).map(lambda value: value.replace(tzinfo=UTC))
    edges = [FIRST + timedelta(days=180)] + clock_changes(zone)
    near_change = st.builds(
        lambda edge, seconds: edge + timedelta(seconds=seconds),
        st.sampled_from(edges),
        st.integers(-6 * 3600, 6 * 3600),
    )
    near_midnight = st.builds(
        lambda day, seconds: (
            datetime.combine(day, time(), tz).astimezone(UTC) + timedelta(seconds=seconds)
        ),
        st.dates(FIRST.date() + timedelta(days=1), LAST.date() - timedelta(days=1)),
        st.sampled_from([-1, 0, 1, -60, 59, -1800, 1800, -7200, 7200, 3600 * 12]),
    )
    return st.one_of(anywhere, near_change, near_midnight)


def date_range(zone: str, instants_: list[datetime]):
    """A (first, last) range of dates that starts at, next to, or away from the local date
    of one of these instants; either end may be open."""
    anchors = st.sampled_from([local_day(at, zone) for at in instants_])
    first = st.builds(lambda day, shift: day + timedelta(days=shift), anchors, st.integers(-2, 2))
    return st.builds(
        lambda start, span, open_start, open_end: (
            None if open_start else start,
            None if open_end else start + timedelta(days=span),
        ),
        first,
        st.sampled_from([0, 0, 1, 2, 30, 400]),
        st.sampled_from([False, False, False, True]),
        st.sampled_from([False, False, False, True]),
    )


# --- properties ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("zone", ZONES)
def test_rollup_days_and_months_equal_a_group_by_of_the_local_date(make_app, zone):
    world = World(make_app, zone)
    ids: list[str] = []

    @PROPERTY
    @given(
        pushed=st.lists(instants(zone), min_size=2, max_size=4),
        posted=st.lists(instants(zone), max_size=2),
        moves=st.lists(st.tuples(st.integers(0, 10**6), instants(zone)), max_size=2),
    )
    def check(pushed, posted, moves):
        ids.extend(world.push(pushed))
        ids.extend(world.post(at, category="mediation") for at in posted)
        for pick, at in moves:
            world.move(ids[pick % len(ids)], at)
        assert_rollup_is_local(world.app, zone)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("zone", ZONES)
def test_filters_hold_exactly_the_activities_whose_local_date_is_in_range(make_app, zone):
    world = World(make_app, zone)

    @PROPERTY
    @given(data=st.data())
    def check(data):
        new = data.draw(st.lists(instants(zone), min_size=1, max_size=3))
        world.push(new)
        first, last = data.draw(date_range(zone, new))
        started = world.started()
        inside = {
            activity_id
            for activity_id, at in started.items()
            if (first is None or local_day(at, zone) >= first)
            and (last is None or local_day(at, zone) <= last)
        }
        assert world.listed(first, last) == inside
        query = {"group_by": "month"}
        if first:
            query["from"] = first.isoformat()
        if last:
            query["to"] = last.isoformat()
        months = Counter(local_day(started[i], zone).strftime("%Y-%m") for i in inside)
        report = world.mix(**query)
        assert {row["month"]: row["count"] for row in report["rows"]} == dict(months)
        assert report["totals"]["count"] == len(inside)
        response = world.client.get(
            CONFIRMATION,
            query_string={k: v for k, v in query.items() if k != "group_by"},
            headers=world.manager_headers,
        )
        assert response.json["totals"]["total"] == len(inside)

    check()


@given(instant=instants("America/Edmonton") | instants("Pacific/Auckland"))
@settings(max_examples=300, deadline=None)
def test_day_start_is_the_first_instant_of_the_local_date(instant):
    for zone in ZONES:
        tz = ZoneInfo(zone)
        day = local_date(instant, tz)
        start, next_start = day_start(day, tz), day_start(day + timedelta(days=1), tz)
        assert start <= instant < next_start
        assert local_day(start, zone) == day
        assert local_day(start - timedelta(microseconds=1), zone) == day - timedelta(days=1)


def test_utc_offsets_list_each_clock_change_to_the_second():
    tz = ZoneInfo("America/Edmonton")
    segments = utc_offsets(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), tz)
    assert segments == [
        (datetime(2026, 1, 1, tzinfo=UTC), -7 * 3600),
        (datetime(2026, 3, 8, 9, 0, tzinfo=UTC), -6 * 3600),  # 02:00 MST -> 03:00 MDT
        (datetime(2026, 11, 1, 8, 0, tzinfo=UTC), -7 * 3600),  # 02:00 MDT -> 01:00 MST
    ]


# --- fixed cases -----------------------------------------------------------------------------

# (zone, started_at as the officer's device sends it, its date in the program's zone)
FIXED = [
    # 19:30 on 31 October in Edmonton is 01:30 UTC on 1 November.
    ("America/Edmonton", "2026-10-31T19:30:00-06:00", date(2026, 10, 31)),
    # Around midnight.
    ("America/Edmonton", "2026-03-03T23:59:59.999999-07:00", date(2026, 3, 3)),
    ("America/Edmonton", "2026-03-04T00:00:00-07:00", date(2026, 3, 4)),
    ("America/Edmonton", "2026-06-15T06:00:00+00:00", date(2026, 6, 15)),  # 00:00 MDT
    ("America/Edmonton", "2026-06-15T05:59:59+00:00", date(2026, 6, 14)),  # 23:59:59 MDT
    # The night the clocks go back (02:00 MDT -> 01:00 MST on 1 November 2026): 01:30
    # happens twice, both on 1 November; 23:30 the evening before is 31 October.
    ("America/Edmonton", "2026-10-31T23:30:00-06:00", date(2026, 10, 31)),
    ("America/Edmonton", "2026-11-01T01:30:00-06:00", date(2026, 11, 1)),
    ("America/Edmonton", "2026-11-01T01:30:00-07:00", date(2026, 11, 1)),
    ("America/Edmonton", "2026-11-01T23:30:00-07:00", date(2026, 11, 1)),
    # The night the clocks go forward (02:00 MST -> 03:00 MDT on 8 March 2026).
    ("America/Edmonton", "2026-03-08T01:59:00-07:00", date(2026, 3, 8)),
    ("America/Edmonton", "2026-03-08T03:00:00-06:00", date(2026, 3, 8)),
    ("America/Edmonton", "2026-03-08T23:59:00-06:00", date(2026, 3, 8)),
    # New Year's Eve.
    ("America/Edmonton", "2025-12-31T23:30:00-07:00", date(2025, 12, 31)),
    ("America/Edmonton", "2026-01-01T00:00:00-07:00", date(2026, 1, 1)),
    ("Pacific/Auckland", "2026-01-01T00:30:00+13:00", date(2026, 1, 1)),  # UTC: 31 Dec
    ("Pacific/Auckland", "2025-12-31T23:30:00+13:00", date(2025, 12, 31)),
    # Auckland's clocks go back (03:00 NZDT -> 02:00 NZST on 5 April 2026).
    ("Pacific/Auckland", "2026-04-05T02:30:00+13:00", date(2026, 4, 5)),
    ("Pacific/Auckland", "2026-04-05T02:30:00+12:00", date(2026, 4, 5)),
    ("Pacific/Auckland", "2026-04-04T23:59:00+13:00", date(2026, 4, 4)),
    # A half-hour zone without daylight saving.
    ("Asia/Kolkata", "2026-10-31T23:45:00+05:30", date(2026, 10, 31)),
    ("Asia/Kolkata", "2026-10-31T18:30:00+00:00", date(2026, 11, 1)),  # 00:00 IST
]


@pytest.mark.parametrize(("zone", "started", "day"), FIXED)
def test_fixed_instants_count_on_their_local_date(make_app, zone, started, day):
    world = World(make_app, zone)
    activity_id = world.post(datetime.fromisoformat(started))
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    assert world.listed(day, day) == {activity_id}
    assert world.listed(before, before) == set()
    assert world.listed(after, after) == set()
    assert world.listed(None, before) == set()
    assert world.listed(after, None) == set()
    assert world.mix(**{"from": day.isoformat(), "to": day.isoformat()})["totals"]["count"] == 1
    assert world.mix(**{"from": after.isoformat()})["totals"]["count"] == 0
    months = world.mix(group_by="month")["rows"]
    assert [(row["month"], row["count"]) for row in months] == [(day.strftime("%Y-%m"), 1)]
    with world.app.app_context():
        periods = dict(
            db.session.execute(select(ActivityRollup.grain, ActivityRollup.period)).all()
        )
    assert periods == {"day": day, "month": day.replace(day=1), "month_all": day.replace(day=1)}
    assert_rollup_is_local(world.app, zone)


def test_parent_night_on_31_october_is_october_in_the_csv(make_app):
    world = World(make_app, "America/Edmonton")
    world.post(datetime.fromisoformat("2026-10-31T19:30:00-06:00"))
    world.push([datetime.fromisoformat("2026-11-01T08:00:00-07:00")])
    response = world.client.get(
        MIX,
        query_string={"group_by": "month", "format": "csv"},
        headers=world.manager_headers,
    )
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert [line.split(",")[:2] for line in lines[1:]] == [["2026-10", "1"], ["2026-11", "1"]]


def test_overdue_counts_calendar_days_in_the_program_zone(make_app):
    """On 9 October, with 7 days, what was submitted on 1 October (local) or before is
    overdue, also at 23:30 (2 October in UTC); what was submitted on 2 October is not."""
    world = World(make_app, "America/Edmonton")
    edmonton = ZoneInfo("America/Edmonton")
    late_on_first = world.post(datetime(2026, 9, 30, 12, tzinfo=UTC))
    early_on_second = world.post(datetime(2026, 9, 30, 13, tzinfo=UTC))
    submitted = {
        late_on_first: datetime(2026, 10, 1, 23, 30, tzinfo=edmonton),  # 05:30 UTC, 2 October
        early_on_second: datetime(2026, 10, 2, 0, 30, tzinfo=edmonton),
    }
    now = datetime(2026, 10, 9, 10, 0, tzinfo=edmonton)
    with world.app.app_context():
        for activity_id, at in submitted.items():
            backdate(activity_id, at)
        db.session.commit()
        report = reports.confirmation({}, overdue_days=7, now=now)
        assert report["totals"]["overdue"] == 1
        assert reports.overdue_since(7, now) == datetime(2026, 10, 2, tzinfo=edmonton)
        later = reports.confirmation({}, overdue_days=7, now=now + timedelta(days=1))
        assert later["totals"]["overdue"] == 2


# --- rebuilding: the command and the migration -------------------------------------------------


def test_reports_rebuild_command_recounts_for_a_new_zone(make_app):
    world = World(make_app, "America/Edmonton")
    world.push([datetime.fromisoformat(s) for _, s, _ in FIXED])
    assert_rollup_is_local(world.app, "America/Edmonton")
    with world.app.app_context():
        before = stored_rollup()
    moved = make_app(PROGRAM_TIMEZONE="Pacific/Auckland")
    result = moved.test_cli_runner().invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Pacific/Auckland" in result.output
    assert_rollup_is_local(moved, "Pacific/Auckland")
    with moved.app_context():
        after = stored_rollup()
    assert after != before
    everything = {"day": len(FIXED), "month": len(FIXED), "month_all": len(FIXED)}
    assert grain_totals(after) == grain_totals(before) == everything


def grain_totals(cells: dict) -> dict:
    totals: Counter = Counter()
    for (grain, *_), (count, _minutes) in cells.items():
        totals[grain] += count
    return dict(totals)


def test_migration_recounts_the_rollup_by_program_dates(make_app):
    from flask_migrate import downgrade, upgrade

    world = World(make_app, "Pacific/Auckland")
    world.push([datetime.fromisoformat(s) for _, s, _ in FIXED])
    with world.app.app_context():
        before = stored_rollup()
        db.session.remove()
        downgrade(directory="migrations", revision="0004")
        utc_days = days_of(stored_rollup())
        db.session.remove()
        upgrade(directory="migrations")
        assert stored_rollup() == before
        db.session.remove()
    # Downgraded, the rollup counts UTC dates again (45 minutes each, activity_body's default).
    by_utc_day = Counter(local_day(at, "UTC") for at in world.started().values())
    assert utc_days == {day: (count, 45 * count) for day, count in by_utc_day.items()}
    assert utc_days != days_of(before)
    assert_rollup_is_local(world.app, "Pacific/Auckland")


# --- the demo, the zone setting and /me -------------------------------------------------------


@pytest.mark.parametrize("zone", ("America/Edmonton", "Pacific/Auckland"))
def test_demo_term_is_school_days_and_hours_in_the_program_zone(make_app, zone):
    app = make_app(PROGRAM_TIMEZONE=zone)
    tz = ZoneInfo(zone)
    with app.app_context():
        demo.load_demo(400, seed=3)
        started = list(db.session.scalars(select(Activity.started_at)))
        today = datetime.now(tz).date()
        for at in started:
            local = at.astimezone(tz)
            assert local.weekday() < 5, local
            assert time(8) <= local.time() < time(16), local
            assert today - timedelta(days=103) <= local.date() < today, local
        assert stored_rollup() == expected_rollup(zone)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "america/edmonton", "", "../etc/passwd"])
def test_unknown_zone_refuses_to_start_with_a_clear_message(name):
    with pytest.raises(RuntimeError, match="PROGRAM_TIMEZONE=.*IANA name"):
        create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": "sqlite://", "PROGRAM_TIMEZONE": name})


def test_zone_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROGRAM_TIMEZONE", "Pacific/Auckland")
    app = create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PROGRAM_TIMEZONE"] == "Pacific/Auckland"
    monkeypatch.setenv("PROGRAM_TIMEZONE", "Nowhere/Special")
    with pytest.raises(RuntimeError, match="Nowhere/Special"):
        create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.delenv("PROGRAM_TIMEZONE")
    app = create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PROGRAM_TIMEZONE"] == "America/Edmonton"


@pytest.mark.parametrize("zone", ("America/Edmonton", "Asia/Kolkata"))
def test_me_and_login_tell_the_program_zone_and_date(make_app, zone):
    world = World(make_app, zone)
    response = world.client.get("/api/v1/me", headers=world.manager_headers)
    assert response.status_code == 200
    assert response.json["program_timezone"] == zone
    today = datetime.now(ZoneInfo(zone)).date()
    assert response.json["program_today"] in {
        today.isoformat(),
        (today + timedelta(days=1)).isoformat(),
    }
    assert {"id", "email", "role", "schools"} <= response.json.keys()
    spec = world.client.get("/api/v1/openapi.json").json
    me = spec["components"]["schemas"]["Me"]["properties"]
    assert me["program_timezone"]["type"] == "string"
    assert me["program_today"]["format"] == "date"


NEW_CELL = text(
    "INSERT INTO activity_rollup (grain, period, school_id, officer_id, category, outcome, "
    "referral_to, status, count, minutes) VALUES ('day', '2001-01-01', 0, 0, 'education', "
    "'', '', 'submitted', 1, 1)"
)


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's table lock")
def test_rebuild_makes_concurrent_writers_wait_on_postgresql(make_app):
    """A write during the recount waits for it (then adds its count) instead of being lost
    in, or counted twice by, the recount."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    world = World(make_app, "America/Edmonton")
    world.post(datetime.fromisoformat("2026-10-31T19:30:00-06:00"))
    other = create_engine(POSTGRES_URL)
    try:
        with world.app.app_context():
            rollup.rebuild()  # holds its lock until this transaction ends
            with other.connect() as connection:
                connection.execute(text("SET lock_timeout = '200ms'"))
                with pytest.raises(OperationalError, match="lock timeout"):
                    connection.execute(NEW_CELL)  # a cell the recount does not touch
            db.session.commit()
        with other.connect() as connection:
            connection.execute(NEW_CELL)
            connection.rollback()
    finally:
        other.dispose()
    assert_rollup_is_local(world.app, "America/Edmonton")


@pytest.mark.parametrize("days", (7, 3))
def test_me_tells_after_how_many_program_days_a_review_is_overdue(make_app, days):
    """The review queue on the phone marks overdue as the report and the reminders do."""
    app = make_app(REVIEW_OVERDUE_DAYS=days)
    with app.app_context():
        headers = auth(make_user("school_leader", [make_school()]))
    client = app.test_client()
    assert client.get("/api/v1/me", headers=headers).json["review_overdue_days"] == days
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["schemas"]["Me"]["properties"]["review_overdue_days"]["type"] == (
        "integer"
    )
