"""Request bodies read strictly: JSON types as documented, text a database can store, and
every failure a 422 in the one error shape."""

import json

import flask_smorest
from flask import request
from marshmallow import ValidationError, fields, missing
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import RequestEntityTooLarge


def unstorable_text(value) -> bool:
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


def read_streamed_body() -> None:
    """Read a body sent without Content-Length (chunked) before the view, so that one
    beyond MAX_CONTENT_LENGTH is a 413 as a declared one is: werkzeug stops reading a
    streamed body at the limit without saying so, and the view would see it cut short."""
    if request.content_length is not None or "wsgi.input_terminated" not in request.environ:
        return
    request.get_data(cache=True)
    # Read up to the limit: one more byte from the server's stream means the body is larger.
    if getattr(request.stream, "is_exhausted", False) and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


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
            optional = getattr(schema, "BODY_OPTIONAL", False)
            if data is missing and optional and not req.get_data(cache=True):
                data = {}  # no body at all where the schema allows it (confirm's {note?})
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
        if unstorable_text(self._text_to_check(data)):
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
