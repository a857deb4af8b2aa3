"""Settings read from environment variables, with safe development defaults."""

import json
import os
import re
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from api import fastjson
from api.dates import DEFAULT_ZONE, checked_zone_name

# The only environments that may run on secrets the app makes for itself.
LOCAL_ENVIRONMENTS = ("development", "test")
SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY")
MIN_SECRET_LENGTH = 32
INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _default_database_url() -> str:
    INSTANCE.mkdir(exist_ok=True)
    return f"sqlite:///{INSTANCE / 'sro.sqlite3'}"


def local_secrets(folder: Path | None = None) -> dict[str, str]:
    """This checkout's own random development secrets: made once, kept in
    ``instance/secrets.json`` (mode 0600), the same for every worker and restart."""
    folder = folder or INSTANCE
    path = folder / "secrets.json"
    if not path.exists():
        folder.mkdir(exist_ok=True)
        made = {name: secrets.token_urlsafe(48) for name in SECRET_NAMES}
        handle, draft = tempfile.mkstemp(dir=folder, prefix=".secrets-")  # mode 0600
        with os.fdopen(handle, "w") as file:
            json.dump(made, file)
        try:
            os.link(draft, path)  # atomic: when two workers race, the first file wins
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return json.loads(path.read_text())


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _names(value: str | None) -> list[str]:
    return [part.strip().lower() for part in (value or "").split(",") if part.strip()]


def oidc_providers(env) -> dict[str, dict]:
    """OIDC_PROVIDERS=police,board and OIDC_<NAME>_* for each: name -> settings."""
    providers = {}
    for name in _names(env.get("OIDC_PROVIDERS")):
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", name):
            raise RuntimeError(f"OIDC_PROVIDERS: {name!r} is not a valid provider name.")
        # OIDC_<NAME upper-cased>_*, or with its dashes as underscores (what a shell can set).
        prefix = next(
            (
                p
                for p in (f"OIDC_{name.upper()}_", f"OIDC_{name.upper().replace('-', '_')}_")
                if env.get(p + "ISSUER")
            ),
            f"OIDC_{name.upper().replace('-', '_')}_",
        )
        missing = [k for k in ("ISSUER", "CLIENT_ID") if not env.get(prefix + k)]
        if missing:
            raise RuntimeError(f"Provider {name!r} needs {', '.join(prefix + k for k in missing)}.")
        providers[name] = {
            "issuer": env[prefix + "ISSUER"].rstrip("/"),
            "client_id": env[prefix + "CLIENT_ID"],
            "client_secret": env.get(prefix + "CLIENT_SECRET", ""),
            "label": env.get(prefix + "LABEL") or name.title(),
            "email_domains": [d.lstrip("@") for d in _names(env.get(prefix + "EMAIL_DOMAINS"))],
            "trust_email": _flag(env.get(prefix + "TRUST_EMAIL")),
        }
    return providers


class Config:
    """Values every environment shares; overridden by environment variables."""

    def __init__(self) -> None:
        env = os.environ
        self.APP_ENV = env.get("APP_ENV") or env.get("FLASK_ENV") or "development"
        self.SECRET_KEY = env.get("SECRET_KEY")
        self.JWT_SECRET_KEY = env.get("JWT_SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL") or _default_database_url()
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "json_serializer": fastjson.dumps}
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
        self.SUPPRESS_BELOW = _int("SUPPRESS_BELOW", 10)
        self.REVIEW_OVERDUE_DAYS = _int("REVIEW_OVERDUE_DAYS", 7)
        # Calendar dates (report days and months, date filters, overdue days) are in this zone.
        self.PROGRAM_TIMEZONE = env.get("PROGRAM_TIMEZONE") or DEFAULT_ZONE
        self.LOCKOUT_THRESHOLD = _int("LOCKOUT_THRESHOLD", 5)
        self.LOCKOUT_MINUTES = _int("LOCKOUT_MINUTES", 15)
        self.LOCKOUT_ACCOUNT_THRESHOLD = _int("LOCKOUT_ACCOUNT_THRESHOLD", 50)
        self.SYNC_RETENTION_DAYS = _int("SYNC_RETENTION_DAYS", 90)
        self.SQLITE_BUSY_TIMEOUT_MS = _int("SQLITE_BUSY_TIMEOUT_MS", 30000)
        self.SQLITE_WAL_FOLD_PAGES = _int("SQLITE_WAL_FOLD_PAGES", 1000)
        self._rate_limits(env)
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        self.PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
        self._identity_and_mail(env)
        self._tokens_and_document()

    def _rate_limits(self, env) -> None:
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
        # Checking survey codes and answering, per client address (a class may share one).
        self.SURVEY_RATE_LIMIT = env.get("SURVEY_RATE_LIMIT", "120 per minute")
        # The address printed on survey slips and in their QR codes (default: this request's).
        self.SURVEY_BASE_URL = env.get("SURVEY_BASE_URL", "")

    def _identity_and_mail(self, env) -> None:
        self.OIDC_PROVIDERS = oidc_providers(env)
        self.APP_BASE_URL = env.get("APP_BASE_URL", "").rstrip("/")
        self.SMTP_HOST = env.get("SMTP_HOST", "localhost")
        self.SMTP_PORT = _int("SMTP_PORT", 25)
        self.SMTP_USERNAME = env.get("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD", "")
        self.SMTP_STARTTLS = _flag(env.get("SMTP_STARTTLS", "false"))
        # Certificates to trust for STARTTLS besides the system's (a board's own authority).
        self.SMTP_CA_FILE = env.get("SMTP_CA_FILE", "")
        self.MAIL_FROM = env.get("MAIL_FROM", "sro-activity-log@localhost")

    def _tokens_and_document(self) -> None:
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


def load_config(overrides: dict | None = None) -> dict:
    """Build the settings mapping. Development and tests without secrets get this
    checkout's random ones; any other APP_ENV must be given strong secrets or the app
    refuses to start."""
    config = Config()
    values = {k: getattr(config, k) for k in dir(config) if k.isupper()}
    values.update(overrides or {})
    try:
        checked_zone_name(values["PROGRAM_TIMEZONE"])
    except ValueError as error:
        raise RuntimeError(str(error)) from error
    local = values["APP_ENV"] in LOCAL_ENVIRONMENTS
    if local and not all(values.get(name) for name in SECRET_NAMES):
        generated = local_secrets()
        for name in SECRET_NAMES:
            values[name] = values.get(name) or generated[name]
    for name in SECRET_NAMES:
        if not local and len(values.get(name) or "") < MIN_SECRET_LENGTH:
            raise RuntimeError(
                f"{name} must be set to a strong secret ({MIN_SECRET_LENGTH}+ characters) "
                f"when APP_ENV is {values['APP_ENV']!r} (only development and test make "
                "their own)."
            )
    return values
