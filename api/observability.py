"""Structured request logs, request ids and security headers."""

import json
import logging
import time
import uuid

from flask import Flask, g, request

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


# The anonymous answering endpoints. A database keeps its rows in the order they were
# written (SQLite's rowid, PostgreSQL's xmin), so a log line with the time of each accepted
# answer would give every stored answer its time of day: those lines are not written.
UNLOGGED_ON_SUCCESS = frozenset({"/api/v1/survey-codes/check", "/api/v1/survey-responses"})


class JsonFormatter(logging.Formatter):
    """One JSON object a line; only the fields we choose, never bodies or tokens."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    access = logging.getLogger("api.request")

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        valid = 0 < len(incoming) <= 64 and incoming.replace("-", "").isalnum()
        g.request_id = incoming if valid else uuid.uuid4().hex

    @app.after_request
    def _finish(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/"):
            # Tokens, activities and reports are nobody's to keep: no shared or browser cache.
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.path in UNLOGGED_ON_SUCCESS and response.status_code < 400:
            return response
        access.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 1),
                    "user_id": g.get("viewer_id"),
                    "request_id": g.get("request_id"),
                }
            },
        )
        return response
