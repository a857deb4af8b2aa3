"""Settings read from environment variables, with safe development defaults."""

import os
from datetime import timedelta
from pathlib import Path

from api import fastjson
from api.dates import DEFAULT_ZONE, checked_zone_name

DEV_SECRET = "dev-only-secret-change-me-in-production-0123456789"
PRODUCTION_NAMES = {"production", "prod"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _default_database_url() -> str:
    instance = Path(__file__).resolve().parent.parent / "instance"
    instance.mkdir(exist_ok=True)
    return f"sqlite:///{instance / 'sro.sqlite3'}"


class Config:
    """Values every environment shares; overridden by environment variables."""

    def __init__(self) -> None:
        env = os.environ
        self.APP_ENV = (env.get("APP_ENV") or env.get("FLASK_ENV") or "development").lower()
        self.SECRET_KEY = env.get("SECRET_KEY", DEV_SECRET)
        self.JWT_SECRET_KEY = env.get("JWT_SECRET_KEY", DEV_SECRET)
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL") or _default_database_url()
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "json_serializer": fastjson.dumps}
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
        self.SUPPRESS_BELOW = _int("SUPPRESS_BELOW", 10)
        self.REVIEW_OVERDUE_DAYS = _int("REVIEW_OVERDUE_DAYS", 7)
        # Calendar dates (report days and months, date filters, overdue days) are in this zone.
        self.PROGRAM_TIMEZONE = env.get("PROGRAM_TIMEZONE") or DEFAULT_ZONE
        self.LOCKOUT_THRESHOLD = _int("LOCKOUT_THRESHOLD", 5)
        self.LOCKOUT_MINUTES = _int("LOCKOUT_MINUTES", 15)
        self.SYNC_RETENTION_DAYS = _int("SYNC_RETENTION_DAYS", 90)
        self.SQLITE_BUSY_TIMEOUT_MS = _int("SQLITE_BUSY_TIMEOUT_MS", 30000)
        self.SQLITE_WAL_FOLD_PAGES = _int("SQLITE_WAL_FOLD_PAGES", 1000)
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = env.get("RATELIMIT_ENABLED", "true").lower() != "false"
        self.RATELIMIT_HEADERS_ENABLED = True
        # A moving window: a fixed one lets twice the limit through across a window's edge.
        self.RATELIMIT_STRATEGY = env.get("RATELIMIT_STRATEGY", "moving-window")
        # One budget per client across workers and hosts needs shared storage (redis://...);
        # if that storage is unreachable, limit per worker in memory instead of failing.
        self.RATELIMIT_KEY_PREFIX = env.get("RATELIMIT_KEY_PREFIX", "sro")
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.LOGIN_RATE_LIMIT = env.get("LOGIN_RATE_LIMIT", "20 per minute")
        self.WRITE_RATE_LIMIT = env.get("WRITE_RATE_LIMIT", "600 per minute")
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        self.PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)

        self.JWT_ALGORITHM = "HS256"
        self.JWT_DECODE_ALGORITHMS = ["HS256"]
        self.JWT_TOKEN_LOCATION = ["headers"]
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=_int("JWT_ACCESS_MINUTES", 15))
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=_int("JWT_REFRESH_DAYS", 14))
        self.JWT_ERROR_MESSAGE_KEY = "message"

        self.API_TITLE = "SRO Activity Log API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.API_SPEC_OPTIONS = {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "info": {
                "description": "Record of School Resource Officer activities, "
                "confirmed by schools. Errors always use the `Error` shape."
            },
        }

    @property
    def is_production(self) -> bool:
        return self.APP_ENV in PRODUCTION_NAMES


def load_config(overrides: dict | None = None) -> dict:
    """Build the settings mapping and refuse weak secrets in production."""
    config = Config()
    values = {k: getattr(config, k) for k in dir(config) if k.isupper()}
    values.update(overrides or {})
    try:
        checked_zone_name(values["PROGRAM_TIMEZONE"])
    except ValueError as error:
        raise RuntimeError(str(error)) from error
    if values["APP_ENV"] in PRODUCTION_NAMES:
        for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
            secret = values.get(key) or ""
            if secret == DEV_SECRET or len(secret) < 32:
                raise RuntimeError(
                    f"{key} must be set to a strong secret (32+ chars) in production"
                )
    return values
