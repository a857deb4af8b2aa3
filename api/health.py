"""Liveness and readiness probes."""

from functools import cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.errors import error_response
from api.extensions import db
from api.web import Blueprint

blp = Blueprint("health", __name__, description="Probes for a load balancer or orchestrator")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@cache
def migration_heads() -> frozenset[str]:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


class AliveSchema(Schema):
    status = fields.String(required=True, metadata={"description": "Always ok"})


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"description": "Always ready"})
    database = fields.String(required=True, metadata={"description": "Always ok"})
    migrations = fields.List(
        fields.String(), required=True, metadata={"description": "The applied revision(s)"}
    )


@blp.route("/healthz")
@blp.doc(security=[], operationId="getLiveness")
@blp.response(200, AliveSchema)
def healthz():
    """The process is alive."""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.doc(security=[], operationId="getReadiness")
@blp.response(200, ReadySchema)
def readyz():
    """The database answers and its schema is at the latest migration."""
    try:
        applied = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        db.session.rollback()
        return _not_ready("database_unavailable", "The database cannot be reached.")
    if applied != migration_heads():
        return _not_ready("migrations_pending", "Database migrations are not current.")
    return {"status": "ready", "database": "ok", "migrations": sorted(applied)}


def _not_ready(code: str, message: str):
    return error_response(503, code, message)
