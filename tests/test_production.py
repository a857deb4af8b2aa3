"""Hardening: security headers, body limit, rate limits, request logs, readiness, ProxyFix,
production settings."""

import json
import logging
import uuid

import pytest
from sqlalchemy import text

from api.config import load_config
from api.extensions import db
from api.observability import JsonFormatter
from tests.factories import PASSWORD, activity_body, auth, make_school, make_user, tokens_for

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json["error"]
    assert isinstance(body["code"], str) and isinstance(body["message"], str)
    if code is not None:
        assert body["code"] == code
    return body


def assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert len(response.headers["X-Request-ID"]) >= 16


# --- security headers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/openapi.json", 200), ("/healthz", 200), ("/api/v1/no-such-thing", 404)],
)
def test_get_api_paths_any_status_sends_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_security_headers(response)


def test_get_authenticated_api_response_sends_security_headers(client):
    officer = make_user("officer", [make_school()])
    response = client.get("/api/v1/me", headers=auth(officer))
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/", "/manifest.webmanifest", "/sw.js"])
def test_get_pwa_files_sends_security_headers(client, path):
    response = client.get(path)
    response.close()
    assert response.status_code == 200
    assert_security_headers(response)


def test_get_with_request_id_header_echoes_valid_id_only(client):
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.status_code == 200
    assert echoed.headers["X-Request-ID"] == "abc-123"
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 80})
    assert replaced.status_code == 200
    assert "<" not in replaced.headers["X-Request-ID"]
    assert replaced.headers["X-Request-ID"].isalnum()


# --- error shape for framework errors ------------------------------------------------------


def test_post_body_over_max_content_length_returns_413_error_shape(make_app):
    app = make_app(MAX_CONTENT_LENGTH=4096)
    client = app.test_client()
    with app.app_context():
        school = make_school()
        headers = auth(make_user("officer", [school]))
        body = activity_body(school, summary="x" * 8000)
    response = client.post("/api/v1/activities", json=body, headers=headers)
    assert_error_shape(response, 413, "payload_too_large")
    assert_security_headers(response)


def test_post_oversized_login_body_returns_413_error_shape(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    response = client.post(
        "/api/v1/auth/login", json={"email": "a@example.org", "password": "p" * 5000}
    )
    assert_error_shape(response, 413, "payload_too_large")


def test_unsupported_method_returns_405_error_shape_with_allow(client):
    response = client.put("/healthz")
    assert_error_shape(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_unhandled_exception_returns_500_without_stack_trace(make_app, caplog):
    app = make_app()

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = app.test_client().get("/test-only/boom")
    body = assert_error_shape(response, 500, "internal_error")
    text_body = response.get_data(as_text=True)
    assert "secret internal detail" not in text_body
    assert "Traceback" not in text_body
    assert body["details"] == {}  # nothing of the failure leaks
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


# --- rate limits -------------------------------------------------------------------------


def test_login_over_limit_returns_429_error_shape_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    body = {"email": "nobody@example.org", "password": "wrong-password-123"}
    statuses = [client.post("/api/v1/auth/login", json=body).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    limited = client.post("/api/v1/auth/login", json=body)
    assert_error_shape(limited, 429, "rate_limited")
    assert 0 < int(limited.headers["Retry-After"]) <= 60


def test_writes_over_write_limit_return_429_error_shape_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, WRITE_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        school = make_school()
        officer = make_user("officer", [school])
        headers = auth(officer)
        body = activity_body(school)
    statuses = [
        client.post("/api/v1/activities", json={**body, "id": str(uuid.uuid4())}, headers=headers)
        for _ in range(3)
    ]
    assert [r.status_code for r in statuses] == [201, 201, 201]
    # The budget is shared by every write route, PATCH and DELETE included.
    url = f"/api/v1/activities/{statuses[0].json['id']}"
    limited = client.patch(url, json={"duration_minutes": 30}, headers=headers)
    body_error = assert_error_shape(limited, 429, "rate_limited")
    assert "slow down" in body_error["message"]
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert_error_shape(client.delete(url, headers=headers), 429, "rate_limited")
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM activity")) == 3


def test_reads_over_write_limit_are_not_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, WRITE_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        headers = auth(make_user("officer", [make_school()]))
    statuses = {client.get("/api/v1/activities", headers=headers).status_code for _ in range(6)}
    assert statuses == {200}
    pages = [client.get("/") for _ in range(4)]
    for page in pages:
        page.close()
    assert {page.status_code for page in pages} == {200}


def test_limiter_storage_unreachable_falls_back_to_memory_limits(make_app):
    from tests.live_server import free_port

    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
        LOGIN_RATE_LIMIT="2 per minute",
    )
    client = app.test_client()
    body = {"email": "nobody@example.org", "password": "wrong-password-123"}
    statuses = [client.post("/api/v1/auth/login", json=body).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]  # served, and still limited, without redis


def test_proxy_fix_hops_keys_limits_by_forwarded_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute", PROXY_FIX_HOPS=1)
    client = app.test_client()
    body = {"email": "nobody@example.org", "password": "wrong-password-123"}

    def login(address):
        return client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": address})

    assert [login("203.0.113.7").status_code for _ in range(3)] == [401, 401, 429]
    assert login("198.51.100.9").status_code == 401


def test_without_proxy_fix_forwarded_for_is_ignored(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute", PROXY_FIX_HOPS=0)
    client = app.test_client()
    body = {"email": "nobody@example.org", "password": "wrong-password-123"}
    statuses = [
        client.post(
            "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": f"203.0.113.{n}"}
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


# --- structured request logs --------------------------------------------------------------


def test_requests_log_one_json_line_each_without_secrets(app, client, caplog):
    school = make_school()
    officer = make_user("officer", [school], email="logcheck@example.org")
    secret_summary = "Talked with the grade 7 class about respectful online chat."
    with caplog.at_level(logging.INFO, logger="api.request"):
        login = client.post(
            "/api/v1/auth/login",
            json={"email": "logcheck@example.org", "password": PASSWORD},
            headers={"X-Request-ID": "req-login-1"},
        )
        assert login.status_code == 200
        token = login.json["access_token"]
        created = client.post(
            "/api/v1/activities",
            json=activity_body(school, summary=secret_summary),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name == "api.request"]
    entries = [json.loads(line) for line in lines]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/api/v1/auth/login", 200),
        ("POST", "/api/v1/activities", 201),
    ]
    assert entries[0]["request_id"] == "req-login-1"
    assert entries[1]["request_id"] == created.headers["X-Request-ID"]
    assert entries[1]["user_id"] == officer.id
    assert all(isinstance(e["duration_ms"], float) for e in entries)
    everything = "\n".join(formatter.format(r) for r in caplog.records)
    for secret in (PASSWORD, token, login.json["refresh_token"], secret_summary, "Bearer"):
        assert secret not in everything


def test_json_formatter_emits_one_parseable_line_with_exception():
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert "ValueError" in entry["exception"]


# --- readiness -----------------------------------------------------------------------------


def test_readyz_migrated_database_returns_200(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert response.json["migrations"]


def test_readyz_database_unreachable_returns_503(make_app, tmp_path, database_url):
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'missing-dir' / 'nothing.sqlite3'}"
    else:
        from tests.live_server import free_port

        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres?connect_timeout=2"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    response = app.test_client().get("/readyz")
    assert_error_shape(response, 503, "database_unavailable")
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_migrations_behind_returns_503(app, client):
    with app.app_context():
        (current,) = db.session.scalars(text("SELECT version_num FROM alembic_version")).all()
        db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        if current == "0001":
            db.session.execute(text("DELETE FROM alembic_version"))
        db.session.commit()
    try:
        response = client.get("/readyz")
        assert_error_shape(response, 503, "migrations_pending")
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM alembic_version"))
            db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": current})
            db.session.commit()
    assert client.get("/readyz").status_code == 200


# --- production settings -------------------------------------------------------------------


STRONG = "s" * 40


@pytest.mark.parametrize(
    "secrets",
    [
        {},
        {"SECRET_KEY": "x" * 31, "JWT_SECRET_KEY": STRONG},
        {"SECRET_KEY": STRONG, "JWT_SECRET_KEY": "short"},
        {"SECRET_KEY": STRONG},
    ],
)
def test_production_config_weak_or_missing_secret_refuses_to_start(monkeypatch, secrets):
    for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config()


def test_production_config_strong_secrets_loads(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    monkeypatch.setenv("PROXY_FIX_HOPS", "1")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    config = load_config()
    assert config["APP_ENV"] == "production"
    assert config["PROXY_FIX_HOPS"] == 1
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert config["JWT_DECODE_ALGORITHMS"] == ["HS256"]
    assert config["MAX_CONTENT_LENGTH"] > 0


def test_refresh_token_is_not_accepted_for_writes(client):
    school = make_school()
    officer = make_user("officer", [school])
    refresh = tokens_for(officer)["refresh_token"]
    response = client.post(
        "/api/v1/activities",
        json=activity_body(school),
        headers={"Authorization": f"Bearer {refresh}"},
    )
    assert_error_shape(response, 401)


# --- gunicorn settings ---------------------------------------------------------------------


def test_gunicorn_config_reads_environment(monkeypatch):
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:8123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    settings = runpy.run_path(str(path))
    assert settings["bind"] == "127.0.0.1:8123"
    assert settings["workers"] == 3
    assert settings["preload_app"] is False  # no database connection crosses a fork
    assert settings["worker_class"] == "sync"
    assert settings["control_socket_disable"] is True
    assert settings["accesslog"] is None  # the app's JSON request log is the access log
