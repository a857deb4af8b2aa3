"""A realistic demo: schools of each level, officers, leaders and a term of activities."""

import gc
import os
import random
import uuid
from bisect import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from api.dates import local_date, program_zone
from api.errors import Invalid
from api.extensions import db
from api.models import Activity, School, User
from api.models.activity import OUTCOMES, REFERRALS
from api.models.types import utcnow
from api.services import audit, rollup, writes
from api.services.passwords import hash_password
from api.services.review import reviewing
from api.services.writes import Change

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


DEMO_OFFICERS = tuple(f"officer{i + 1}@{DEMO_DOMAIN}" for i in range(8))


def _demo_schools() -> list[School]:
    """The demo's schools, made where their codes are free (a school already holding a
    code, say one an administrator made, serves as that demo school)."""
    planned = []
    for level, suffix, count in LEVELS:
        for i in range(count):
            place = PLACES[(i * 7 + len(level)) % len(PLACES)]
            code = f"{level[:2].upper()}{i + 1:02d}"
            planned.append(School(name=f"{place} {suffix}", code=code, level=level))
    codes = [school.code for school in planned]
    have = {s.code: s for s in db.session.scalars(select(School).where(School.code.in_(codes)))}
    db.session.add_all(school for school in planned if school.code not in have)
    db.session.flush()
    return [have.get(school.code, school) for school in planned]


def _load_people() -> list[str]:
    """The demo's people (officers, leaders of their schools, a manager, an admin); an
    account already using a demo email (the first admin of a deployment, say) is kept as it
    is. Returns the emails kept."""
    schools = _demo_schools()
    password_hash = hash_password(DEMO_PASSWORD)
    people = [
        _user("admin", "Avery Admin", "admin", password_hash),
        _user("manager", "Morgan Manager", "program_manager", password_hash),
    ]
    officers = [
        _user(f"officer{i + 1}", f"Cst. Officer {i + 1}", "officer", password_hash, schools[i::8])
        for i in range(8)
    ]
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
    emails = [person.email for person in people + officers + leaders]
    kept = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    db.session.add_all(p for p in people + officers + leaders if p.email not in kept)
    db.session.flush()
    return sorted(kept)


def _demo_officers() -> list[User]:
    """The demo's officers that serve a school (by their demo emails), in id order."""
    found = db.session.scalars(
        select(User)
        .where(User.role == "officer", User.active, User.email.in_(DEMO_OFFICERS))
        .order_by(User.id)
    )
    return [officer for officer in found if officer.school_ids]


DISPUTE_NOTE = "Pattern does not match our records."
OUTCOME_CATEGORIES = ("counselling", "mediation", "emergency_response")


def _local_quarter(origin: date, quarter: int, zone: ZoneInfo) -> datetime:
    """The instant of a day's quarter hour on the program's wall clock, counted from the
    midnight that starts ``origin``."""
    day = origin + timedelta(days=quarter // 96)
    wall = time(quarter % 96 // 4, quarter % 4 * 15)
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


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


class _Term:
    """The quarter hours of a term of about a hundred school days before now, on the
    program's wall clock (school hours are local hours, across a daylight-saving change
    too), and which of them a leader has had time to review (after three days)."""

    def __init__(self, now: datetime):
        zone = program_zone()
        start = local_date(now, zone) - timedelta(days=100)
        origin = start - timedelta(days=2)
        self.first_quarter = []  # per day drawn: the quarter of 08:00 that (weekday) day
        for offset in range(100):
            day = start + timedelta(days=offset)
            if day.weekday() >= 5:
                day -= timedelta(days=2)  # a weekend day moves back two
            self.first_quarter.append((day - origin).days * 96 + 8 * 4)
        last = max(self.first_quarter) + 32 + 4 * 120
        self.at = [_local_quarter(origin, quarter, zone) for quarter in range(last)]
        self.reviewable = [(now - at).days > 3 for at in self.at]
        self.now = now


class _Draw:
    """Draws a load's activities from a seed: the same seed, the same data."""

    def __init__(self, seed: int, officers: list[User], assignments: dict[int, list[int]]):
        self.rng = random.Random(seed)
        self.term = _Term(utcnow().replace(microsecond=0))
        self.leaders = _leaders()
        # Ids rise within a load (random high bits, a counter below): B-tree appends.
        self.id_base = self.rng.getrandbits(64) << 64
        self.rotation = [(officer.id, assignments[officer.id]) for officer in officers]
        self.weights = list(accumulate(m[1] for m in MIX))
        self.outcome_weights = list(accumulate((40, 30, 10, 15, 5)))

    def chunks(self, count: int) -> Iterator[list[Change]]:
        """The writes of ``count`` activities (a create, and a review for most), in lists
        of at most CHUNK activities."""
        for start in range(0, count, CHUNK):
            changes: list[Change] = []
            for n in range(start, min(start + CHUNK, count)):
                changes += self.activity(n)
            yield changes

    def activity(self, n: int) -> list[Change]:
        rand = self.rng.random
        officer_id, schools = self.rotation[n % len(self.rotation)]
        category, _, minutes, people = MIX[bisect(self.weights, rand() * self.weights[-1])]
        quarter = self.term.first_quarter[int(rand() * 100)] + int(rand() * 32)
        started = self.term.at[quarter]
        values = {
            "id": uuid.UUID(int=self.id_base | n, version=4),
            "officer_id": officer_id,
            "school_id": schools[int(rand() * len(schools))],
            "category": category,
            "started_at": started,
            "duration_minutes": minutes[0] + int(rand() * (minutes[1] - minutes[0])),
            "audience": AUDIENCE_BY_CATEGORY[category],
            "participant_count": people[0] + int(rand() * (people[1] - people[0])),
        }
        values |= self.outcome(category)
        # One audit event records the load (load_demo), not each generated write.
        created = writes.created(values, officer_id, started + timedelta(minutes=5))
        created.audited = False
        return [created, *self.review(created.after, quarter)]

    def outcome(self, category: str) -> dict:
        """Referral, outcome and a summary that agrees with them."""
        rand = self.rng.random
        referral = outcome = None
        if category in OUTCOME_CATEGORIES:
            outcome = OUTCOMES[bisect(self.outcome_weights, rand() * self.outcome_weights[-1])]
        elif category == "community_referral":
            referral, outcome = REFERRALS[int(rand() * len(REFERRALS))], "referral_made"
        summaries = SUMMARIES[category]
        if referral is not None:
            summaries = REFERRAL_SUMMARIES[referral]
        elif outcome in OUTCOME_SUMMARIES:
            summaries = OUTCOME_SUMMARIES[outcome][category]
        summary = summaries[int(rand() * len(summaries))]
        return {"referral_to": referral, "outcome": outcome, "summary": summary}

    def review(self, row: dict, quarter: int) -> list[Change]:
        """Most activities old enough are confirmed by their school's leader; a few are
        disputed."""
        roll, later = self.rng.random(), 4 * (2 + int(self.rng.random() * 118))
        leader_id = self.leaders.get(row["school_id"])
        if not (leader_id and self.term.reviewable[quarter]) or roll >= 0.83:
            return []
        action, note = ("confirm", None) if roll < 0.78 else ("dispute", DISPUTE_NOTE)
        review = reviewing(
            row, leader_id, action, note, min(self.term.at[quarter + later], self.term.now)
        )
        review.audited = False
        return [review]


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
def _collector_paused():
    """A load builds tens of millions of short-lived rows and parameters, none in a reference
    cycle (reference counting frees them); the cycle collector would still scan the live
    chunk again and again as they pass through its generations: 38 % of a load's time,
    measured. It is paused for the load (the gc module's documented switch) and runs after."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
            gc.collect()


def _insert_activities(count, officers, assignments, seed) -> None:
    """The activities, written as the app writes them (writes.store), a chunk at a time. A
    large load recounts the report rollup once at the end (seconds for a million) instead of
    adding each chunk's counts."""
    large = count >= LARGE_LOAD
    with _indexes_deferred(count), _collector_paused():
        for changes in _Draw(seed, officers, assignments).chunks(count):
            writes.store(changes, roll_up=not large)
    if large:
        rollup.rebuild()


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
    officers = _demo_officers()
    created_people = not officers
    kept = []
    if created_people:
        kept = _load_people()
        officers = _demo_officers()
    if not officers:
        raise Invalid(
            "The demo officers' accounts exist but serve no school (or are inactive); "
            "demo activities need an officer and a school."
        )
    assignments = {officer.id: officer.school_ids for officer in officers}
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
    if kept:
        lines.append(f"Kept existing accounts, passwords unchanged: {', '.join(kept)}.")
    return "\n".join(lines + (demo_logins() if created_people else []))
