"""Extensions created once here and bound to the app in the factory."""

from flask import current_app, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from api.web import WRITE_METHODS, Api


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
jwt = JWTManager()
migrate = Migrate()


def _write_limit() -> str:
    return current_app.config["WRITE_RATE_LIMIT"]


def _not_an_api_write() -> bool:
    """Reads, the PWA and sign-in (limited on its own) are outside the shared write limit."""
    return (
        request.method not in WRITE_METHODS
        or not request.path.startswith("/api/")
        or request.path == "/api/v1/auth/login"
    )


# WRITE_RATE_LIMIT: one budget per client address shared by every API write.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    application_limits=[_write_limit],
    application_limits_exempt_when=_not_an_api_write,
)


api = Api()
