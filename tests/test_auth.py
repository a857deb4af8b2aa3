"""Sign-in, /me, lockout, rate limits, refusal of bad tokens, and production secrets."""

import uuid
import warnings
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from api import create_app
from api.extensions import db
from api.models import AuditEvent, LoginAttempt, User
from api.services.accounts import BAD_CREDENTIALS
from tests.conftest import BASE_CONFIG
from tests.factories import PASSWORD, app_context, auth, count, make_school, make_user, stored

LOGIN = "/api/v1/auth/login"
SOME_ID = "00000000-0000-4000-8000-000000000000"

# Every endpoint of the core API; none may answer without a valid token.
PROTECTED = [
    ("get", "/api/v1/me"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/categories"),
    ("get", "/api/v1/schools"),
    ("post", "/api/v1/schools"),
    ("get", "/api/v1/schools/1"),
    ("patch", "/api/v1/schools/1"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/1"),
    ("patch", "/api/v1/users/1"),
    ("get", "/api/v1/activities"),
    ("post", "/api/v1/activities"),
    ("post", "/api/v1/activities/review"),
    ("get", f"/api/v1/activities/{SOME_ID}"),
    ("patch", f"/api/v1/activities/{SOME_ID}"),
    ("delete", f"/api/v1/activities/{SOME_ID}"),
    ("post", f"/api/v1/activities/{SOME_ID}/confirm"),
    ("post", f"/api/v1/activities/{SOME_ID}/dispute"),
    ("get", f"/api/v1/activities/{SOME_ID}/history"),
]


def _claims(user, **overrides) -> dict:
    now = datetime.now(UTC)
    return {
        "sub": str(user.id),
        "type": "access",
        "fresh": False,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=15),
        "fam": str(uuid.uuid4()),
        "gen": user.token_generation,
    } | overrides


def _hs512(claims: dict, secret: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pyjwt.warnings.InsecureKeyLengthWarning)
        return pyjwt.encode(claims, secret, "HS512")


def _bad_headers(kind: str, user) -> dict:
    secret = BASE_CONFIG["JWT_SECRET_KEY"]
    past = datetime.now(UTC) - timedelta(hours=1)
    tokens = {
        "missing": None,
        "garbage": "not-a-jwt",
        "expired": pyjwt.encode(_claims(user, iat=past, nbf=past, exp=past), secret, "HS256"),
        "wrong_secret": pyjwt.encode(_claims(user), "another-secret-" * 5, "HS256"),
        "wrong_algorithm": _hs512(_claims(user), secret),
        "unsigned": pyjwt.encode(_claims(user), None, "none"),
        "unknown_family": pyjwt.encode(_claims(user), secret, "HS256"),
        "unknown_user": pyjwt.encode(_claims(user, sub="999999"), secret, "HS256"),
    }
    token = tokens[kind]
    return {} if token is None else {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("kind", ["missing", "garbage", "expired"])
@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m}:{p}" for m, p in PROTECTED])
def test_endpoint_without_valid_token_returns_401(client, method, path, kind):
    user = make_user("admin")
    response = getattr(client, method)(path, json={}, headers=_bad_headers(kind, user))
    assert response.status_code == 401
    assert response.json["error"]["code"] in ("unauthorized", "invalid_token", "token_expired")
    assert response.json["error"]["message"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "kind", ["wrong_secret", "wrong_algorithm", "unsigned", "unknown_family", "unknown_user"]
)
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/activities"])
def test_forged_or_orphan_token_returns_401(client, path, kind):
    user = make_user("admin")
    response = client.get(path, headers=_bad_headers(kind, user))
    assert response.status_code == 401
    assert response.json["error"]["code"] in ("invalid_token", "token_revoked")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_expired_token_says_session_expired(client):
    user = make_user("officer")
    response = client.get("/api/v1/me", headers=_bad_headers("expired", user))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_token_in_query_string_is_not_accepted(client):
    user = make_user("officer")
    token = auth(user)["Authorization"].split()[1]
    response = client.get("/api/v1/me", query_string={"jwt": token, "access_token": token})
    assert response.status_code == 401


def test_token_with_other_scheme_is_not_accepted(client):
    user = make_user("officer")
    token = auth(user)["Authorization"].split()[1]
    response = client.get("/api/v1/me", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 401


# --- login -------------------------------------------------------------------------------


def test_login_correct_password_returns_tokens_and_user(client):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json
    assert body["access_token"] and body["refresh_token"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"]["id"] == officer.id
    assert body["user"]["role"] == "officer"
    assert body["user"]["school_ids"] == [school.id]
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    header = pyjwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    claims = pyjwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(officer.id)
    assert claims["exp"] - claims["iat"] == 15 * 60
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


def test_login_email_is_case_insensitive(client):
    officer = make_user("officer")
    response = client.post(LOGIN, json={"email": officer.email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["user"]["id"] == officer.id


def test_login_wrong_password_and_unknown_email_answer_alike(client):
    officer = make_user("officer")
    wrong = client.post(LOGIN, json={"email": officer.email, "password": "not-the-password"})
    unknown = client.post(LOGIN, json={"email": "nobody@example.org", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["message"] == BAD_CREDENTIALS
    assert wrong.json["error"]["code"] == "invalid_credentials"


def test_login_user_without_password_is_refused_whatever_password_is_sent(client):
    # A user who signs in only through a provider has no hash; the check then spends the
    # time of one on a dummy hash (so the answer takes as long), whose password is in the
    # source for anyone to read: it must not open the account either.
    officer = make_user("officer", password_hash=None)
    for password in (PASSWORD, "dummy password for timing equality"):
        response = client.post(LOGIN, json={"email": officer.email, "password": password})
        assert response.status_code == 401
        assert response.json["error"]["code"] == "invalid_credentials"
        assert "access_token" not in response.json


def test_login_inactive_user_returns_401_same_message(client):
    officer = make_user("officer", active=False)
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 401
    assert response.json["error"]["message"] == BAD_CREDENTIALS


BAD_LOGINS = {
    "missing_password": {"email": "a@example.org"},
    "missing_email": {"password": PASSWORD},
    "empty_password": {"email": "a@example.org", "password": ""},
    "unknown_field": {"email": "a@example.org", "password": PASSWORD, "remember": True},
    "password_too_long": {"email": "a@example.org", "password": "x" * 129},
    "email_not_string": {"email": 5, "password": PASSWORD},
}


@pytest.mark.parametrize("body", BAD_LOGINS.values(), ids=list(BAD_LOGINS))
def test_login_bad_body_returns_422(client, body):
    response = client.post(LOGIN, json=body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["details"]


def test_login_malformed_json_returns_422(client):
    response = client.post(LOGIN, data='{"email": ', content_type="application/json")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_json"


def test_login_rehashes_password_with_old_parameters(client):
    weak_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    officer = make_user("officer", password_hash=weak_hasher.hash(PASSWORD))
    old_hash = officer.password_hash
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200
    new_hash = stored(User, officer.id).password_hash
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(new_hash)


# --- lockout and rate limits -------------------------------------------------------------


@pytest.fixture
def strict(make_app):
    """An app that locks an account after three failures, with the address limit off."""
    return make_app(LOCKOUT_THRESHOLD=3, LOCKOUT_MINUTES=15, RATELIMIT_ENABLED=False)


def _fail(client, email: str, times: int) -> None:
    for _ in range(times):
        response = client.post(LOGIN, json={"email": email, "password": "wrong-password-1"})
        assert response.status_code == 401


def _failures(email: str) -> int:
    return count(LoginAttempt, LoginAttempt.email == email, LoginAttempt.succeeded.is_(False))


def test_login_after_threshold_failures_is_locked_even_with_right_password(strict):
    client = strict.test_client()
    officer = make_user("officer")
    _fail(client, officer.email, 3)
    assert _failures(officer.email) == 3
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "account_locked"


def test_login_below_threshold_still_succeeds(strict):
    client = strict.test_client()
    officer = make_user("officer")
    _fail(client, officer.email, 2)
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200


def test_a_sign_in_refused_by_the_lockout_is_a_failed_sign_in_counted_and_audited(strict):
    client = strict.test_client()
    officer = make_user("officer")
    _fail(client, officer.email, 3)
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 429
    assert _failures(officer.email) == 4
    with app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login_failed").order_by(AuditEvent.id)
        ).all()
    assert [event.target_id for event in events] == [str(officer.id)] * 4
    assert [event.changes.get("refused") for event in events] == [None] * 3 + ["account_locked"]
    assert PASSWORD not in str(events[-1].changes)


def test_login_lockout_unknown_email_answers_like_known(strict):
    client = strict.test_client()
    officer = make_user("officer")
    _fail(client, officer.email, 3)
    _fail(client, "nobody@example.org", 3)
    assert _failures("nobody@example.org") == 3
    known = client.post(LOGIN, json={"email": officer.email, "password": "whatever-it-is"})
    unknown = client.post(LOGIN, json={"email": "nobody@example.org", "password": "whatever-it"})
    assert known.status_code == unknown.status_code == 429
    assert known.json == unknown.json


def test_login_lockout_holds_across_workers(strict, make_app):
    email = make_user("officer").email
    _fail(strict.test_client(), email, 3)
    other_worker = make_app(LOCKOUT_THRESHOLD=3, RATELIMIT_ENABLED=False).test_client()
    response = other_worker.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert response.status_code == 429


def test_login_lockout_counts_email_case_insensitively(strict):
    client = strict.test_client()
    officer = make_user("officer")
    _fail(client, officer.email.upper(), 3)
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 429


def test_login_lockout_expires_after_window(strict):
    client = strict.test_client()
    officer = make_user("officer")
    old = datetime.now(UTC) - timedelta(minutes=16)
    with app_context():
        for _ in range(3):
            db.session.add(LoginAttempt(email=officer.email, succeeded=False, at=old))
        db.session.commit()
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200


def test_login_success_resets_failure_count(strict):
    client = strict.test_client()
    officer = make_user("officer")
    _fail(client, officer.email, 2)
    ok = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert ok.status_code == 200
    _fail(client, officer.email, 2)
    response = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200


def test_login_rate_limited_by_address_returns_429_in_error_shape(make_app):
    app = make_app(LOGIN_RATE_LIMIT="2 per minute", RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [client.post(LOGIN, json={}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    response = client.post(LOGIN, json={})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    assert response.json["error"]["message"]


# --- me ----------------------------------------------------------------------------------


def test_me_returns_user_role_and_schools(client):
    first, second = make_school(name="Avenue"), make_school(name="Brook")
    leader = make_user("school_leader", [second, first])
    response = client.get("/api/v1/me", headers=auth(leader))
    assert response.status_code == 200
    assert response.json["id"] == leader.id
    assert response.json["email"] == leader.email
    assert response.json["role"] == "school_leader"
    assert response.json["school_ids"] == sorted([first.id, second.id])
    assert [s["name"] for s in response.json["schools"]] == ["Avenue", "Brook"]
    assert "password_hash" not in response.json


@pytest.mark.parametrize("role", ["program_manager", "admin"])
def test_me_unscoped_roles_have_no_schools(client, role):
    user = make_user(role)
    response = client.get("/api/v1/me", headers=auth(user))
    assert response.status_code == 200
    assert response.json["schools"] == []
    assert response.json["role"] == role


# --- production secrets ------------------------------------------------------------------


@pytest.mark.parametrize(
    "secrets",
    [
        {"SECRET_KEY": None},
        {"JWT_SECRET_KEY": None},
        {"SECRET_KEY": "short"},
        {"JWT_SECRET_KEY": "x" * 31},
        {"SECRET_KEY": ""},
    ],
    ids=["missing_secret", "missing_jwt", "short_secret", "short_jwt", "empty_secret"],
)
def test_create_app_production_with_weak_secret_refuses(database_url, secrets):
    config = BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": database_url, "APP_ENV": "production"}
    with pytest.raises(RuntimeError, match="strong secret"):
        create_app(config | secrets)


@pytest.mark.parametrize("variable", ["APP_ENV", "FLASK_ENV"])
def test_create_app_production_env_without_secrets_refuses(monkeypatch, database_url, variable):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setenv(variable, "production")
    with pytest.raises(RuntimeError, match="strong secret"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})


def test_create_app_production_with_strong_secrets_starts(make_app):
    app = make_app(APP_ENV="production", SECRET_KEY="s" * 40, JWT_SECRET_KEY="j" * 40)
    assert app.config["APP_ENV"] == "production"
    assert app.test_client().get("/healthz").status_code == 200


def test_create_app_development_without_secrets_starts_on_generated_ones(
    monkeypatch, make_app, tmp_path
):
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("FLASK_ENV", raising=False)
    monkeypatch.setattr("api.config.INSTANCE", tmp_path)
    app = make_app(SECRET_KEY=None, JWT_SECRET_KEY=None)
    assert app.config["APP_ENV"] == "development"
    assert len(app.config["JWT_SECRET_KEY"]) >= 32
    assert app.config["JWT_SECRET_KEY"] != app.config["SECRET_KEY"]
