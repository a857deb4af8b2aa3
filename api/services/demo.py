"""A realistic demo: schools of each level, officers, leaders and a term of activities."""

import json
import os
import random
import uuid
from bisect import bisect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text, update

from api.dates import local_date, program_zone
from api.extensions import db
from api.models import Activity, ActivityRevision, School, SequenceCounter, User
from api.models.activity import ACTIVITY_COLUMNS, OUTCOMES, REFERRALS, REVISION_COLUMNS
from api.models.types import utcnow
from api.services import audit, rollup
from api.services.passwords import hash_password

DEMO_PASSWORD = "demo-password-2026"
DEMO_DOMAIN = "example.org"
CHUNK = 20_000
LARGE_LOAD = 50_000

PLACES = (
    "Aspen Grove",
    "Riverbend",
    "Mill Creek",
    "Whitemud",
    "Kingsway",
    "Strathcona",
    "Belgravia",
    "Highlands",
    "Lauderdale",
    "Ottewell",
    "Bonnie Doon",
    "Westmount",
    "Parkallen",
    "Glenora",
    "Forest Heights",
    "Delwood",
    "Lendrum",
    "Rundle",
    "Meadowlark",
    "Callingwood",
)
LEVELS = (
    ("elementary", "Elementary", 12),
    ("junior_high", "Junior High", 12),
    ("senior_high", "High School", 12),
    ("k_to_12", "School (K-12)", 3),
)
MIX = (
    ("education", 34, (30, 90), (15, 120)),
    ("counselling", 22, (15, 60), (1, 4)),
    ("mediation", 14, (20, 75), (2, 6)),
    ("emergency_response", 10, (10, 120), (0, 40)),
    ("community_referral", 20, (15, 60), (1, 3)),
)
SUMMARIES = {
    "education": (
        "Presentation on online safety to a grade 7 class.",
        "Classroom talk on the law and consent.",
        "Session on bike and pedestrian safety.",
        "Presentation on vaping and cannabis law.",
    ),
    "counselling": (
        "Law-related conversation with a student and parent after a social media incident.",
        "Relationship-building conversation at lunch.",
        "Follow-up check-in after last week's concern.",
    ),
    "mediation": (
        "Restorative circle between two students after a conflict.",
        "Mediated a dispute between groups of students, with the vice principal.",
    ),
    "emergency_response": (
        "Lockdown drill with staff.",
        "Responded to a report of a weapon near the school; resolved.",
        "Reviewed the emergency response plan with the principal.",
    ),
    "community_referral": ("Referral to community supports.",),  # replaced by REFERRAL_SUMMARIES
}
# A community referral's summary names the service in its referral_to field, never another.
REFERRAL_SUMMARIES = {
    "mental_health": (
        "Referred a student to mental health supports with the counsellor.",
        "Connected a student with the mental health team after a check-in.",
    ),
    "youth_services": (
        "Connected a family with youth services.",
        "Referred a student to a youth services program.",
    ),
    "family_services": (
        "Connected a family with family services.",
        "Referred a parent to family services for parenting support.",
    ),
    "addictions": (
        "Referred a student to addictions supports with the counsellor.",
        "Connected a family with an addictions counsellor.",
    ),
    "housing": (
        "Helped a family reach housing supports.",
        "Referred a family to a housing support worker.",
    ),
    "victim_services": (
        "Connected a student with victim services after an incident.",
        "Referred a family to victim services.",
    ),
    "other": (
        "Referred a student to a community program.",
        "Connected a family with a community support agency.",
    ),
}
# An outcome that happened to someone (a referral, alternative measures, a charge) comes with
# a summary of the incident that led to it, never of a drill or a lunch-time chat; the other
# outcomes (none, follow-up) keep the category's summaries.
OUTCOME_SUMMARIES = {
    "referral_made": {
        "counselling": ("Counselled a student after a concern and made a referral for support.",),
        "mediation": ("Mediated a conflict between students and made a referral for one of them.",),
        "emergency_response": (
            "Responded to a student in crisis and made a referral for support.",
        ),
    },
    "alternative_measures": {
        "counselling": ("Met a student and parent about an offence; alternative measures agreed.",),
        "mediation": ("Restorative meeting after a theft between students: alternative measures.",),
        "emergency_response": (
            "Responded to a fight at the school; handled by alternative measures.",
        ),
    },
    "charge_laid": {
        "counselling": (
            "Met a student and family after an offence at the school; a charge was laid.",
        ),
        "mediation": (
            "Mediation after an assault between students was not enough; a charge was laid.",
        ),
        "emergency_response": (
            "Responded to a report of a weapon at the school; a charge was laid.",
        ),
    },
}
AUDIENCE_BY_CATEGORY = {
    "education": ["students"],
    "counselling": ["students", "families"],
    "mediation": ["students", "staff"],
    "emergency_response": ["staff"],
    "community_referral": ["students", "families"],
}


def _user(email: str, name: str, role: str, password_hash: str, schools=()) -> User:
    return User(
        email=f"{email}@{DEMO_DOMAIN}",
        display_name=name,
        role=role,
        password_hash=password_hash,
        schools=list(schools),
    )


def _load_people() -> tuple[list[User], dict[int, list[int]]]:
    schools = []
    for level, suffix, count in LEVELS:
        for i in range(count):
            place = PLACES[(i * 7 + len(level)) % len(PLACES)]
            code = f"{level[:2].upper()}{i + 1:02d}"
            schools.append(School(name=f"{place} {suffix}", code=code, level=level))
    db.session.add_all(schools)
    db.session.flush()
    password_hash = hash_password(DEMO_PASSWORD)
    people = [
        _user("admin", "Avery Admin", "admin", password_hash),
        _user("manager", "Morgan Manager", "program_manager", password_hash),
    ]
    officers = []
    for i in range(8):
        assigned = schools[i::8]
        officers.append(
            _user(f"officer{i + 1}", f"Cst. Officer {i + 1}", "officer", password_hash, assigned)
        )
    leaders = [
        _user(
            f"leader{i + 1}",
            f"Principal {i + 1}",
            "school_leader",
            password_hash,
            schools[i * 3 : (i + 1) * 3],
        )
        for i in range(13)
    ]
    # The first leader leads schools the first officer serves, so the demo review works.
    leaders[0].schools = officers[0].schools[:3]
    people += officers + leaders
    db.session.add_all(people)
    db.session.flush()
    return officers, {o.id: [s.id for s in o.schools] for o in officers}


DISPUTE_NOTE = "Pattern does not match our records."
OUTCOME_CATEGORIES = ("counselling", "mediation", "emergency_response")


def _local_quarter(origin: date, quarter: int, zone: ZoneInfo) -> datetime:
    """The instant of a day's quarter hour on the program's wall clock, counted from the
    midnight that starts ``origin``."""
    day = origin + timedelta(days=quarter // 96)
    wall = time(quarter % 96 // 4, quarter % 4 * 15)
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _sqlite_time(value: datetime | None) -> str | None:
    """A timestamp as SQLAlchemy stores it on SQLite: naive UTC text with microseconds."""
    if value is None:
        return None
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return text if value.microsecond else text + ".000000"


class _Encoding(NamedTuple):
    """How generated values are handed to the database: as Python objects for SQLAlchemy
    (PostgreSQL), or already in SQLAlchemy's SQLite storage format for the bare driver."""

    time: Callable[[datetime], Any]
    json: Callable[[Any], Any]
    ids: Callable[[int], Callable[[int], Any]]  # high id bits -> (row number -> id)


def _uuid_ids(id_base: int) -> Callable[[int], uuid.UUID]:
    return lambda n: uuid.UUID(int=id_base | n, version=4)


def _hex_ids(id_base: int) -> Callable[[int], str]:
    """uuid.UUID(int=id_base | n, version=4).hex without building a UUID per row: n only
    touches the low 64 bits, where version 4 sets the top (variant) bit."""
    prefix = uuid.UUID(int=id_base, version=4).hex[:16]
    variant = 1 << 63
    return lambda n: f"{prefix}{variant | n:016x}"


OBJECTS = _Encoding(time=lambda value: value, json=lambda value: value, ids=_uuid_ids)
SQLITE_TEXT = _Encoding(time=_sqlite_time, json=json.dumps, ids=_hex_ids)


def _leaders() -> dict[int, int]:
    """The leader who reviews each school's activities: the first by id, whatever order
    the school assignments were stored in (so a seed gives the same data every time)."""
    leader_for_school: dict[int, int] = {}
    for school_id, leader_id in db.session.execute(
        select(School.id, User.id)
        .join(User.schools)
        .where(User.role == "school_leader")
        .order_by(User.id)
    ):
        leader_for_school.setdefault(school_id, leader_id)
    return leader_for_school


def _changes(encoding: _Encoding) -> tuple[dict[str, Any], dict[str, tuple]]:
    """What revisions record: the create's changes per category, and per review status the
    (action, review note, changes) of the confirm or dispute."""
    created = {
        category: encoding.json({"category": {"from": None, "to": category}})
        for category, *_ in MIX
    }
    reviewed = {
        status: (action, DISPUTE_NOTE if status == "disputed" else None, encoding.json(changes))
        for status, action in (("confirmed", "confirm"), ("disputed", "dispute"))
        for changes in [{"status": {"from": "submitted", "to": status}}]
    }
    return created, reviewed


def _rows(
    count: int,
    officers: list[User],
    assignments: dict[int, list[int]],
    seed: int,
    first_seq: int,
    encoding: _Encoding,
    *,
    revisions: bool = True,
    chunk: int = CHUNK,
) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """Generate ``count`` activities and their revisions, ``chunk`` activities at a time, as
    (activities, revisions): lists of tuples in ACTIVITY_COLUMNS and REVISION_COLUMNS order
    (no revisions if ``revisions`` is false).

    Every timestamp falls on a quarter hour of a term of about a hundred days (reviews are
    capped at now), so their encoded forms are computed once per quarter hour, not per row;
    likewise the per-category values. The random draws are the same, in the same order, as
    one row at a time with datetimes and dicts would take them: a seed gives the same data.
    """
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    zone = program_zone()
    term_start = local_date(now, zone) - timedelta(days=100)  # a date in the program's zone
    leader_for_school = _leaders()
    # Ids rise within a load (random high bits, counter low bits): B-tree appends, not
    # random page writes, which is most of what makes a million-row load fast.
    id_of = encoding.ids(rng.getrandbits(64) << 64)
    rand = rng.random  # a bare float draw: randrange and choices cost several times more

    # Quarter hours of the program's days from two days before the term (a weekend day moves
    # back two): school hours are local hours, also across a daylight-saving change.
    origin = term_start - timedelta(days=2)
    first_quarter = []  # per day drawn: the quarter of 08:00 that (weekday) day
    for offset in range(100):
        day = term_start + timedelta(days=offset)
        if day.weekday() >= 5:
            day -= timedelta(days=2)
        first_quarter.append((day - origin).days * 96 + 8 * 4)
    last_quarter = max(first_quarter) + 32 + 4 * 120
    quarters = [_local_quarter(origin, q, zone) for q in range(last_quarter)]
    started_at = [encoding.time(at) for at in quarters]
    created_at = [encoding.time(at + timedelta(minutes=5)) for at in quarters]
    reviewable = [(now - at).days > 3 for at in quarters]  # a leader reviews after 3 days
    reviewed_at = [encoding.time(min(at, now)) for at in quarters]

    weights = list(accumulate(m[1] for m in MIX))
    outcome_weights = list(accumulate((40, 30, 10, 15, 5)))
    created_changes, review = _changes(encoding)
    categories = [
        (
            category,
            minutes[0],
            minutes[1] - minutes[0],
            people[0],
            people[1] - people[0],
            SUMMARIES[category],
            category in OUTCOME_CATEGORIES,
            category == "community_referral",
            encoding.json(AUDIENCE_BY_CATEGORY[category]),
            created_changes[category],
        )
        for category, _, minutes, people in MIX
    ]
    rotation = [
        (officer.id, assignments[officer.id], len(assignments[officer.id])) for officer in officers
    ]
    for start in range(0, count, chunk):
        activities: list[tuple] = []
        revision_rows: list[tuple] = []
        add_activity, add_revision = activities.append, revision_rows.append
        for n in range(start, min(start + chunk, count)):
            officer_id, schools, school_count = rotation[n % len(rotation)]
            school_id = schools[int(rand() * school_count)]
            (
                category,
                minutes,
                minutes_span,
                people,
                people_span,
                summaries,
                has_outcome,
                is_referral,
                audience,
                create_changes,
            ) = categories[bisect(weights, rand() * weights[-1])]
            quarter = first_quarter[int(rand() * 100)] + int(rand() * 8) * 4 + int(rand() * 4)
            roll = rand()
            leader_id = leader_for_school.get(school_id)
            status = "submitted"
            if leader_id and reviewable[quarter]:
                if roll < 0.78:
                    status = "confirmed"
                elif roll < 0.83:
                    status = "disputed"
            outcome = None
            if has_outcome:
                outcome = OUTCOMES[bisect(outcome_weights, rand() * outcome_weights[-1])]
            elif is_referral:
                outcome = "referral_made"
            review_quarter = quarter + 4 * (2 + int(rand() * 118))
            duration = minutes + int(rand() * minutes_span)
            participants = people + int(rand() * people_span)
            pick = rand()
            referral = REFERRALS[int(rand() * len(REFERRALS))] if is_referral else None
            if referral is not None:
                summaries = REFERRAL_SUMMARIES[referral]
            elif outcome in OUTCOME_SUMMARIES:
                summaries = OUTCOME_SUMMARIES[outcome][category]
            summary = summaries[int(pick * len(summaries))]
            activity_id = id_of(n)
            created = created_at[quarter]
            if revisions:
                add_revision((activity_id, 1, "create", officer_id, created, None, create_changes))
            if status == "submitted":
                reviewer = reviewed = note = None
                version, updated = 1, created
            else:
                action, note, review_changes = review[status]
                reviewer, reviewed = leader_id, reviewed_at[review_quarter]
                version, updated = 2, reviewed
                if revisions:
                    add_revision((activity_id, 2, action, reviewer, reviewed, None, review_changes))
            add_activity(
                (
                    activity_id,
                    officer_id,
                    school_id,
                    category,
                    started_at[quarter],
                    duration,
                    audience,
                    participants,
                    summary,
                    referral,
                    outcome,
                    status,
                    note,
                    reviewer,
                    reviewed,
                    version,
                    1,
                    first_seq + n,
                    None,
                    created,
                    updated,
                )
            )
        yield activities, revision_rows


@contextmanager
def _indexes_deferred(count: int):
    """For a large load on SQLite, drop the activity tables' secondary indexes and rebuild
    them afterwards (inside the same transaction): one sorted build beats a million
    scattered index updates."""
    if count < LARGE_LOAD or db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    indexes = db.session.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('activity', 'activity_revision')"
        )
    ).all()
    for name, _ in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    yield
    # Sort for each index build on helper threads too: the same work, less wall time.
    db.session.execute(text(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}"))
    for _, sql in indexes:
        db.session.execute(text(sql))


@contextmanager
def _checks_trusted():
    """On SQLite, skip the activity table's CHECK constraints while the generator's rows go
    in: its IN-list checks cost more than the rest of the insert, and the generator only
    draws values they allow (tests run PRAGMA integrity_check, which checks them)."""
    connection = db.session.connection()
    connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")


def _insert_activities(count, officers, assignments, seed) -> None:
    counter = db.session.get(SequenceCounter, "activity")
    first_seq = (counter.value if counter else 0) + 1
    if db.session.get_bind().dialect.name == "sqlite":
        _insert_sqlite(count, officers, assignments, seed, first_seq)
    else:
        _insert_objects(count, officers, assignments, seed, first_seq)
    rollup.add_range(first_seq, first_seq + count - 1)
    db.session.execute(
        update(SequenceCounter)
        .where(SequenceCounter.name == "activity")
        .values(value=first_seq + count - 1)
    )


def _insert_objects(count, officers, assignments, seed, first_seq) -> None:
    """Core inserts: one executemany per table (ORM bulk inserts split batches on NULLs)."""
    rows = _rows(count, officers, assignments, seed, first_seq, OBJECTS)
    for activities, revisions in rows:
        db.session.execute(
            insert(Activity.__table__),
            [dict(zip(ACTIVITY_COLUMNS, row, strict=True)) for row in activities],
        )
        db.session.execute(
            insert(ActivityRevision.__table__),
            [dict(zip(REVISION_COLUMNS, row, strict=True)) for row in revisions],
        )


def _revisions_sql() -> tuple[str, list]:
    """INSERT ... SELECT of the revisions of the activities in a rowid range (two bound
    parameters at the end): the create, then the review of a reviewed activity, in order;
    the same rows _rows would generate, without building and binding them in Python."""
    created, reviewed = _changes(SQLITE_TEXT)
    by_category = " ".join("WHEN ? THEN ?" for _ in created)
    sql = (
        f"INSERT INTO activity_revision ({', '.join(REVISION_COLUMNS)}) "
        "SELECT a.id, v.version, "
        "CASE WHEN v.version = 1 THEN 'create' WHEN a.status = ? THEN ? ELSE ? END, "
        "CASE WHEN v.version = 1 THEN a.officer_id ELSE a.reviewed_by END, "
        "CASE WHEN v.version = 1 THEN a.created_at ELSE a.reviewed_at END, NULL, "
        f"CASE WHEN v.version = 1 THEN CASE a.category {by_category} END "
        "WHEN a.status = ? THEN ? ELSE ? END "
        "FROM activity AS a CROSS JOIN (SELECT 1 AS version UNION ALL SELECT 2) AS v "
        "WHERE a.rowid > ? AND a.rowid <= ? AND v.version <= a.version "
        # The activity is the outer loop (CROSS JOIN), read in rowid order, so no sort; the
        # inner loop reads versions 1 and 2 as written. Ordering by version too would add a
        # small sort per activity (about 2 s a million); nothing reads revisions in id
        # order, and the tests check the rows and their order.
        "ORDER BY a.rowid"
    )
    confirm, dispute = reviewed["confirmed"], reviewed["disputed"]
    parameters = [
        "confirmed",
        confirm[0],
        dispute[0],
        *(value for pair in created.items() for value in pair),
        "confirmed",
        confirm[2],
        dispute[2],
    ]
    return sql, parameters


def _insert_sqlite(count, officers, assignments, seed, first_seq) -> None:
    """Plain executemany on the driver: a million rows without per-value type processing;
    the revisions follow from the activity rows in SQL."""
    connection = db.session.connection()
    # Keep the pages being written in memory while loading.
    connection.exec_driver_sql("PRAGMA cache_size = -262144")
    insert_activity = (
        f"INSERT INTO activity ({', '.join(ACTIVITY_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(ACTIVITY_COLUMNS))})"
    )
    insert_revisions, parameters = _revisions_sql()
    last_rowid = "SELECT coalesce(max(rowid), 0) FROM activity"
    rows = _rows(count, officers, assignments, seed, first_seq, SQLITE_TEXT, revisions=False)
    with _indexes_deferred(count), _checks_trusted():
        after = connection.exec_driver_sql(last_rowid).scalar()
        for activities, _ in rows:
            connection.exec_driver_sql(insert_activity, activities)
            through = connection.exec_driver_sql(last_rowid).scalar()
            connection.exec_driver_sql(insert_revisions, (*parameters, after, through))
            after = through


def demo_logins() -> list[str]:
    return [
        "Demo sign-ins (password for all: " + DEMO_PASSWORD + "):",
        f"  officer   officer1@{DEMO_DOMAIN}   (officer2 … officer8 too)",
        f"  leader    leader1@{DEMO_DOMAIN}    (leads schools officer1 serves)",
        f"  manager   manager@{DEMO_DOMAIN}",
        f"  admin     admin@{DEMO_DOMAIN}",
    ]


def load_demo(count: int | None, seed: int = 2025, *, if_empty: bool = False) -> str:
    """Create the demo people once, then add activities; returns what to print."""
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        return "\n".join(["The database already has users; no demo data added.", *demo_logins()])
    officers = list(
        db.session.scalars(
            select(User)
            .where(User.role == "officer", User.email.like(f"%@{DEMO_DOMAIN}"))
            .order_by(User.id)
        )
    )
    created_people = not officers
    if created_people:
        officers, assignments = _load_people()
    else:
        assignments = {o.id: o.school_ids for o in officers}
    count = 2000 if count is None else count
    existing = db.session.scalar(select(func.count()).select_from(Activity))
    _insert_activities(count, officers, assignments, seed + existing)
    audit.record("demo_data_load", "system", None, changes={"activities": count})
    lines = [f"Loaded {count} demo activities ({existing + count} in all)."]
    if created_people:
        from api.services.survey_demo import load_demo_rounds

        answers = load_demo_rounds(seed)
        lines.append(f"Loaded two finished survey rounds ({answers} anonymous answers).")
    db.session.commit()
    return "\n".join(lines + (demo_logins() if created_people else []))
