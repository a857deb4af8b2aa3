"""Small factories for tests: each takes **overrides and returns a saved record.

A factory works inside the caller's application context when there is one; otherwise it opens
a short one of its own on the test's app (the last one `make_app` built) and hands back the
record detached, its columns loaded. Records passed in (a user's schools, the user to sign in)
are looked up again by id in the factory's own session, so the caller's copies are never
attached to it (nor expired by its commit)."""

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import Flask, has_app_context
from sqlalchemy import func, select, update

from api.auth import issue_tokens
from api.extensions import db
from api.models import Activity, School, User
from api.services.passwords import hash_password

PASSWORD = "correct-horse-battery-9"
_counter = itertools.count(1)
_app: Flask | None = None


def use_app(app: Flask | None) -> None:
    """The app whose database the factories write to when no context is active."""
    global _app
    _app = app


@contextmanager
def app_context() -> Iterator[None]:
    """The active application context, or a fresh one on the test's app for this block."""
    if has_app_context():
        yield
        return
    assert _app is not None, "no app: use the app or make_app fixture"
    with _app.app_context():
        yield


def count(model, *where) -> int:
    """How many rows of a model (matching the conditions) are stored, read in its own context."""
    with app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def stored(model, key):
    """The row as committed now (read in its own context, handed back detached), or None."""
    with app_context():
        return db.session.get(model, key)


def _saved(record):
    """Commit, then load every column so the record stays readable once detached."""
    db.session.commit()
    db.session.refresh(record)
    return record


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def make_school(**overrides) -> School:
    n = next(_counter)
    values = {"name": f"School {n}", "code": f"S{n:05d}", "level": "junior_high"} | overrides
    with app_context():
        school = School(**values)
        db.session.add(school)
        return _saved(school)


def make_user(role: str = "officer", schools=(), **overrides) -> User:
    n = next(_counter)
    values = {
        "email": f"{role}{n}@example.org",
        "display_name": f"{role.title()} {n}",
        "role": role,
        "password_hash": _password_hash(),
    } | overrides
    with app_context():
        user = User(**values, schools=[db.session.get(School, s.id) for s in schools])
        db.session.add(user)
        _saved(user)
        user.schools  # noqa: B018 (loaded now, readable once detached)
        return user


def tokens_for(user: User) -> dict:
    with app_context():
        tokens = issue_tokens(db.session.get(User, user.id))
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


ACTIVITIES = "/api/v1/activities"


def review(client, team: dict, activity_id: str, action: str = "confirm") -> dict:
    """The team's leader (the ``team`` fixture) confirms or disputes the activity; its JSON."""
    body = {"reason": "We have no record of it."} if action == "dispute" else {}
    response = client.post(
        f"{ACTIVITIES}/{activity_id}/{action}", json=body, headers=auth(team["leader"])
    )
    assert response.status_code == 200, response.json
    return response.json


def backdate(activity_id, when: datetime) -> None:
    """Make an activity as if logged (and sent to the school) at ``when``, in the caller's
    application context; the caller commits."""
    activity_id = activity_id if isinstance(activity_id, uuid.UUID) else uuid.UUID(activity_id)
    db.session.execute(
        update(Activity)
        .where(Activity.id == activity_id)
        .values(created_at=when, submitted_at=when)
    )
