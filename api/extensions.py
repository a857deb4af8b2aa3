"""Extensions created once here and bound to the app in the factory."""

import flask_smorest
from flask import current_app, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase
from webargs.flaskparser import FlaskParser

from api.schemas.common import ErrorSchema


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
jwt = JWTManager()
migrate = Migrate()
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


class StrictParser(FlaskParser):
    """Parser whose every input failure is a 422, malformed JSON included."""

    DEFAULT_VALIDATION_STATUS = 422

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        flask_smorest.abort(
            422,
            message="The request body is not valid JSON.",
            errors={"json": {"_body": [f"Malformed JSON: {error}"]}},
            error_code="invalid_json",
        )


class Blueprint(flask_smorest.Blueprint):
    """Our Blueprint: strict argument parsing and our error responses documented."""

    ARGUMENTS_PARSER = StrictParser()

    def alt_response(self, status_code, response=None, **kwargs):
        """Document error responses with our Error schema unless told otherwise."""
        if response is None and "schema" not in kwargs and int(status_code) >= 400:
            kwargs["schema"] = ErrorSchema
        return super().alt_response(status_code, response, **kwargs)


class Api(flask_smorest.Api):
    """flask-smorest Api documenting and rendering our one error shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        from api.errors import http_error_response

        return http_error_response(error)


api = Api()
