"""Extensions created once here and bound to the app in the factory."""

import json
from http import HTTPStatus

import flask_smorest
from apispec import BasePlugin
from flask import current_app, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from marshmallow import ValidationError, fields, missing
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


def _unstorable_text(value) -> bool:
    """True when a string (key or value) anywhere in parsed JSON holds NUL or a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and not _utf8(item)):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_JSON_TYPES = (
    (fields.Boolean, (bool,), "Not a valid boolean (send true or false)."),
    (fields.Integer, (int,), "Not a valid integer (send a JSON number)."),
    (fields.Number, (int, float), "Not a valid number (send a JSON number)."),
)


def json_type_problems(schema, data, prefix: str = "") -> dict[str, list[str]]:
    """Fields whose JSON value has the wrong JSON type. marshmallow coerces "45" to 45 and
    "yes" or 0 to a boolean; a JSON body must match the documented types exactly. Items a
    field loads as sent (sync's per-item mutations) are left to their own validation."""
    if not isinstance(data, dict):
        return {}
    problems: dict[str, list[str]] = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key in data and not field.dump_only:
            problems.update(_value_problems(field, data[key], prefix + key))
    return problems


def _value_problems(field, value, path: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    for kind, types, message in _JSON_TYPES:
        if isinstance(field, kind):
            ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
            return {} if ok else {path: [message]}
    if type(field) is fields.List and isinstance(value, list):
        problems: dict[str, list[str]] = {}
        for index, item in enumerate(value):
            problems.update(_value_problems(field.inner, item, f"{path}.{index}"))
        return problems
    if type(field) is fields.Nested:
        items = value if field.many and isinstance(value, list) else [value]
        problems = {}
        for index, item in enumerate(items):
            where = f"{path}.{index}." if field.many else f"{path}."
            problems.update(json_type_problems(field.schema, item, where))
        return problems
    return {}


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StrictParser(FlaskParser):
    """Parser whose every input failure is a 422, malformed JSON included."""

    DEFAULT_VALIDATION_STATUS = 422

    def _load_location_data(self, *, schema, req, location):
        data = super()._load_location_data(schema=schema, req=req, location=location)
        if location == "json":
            if data is missing:
                raise ValidationError(
                    {"_body": ["Send a JSON body with Content-Type: application/json."]}
                )
            problems = json_type_problems(schema, data)
            if problems:
                raise ValidationError(problems)
        return data

    def _raw_load_json(self, req):
        data = self._decode_json(req)
        # Neither database stores NUL or unpaired surrogates ("\\ud800"), and no field needs them.
        if _unstorable_text(self._text_to_check(data)):
            flask_smorest.abort(
                422,
                message="Text must be valid Unicode without NUL (\\u0000) characters.",
                errors={"json": {"_body": ["Remove NUL characters and unpaired surrogates."]}},
            )
        return data

    def _decode_json(self, req):
        """The body as JSON; anything Python cannot hold is malformed JSON too."""
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs words it, and takes an empty body for no body
        except ValueError:  # Python holds integers of up to 4,300 digits
            self._handle_invalid_json_error("a number has too many digits", req)
        except RecursionError:
            self._handle_invalid_json_error("nested too deeply", req)

    @staticmethod
    def _text_to_check(data):
        """The part of the body whose text must be storable."""
        return data

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


class StandardErrorsPlugin(BasePlugin):
    """Document, on every operation, the errors any request may meet (all in the Error
    shape): 401 when it needs a token, 404 when its path names a record, 413 and 429 for
    writes, 503 while the database is unavailable."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            codes = [503]
            if operation.get("security") != []:
                codes.append(401)
            if "{" in (path or ""):
                codes.append(404)
            if method.upper() in WRITE_METHODS:
                codes += [413, 429]
            for code in codes:
                responses.setdefault(str(code), HTTPStatus(code).name)


class Api(flask_smorest.Api):
    """flask-smorest Api documenting and rendering our one error shape."""

    ERROR_SCHEMA = ErrorSchema

    def _init_spec(self, *, extra_plugins=None, **kwargs):
        plugins = [*(extra_plugins or ()), StandardErrorsPlugin()]
        return super()._init_spec(extra_plugins=plugins, **kwargs)

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        from api.schemas.openapi import document_shared_shapes

        document_shared_shapes(self.spec, self.ma_plugin)

    def handle_http_exception(self, error):
        from api.errors import http_error_response

        return http_error_response(error)


api = Api()
