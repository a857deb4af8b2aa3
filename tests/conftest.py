"""Fixtures: an app on a freshly migrated database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), a client, a CLI runner, and factories.

No fixture holds an application context across a test: each request (and each CLI command)
gets its own context, `g` and database session, as under gunicorn, so a write that is flushed
but never committed is lost to the next request here as it would be in production. A test
that reads or writes the database between requests opens `with app.app_context():` itself;
the factories open one of their own when none is active."""

import os
import shutil
import uuid

import pytest
from flask import has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from api import create_app
from api.extensions import db, limiter
from api.services import privacy
from tests import factories

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-0123456789-0123456789",
    "JWT_SECRET_KEY": "test-jwt-secret-key-0123456789-0123456789",
    "LOG_LEVEL": "WARNING",
}
COUNTERS = ("activity", "audit")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: real-browser tests in headless Chromium")
    config.addinivalue_line("markers", "slow: starts servers or runs long property tests")
    config.addinivalue_line("markers", "sqlite_only: needs the embedded SQLite database")


def pytest_collection_modifyitems(config, items):
    if not POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="SQLite-specific; the PostgreSQL run skips it")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _rules_compiled_per_test_under_mutmut():
    """Under `make mutate`, compile the privacy rules afresh for each test. mutmut runs the
    clean tests in its own process and forks every mutant's run from it, so the table cached
    there would hide each mutant of the code that compiles it (and would tie that code to the
    one test that first screened text)."""
    if "MUTANT_UNDER_TEST" in os.environ:
        privacy._rules.cache_clear()


class RequestClient(FlaskClient):
    """The test client, refusing to send a request from inside an application context: the
    request would share that context's `g` and database session instead of having its own."""

    def open(self, *args, **kwargs):
        assert not has_app_context(), "a request sent from inside an application context"
        return super().open(*args, **kwargs)


class CommandRunner(FlaskCliRunner):
    """The CLI runner, with the same rule: each command runs in a context of its own."""

    def invoke(self, *args, **kwargs):
        assert not has_app_context(), "a command run from inside an application context"
        return super().invoke(*args, **kwargs)


def _migrate(url: str) -> None:
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory="migrations")
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once per session: a template file for SQLite, the schema for PostgreSQL."""
    if POSTGRES_URL:
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    return path


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            if row[0] != "alembic_version"
        ]
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        for name in COUNTERS:
            connection.execute(
                text(
                    "INSERT INTO sequence_counter (name, value, purged_through) VALUES (:n, 0, 0)"
                ),
                {"n": name},
            )
    engine.dispose()


@pytest.fixture
def database_url(database_template, tmp_path):
    """A fresh, migrated database for one test."""
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path / f"test-{uuid.uuid4().hex}.sqlite3"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_app(database_url):
    """Build an app on this test's database, with optional config overrides."""
    apps = []

    def build(**overrides):
        # The Limiter is one object shared by every app a test run builds, and its init_app
        # keeps an earlier app's "storage unreachable" flag; left set, this app would count
        # in the fallback memory until a backend check switched storages mid-test.
        limiter._storage_dead = False
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **overrides})
        app.test_client_class = RequestClient
        app.test_cli_runner_class = CommandRunner
        apps.append(app)
        factories.use_app(app)
        return app

    yield build
    factories.use_app(None)
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    """The app, with no application context pushed: requests and commands bring their own."""
    return make_app()


@pytest.fixture
def team(app) -> dict:
    """A school with its officer and its leader."""
    school = factories.make_school()
    return {
        "school": school,
        "officer": factories.make_user("officer", [school]),
        "leader": factories.make_user("school_leader", [school]),
    }


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def program_clock(monkeypatch):
    """Stop the clock that program dates are read from (api.dates) at a given instant:
    ``program_clock(datetime(...))``. Other clocks (tokens, created_at) keep running."""
    from datetime import datetime

    from api import dates

    def stop_at(instant: datetime) -> None:
        class Stopped(datetime):
            @classmethod
            def now(cls, tz=None):
                return instant.astimezone(tz) if tz else instant.replace(tzinfo=None)

        monkeypatch.setattr(dates, "datetime", Stopped)

    return stop_at
