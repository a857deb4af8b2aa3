"""Small factories for tests: each takes **overrides and returns a saved record."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

from api.auth import issue_tokens
from api.extensions import db
from api.models import School, User
from api.services.passwords import hash_password

PASSWORD = "correct-horse-battery-9"
_counter = itertools.count(1)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def make_school(**overrides) -> School:
    n = next(_counter)
    values = {"name": f"School {n}", "code": f"S{n:05d}", "level": "junior_high"} | overrides
    school = School(**values)
    db.session.add(school)
    db.session.commit()
    return school


def make_user(role: str = "officer", schools=(), **overrides) -> User:
    n = next(_counter)
    values = {
        "email": f"{role}{n}@example.org",
        "display_name": f"{role.title()} {n}",
        "role": role,
        "password_hash": _password_hash(),
    } | overrides
    user = User(**values, schools=list(schools))
    db.session.add(user)
    db.session.commit()
    return user


def tokens_for(user: User) -> dict:
    tokens = issue_tokens(user)
    db.session.commit()
    return tokens


def auth(user: User) -> dict:
    """Headers carrying a fresh access token for this user."""
    return {"Authorization": f"Bearer {tokens_for(user)['access_token']}"}


def activity_body(school: School, **overrides) -> dict:
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    return {
        "school_id": school.id,
        "category": "education",
        "started_at": started.isoformat(),
        "duration_minutes": 45,
        "audience": ["students"],
        "participant_count": 24,
        "summary": "Online safety presentation to a grade 8 class.",
    } | overrides


def post_activity(client, officer: User, school: School, **overrides) -> dict:
    body = {"id": str(uuid.uuid4())} | activity_body(school, **overrides)
    response = client.post("/api/v1/activities", json=body, headers=auth(officer))
    assert response.status_code == 201, response.json
    return response.json
