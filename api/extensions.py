"""Extensions created once here and bound to the app in the factory."""

import flask_smorest
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
limiter = Limiter(key_func=get_remote_address, default_limits=[])


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


class Api(flask_smorest.Api):
    """flask-smorest Api documenting and rendering our one error shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        from api.errors import http_error_response

        return http_error_response(error)


api = Api()
