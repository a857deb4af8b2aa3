"""A realistic demo: schools of each level, officers, leaders and a term of activities."""

import json
import random
import uuid
from bisect import bisect
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import accumulate

from sqlalchemy import func, insert, select, text, update

from api.extensions import db
from api.models import Activity, ActivityRevision, School, SequenceCounter, User
from api.models.activity import OUTCOMES, REFERRALS
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
    "community_referral": (
        "Connected a family with youth services.",
        "Referred a student to mental health supports with the counsellor.",
        "Helped a family reach housing supports.",
    ),
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


def _activity_rows(count, officers, assignments, seed, first_seq):
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    term_start = now - timedelta(days=100)
    weights = [m[1] for m in MIX]
    leader_for_school = {}
    for school_id, leader_id in db.session.execute(
        select(School.id, User.id).join(User.schools).where(User.role == "school_leader")
    ):
        leader_for_school.setdefault(school_id, leader_id)
    # Ids rise within a load (random high bits, counter low bits): B-tree appends, not
    # random page writes, which is most of what makes a million-row load fast.
    id_base = rng.getrandbits(64) << 64
    rand = rng.random  # a bare float draw: randrange and choices cost several times more

    def between(low: int, high: int) -> int:
        return low + int(rand() * (high - low))

    mix_cumulative = list(accumulate(weights))
    outcome_cumulative = list(accumulate((40, 30, 10, 15, 5)))
    for n in range(count):
        officer = officers[n % len(officers)]
        schools = assignments[officer.id]
        school_id = schools[int(rand() * len(schools))]
        category, _, minutes, people = MIX[bisect(mix_cumulative, rand() * mix_cumulative[-1])]
        day = term_start + timedelta(days=between(0, 100))
        if day.weekday() >= 5:
            day -= timedelta(days=2)
        started = day.replace(hour=between(8, 16), minute=15 * between(0, 4), second=0, tzinfo=UTC)
        age_days = (now - started).days
        roll = rand()
        leader_id = leader_for_school.get(school_id)
        status = "submitted"
        if leader_id and age_days > 3 and roll < 0.78:
            status = "confirmed"
        elif leader_id and age_days > 3 and roll < 0.83:
            status = "disputed"
        outcome = None
        if category in ("counselling", "mediation", "emergency_response"):
            outcome = OUTCOMES[bisect(outcome_cumulative, rand() * outcome_cumulative[-1])]
        elif category == "community_referral":
            outcome = "referral_made"
        reviewed_at = started + timedelta(hours=between(2, 120))
        reviewed = status != "submitted"
        yield {
            "id": uuid.UUID(int=id_base | n, version=4),
            "officer_id": officer.id,
            "school_id": school_id,
            "category": category,
            "started_at": started,
            "duration_minutes": between(*minutes),
            "audience": AUDIENCE_BY_CATEGORY[category],
            "participant_count": between(*people),
            "summary": SUMMARIES[category][int(rand() * len(SUMMARIES[category]))],
            "referral_to": REFERRALS[int(rand() * len(REFERRALS))]
            if category == "community_referral"
            else None,
            "outcome": outcome,
            "status": status,
            "review_note": "Pattern does not match our records." if status == "disputed" else None,
            "reviewed_by": leader_id if reviewed else None,
            "reviewed_at": min(reviewed_at, now) if reviewed else None,
            "version": 2 if reviewed else 1,
            "content_version": 1,
            "change_seq": first_seq + n,
            "deleted_at": None,
            "created_at": started + timedelta(minutes=5),
            "updated_at": min(reviewed_at, now) if reviewed else started + timedelta(minutes=5),
        }


def _revision_rows(rows):
    for row in rows:
        yield {
            "activity_id": row["id"],
            "version": 1,
            "action": "create",
            "actor_id": row["officer_id"],
            "at": row["created_at"],
            "client_time": None,
            "changes": {"category": {"from": None, "to": row["category"]}},
        }
        if row["version"] == 2:
            action = "confirm" if row["status"] == "confirmed" else "dispute"
            yield {
                "activity_id": row["id"],
                "version": 2,
                "action": action,
                "actor_id": row["reviewed_by"],
                "at": row["reviewed_at"],
                "client_time": None,
                "changes": {"status": {"from": "submitted", "to": row["status"]}},
            }


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
    for _, sql in indexes:
        db.session.execute(text(sql))


def _insert_activities(count, officers, assignments, seed) -> None:
    counter = db.session.get(SequenceCounter, "activity")
    first_seq = (counter.value if counter else 0) + 1
    if db.session.get_bind().dialect.name == "sqlite":
        # Random UUID keys touch pages all over the index: keep them in memory while loading.
        db.session.execute(text("PRAGMA cache_size = -262144"))
    with _indexes_deferred(count):
        batch = []
        for row in _activity_rows(count, officers, assignments, seed, first_seq):
            batch.append(row)
            if len(batch) == CHUNK:
                _flush(batch)
                batch = []
        if batch:
            _flush(batch)
    rollup.add_range(first_seq, first_seq + count - 1)
    db.session.execute(
        update(SequenceCounter)
        .where(SequenceCounter.name == "activity")
        .values(value=first_seq + count - 1)
    )


def _flush(batch) -> None:
    if db.session.get_bind().dialect.name == "sqlite":
        _flush_sqlite(batch)
        return
    # Core inserts: one executemany per table (ORM bulk inserts split batches on NULLs).
    db.session.execute(insert(Activity.__table__), batch)
    db.session.execute(insert(ActivityRevision.__table__), list(_revision_rows(batch)))


@lru_cache(maxsize=1 << 17)
def _sqlite_time(value: datetime | None) -> str | None:
    """A timestamp as SQLAlchemy stores it on SQLite: naive UTC text with microseconds."""
    if value is None:
        return None
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return text if value.microsecond else text + ".000000"


ACTIVITY_COLUMNS = (
    "id, officer_id, school_id, category, started_at, duration_minutes, audience, "
    "participant_count, summary, referral_to, outcome, status, review_note, reviewed_by, "
    "reviewed_at, version, content_version, change_seq, deleted_at, created_at, updated_at"
)
REVISION_COLUMNS = "activity_id, version, action, actor_id, at, client_time, changes"
AUDIENCE_JSON = {category: json.dumps(value) for category, value in AUDIENCE_BY_CATEGORY.items()}


def _activity_tuple(row: dict) -> tuple:
    return (
        row["id"].hex,
        row["officer_id"],
        row["school_id"],
        row["category"],
        _sqlite_time(row["started_at"]),
        row["duration_minutes"],
        AUDIENCE_JSON[row["category"]],
        row["participant_count"],
        row["summary"],
        row["referral_to"],
        row["outcome"],
        row["status"],
        row["review_note"],
        row["reviewed_by"],
        _sqlite_time(row["reviewed_at"]),
        row["version"],
        row["content_version"],
        row["change_seq"],
        _sqlite_time(row["deleted_at"]),
        _sqlite_time(row["created_at"]),
        _sqlite_time(row["updated_at"]),
    )


def _revision_tuple(row: dict) -> tuple:
    return (
        row["activity_id"].hex,
        row["version"],
        row["action"],
        row["actor_id"],
        _sqlite_time(row["at"]),
        None,
        _json(row["changes"]),
    )


_JSON_CACHE: dict[str, str] = {}


def _json(changes: dict) -> str:
    """Revision changes as JSON; demo rows repeat a handful of shapes, so cache them."""
    key = repr(changes)
    cached = _JSON_CACHE.get(key)
    if cached is None:
        cached = _JSON_CACHE[key] = json.dumps(changes)
    return cached


def _flush_sqlite(batch) -> None:
    """Plain executemany on the driver: a million rows without per-value type processing."""
    connection = db.session.connection()
    batch.sort(key=lambda row: row["id"])  # neighbouring keys: fewer index pages touched
    connection.exec_driver_sql(
        f"INSERT INTO activity ({ACTIVITY_COLUMNS}) VALUES ({', '.join('?' * 21)})",
        [_activity_tuple(row) for row in batch],
    )
    connection.exec_driver_sql(
        f"INSERT INTO activity_revision ({REVISION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [_revision_tuple(row) for row in _revision_rows(batch)],
    )


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
    db.session.commit()
    lines = [f"Loaded {count} demo activities ({existing + count} in all)."]
    return "\n".join(lines + (demo_logins() if created_people else []))
