"""Liveness and readiness probes."""

from functools import cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.errors import error_payload
from api.extensions import db

blp = Blueprint("health", __name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@cache
def migration_heads() -> frozenset[str]:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@blp.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """The database answers and its schema is at the latest migration."""
    try:
        applied = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        db.session.rollback()
        return _not_ready("database_unavailable", "The database cannot be reached.")
    if applied != migration_heads():
        return _not_ready("migrations_pending", "Database migrations are not current.")
    return jsonify(status="ready", database="ok", migrations=sorted(applied))


def _not_ready(code: str, message: str):
    response = jsonify(error_payload(code, message))
    response.status_code = 503
    return response
