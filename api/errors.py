"""The one error payload, for every exception source."""

import logging

from flask import Flask, Response, jsonify
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from api.extensions import db

log = logging.getLogger(__name__)

DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

DEFAULT_MESSAGES = {
    401: "Authentication is required: send a valid Bearer token.",
    403: "You are not allowed to do this.",
    404: "Not found.",
    405: "This method is not allowed on this resource.",
    413: "The request body is too large.",
    422: "The request contains invalid input.",
    429: "Too many requests: slow down and try again shortly.",
    500: "Something went wrong on our side. The error has been logged.",
    503: "The service is temporarily unavailable. Try again shortly.",
}


class ApiError(Exception):
    """A domain failure the client can act on; services raise these."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details

    def to_dict(self) -> dict:
        return error_payload(self.code, self.message, self.details)["error"]


class NotFound(ApiError):
    status, code = 404, "not_found"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PreconditionFailed(ApiError):
    status, code = 412, "precondition_failed"


class Invalid(ApiError):
    status, code = 422, "validation_error"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


def error_payload(code: str, message: str, details: dict | None = None) -> dict:
    """The one error body: ``details`` is always there (field name -> messages for invalid
    input, empty otherwise), so a client reads every error the same way."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str, details: dict | None = None) -> Response:
    """The one error body as a response with this status."""
    response = jsonify(error_payload(code, message, details))
    response.status_code = status
    return response


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """Flatten webargs/marshmallow messages into field → list of messages."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_messages(value, name))
            else:
                items = value if isinstance(value, list) else [value]
                flat.setdefault(name, []).extend(str(m) for m in items)
    elif messages:
        flat.setdefault(prefix or "_schema", []).extend(
            str(m) for m in (messages if isinstance(messages, list) else [messages])
        )
    return flat


def _validation_details(data: dict) -> dict:
    messages = data.get("errors") or data.get("messages") or {}
    merged: dict[str, list[str]] = {}
    for location_messages in messages.values() if isinstance(messages, dict) else []:
        merged.update(flatten_messages(location_messages))
    return merged


def _summarise(details: dict) -> str:
    fields = ", ".join(sorted(details)[:5])
    return f"Invalid input in: {fields}." if fields else DEFAULT_MESSAGES[422]


def http_error_response(error: HTTPException):
    """Render any werkzeug HTTPException in our shape."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    code = data.get("error_code") or DEFAULT_CODES.get(status, "error")
    details = None
    if status == 422:
        details = _validation_details(data)
        message = data.get("message") or _summarise(details)
    else:
        message = data.get("message") or DEFAULT_MESSAGES.get(status) or error.description
    if status >= 500:
        code = DEFAULT_CODES.get(status, "internal_error")
        message = DEFAULT_MESSAGES.get(status, DEFAULT_MESSAGES[500])
    response = error_response(status, code, message, details)
    for key, value in (data.get("headers") or {}).items():
        response.headers[key] = value
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _api_error(error: ApiError):
    db.session.rollback()
    return error_response(error.status, error.code, error.message, error.details)


def _database_unavailable(error: OperationalError):
    log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else error)
    db.session.rollback()
    response = error_response(503, "service_unavailable", DEFAULT_MESSAGES[503])
    response.headers["Retry-After"] = "5"
    return response


def _is_unique_violation(error: IntegrityError) -> bool:
    orig = error.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def _integrity(error: IntegrityError):
    """Two requests raced to create the same thing: a 409 the client can retry, not a 500."""
    if not _is_unique_violation(error):
        return _unexpected(error)
    log.warning("unique constraint conflict: %s", type(error.orig).__name__)
    db.session.rollback()
    message = "This conflicts with a change saved at the same moment; reload and try again."
    return error_response(409, "conflict", message)


def _unexpected(error: Exception):
    log.exception("unhandled error")
    db.session.rollback()
    return error_response(500, "internal_error", DEFAULT_MESSAGES[500])


def register_error_handlers(app: Flask) -> None:
    """Route every exception source to the one payload."""
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(IntegrityError, _integrity)
    app.register_error_handler(Exception, _unexpected)
