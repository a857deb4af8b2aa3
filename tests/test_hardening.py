"""Regression tests for the outside security review's findings (issue 13), each named after
what it protects. Tests that read the database between requests open their own context."""

import json
import os
import stat
import threading
import uuid
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, select, update

from api import create_app
from api.config import load_config, local_secrets
from api.extensions import db, limiter
from api.models import Activity, LoginAttempt, School, TokenFamily, User
from api.services import accounts
from tests.conftest import BASE_CONFIG
from tests.factories import (
    PASSWORD,
    activity_body,
    app_context,
    auth,
    count,
    make_school,
    make_user,
    post_activity,
    stored,
    tokens_for,
)
from tests.test_sync_support import push, upsert

LOGIN = "/api/v1/auth/login"
ACTIVITIES = "/api/v1/activities"
EXTREME_TIMES = (
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59-00:01",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00+00:01",
)
HUGE = "9" * 4301


def _officer():
    school = make_school()
    return school, make_user("officer", [school])


# --- 1. one bad time never sinks a push -------------------------------------------------


@pytest.mark.parametrize("moment", EXTREME_TIMES)
def test_push_item_with_time_utc_cannot_hold_is_rejected_and_others_applied(client, moment):
    school, officer = _officer()
    bad_start = upsert(school, started_at=moment)
    good = upsert(school)
    bad_clock = upsert(school) | {"client_time": moment}
    response = push(client, officer, [bad_start, good, bad_clock])
    assert response.status_code == 200, response.json
    first, second, third = response.json["results"]
    assert (first["status"], first["error"]["code"]) == ("rejected", "validation_error")
    assert "data.started_at" in first["error"]["details"]
    assert second["status"] == "applied"
    assert (third["status"], third["error"]["code"]) == ("rejected", "validation_error")
    assert "client_time" in third["error"]["details"]
    assert count(Activity) == 1


@pytest.mark.parametrize("moment", EXTREME_TIMES)
def test_post_and_patch_with_time_utc_cannot_hold_return_422(client, moment):
    school, officer = _officer()
    created = client.post(
        ACTIVITIES, json=activity_body(school, started_at=moment), headers=auth(officer)
    )
    assert created.status_code == 422
    assert created.json["error"]["code"] == "validation_error"
    assert "started_at" in created.json["error"]["details"]
    activity = post_activity(client, officer, school)
    patched = client.patch(
        f"{ACTIVITIES}/{activity['id']}", json={"started_at": moment}, headers=auth(officer)
    )
    assert patched.status_code == 422
    assert "started_at" in patched.json["error"]["details"]


# --- 2. a body Python cannot parse is a 422, never a 500 ---------------------------------


def _raw(client, method: str, path: str, body: str, headers=None):
    return client.open(
        path, method=method, data=body, content_type="application/json", headers=headers
    )


def test_login_with_integer_of_thousands_of_digits_returns_422_invalid_json(client):
    body = f'{{"email": "a@b.c", "password": "x", "n": {HUGE}}}'
    response = _raw(client, "POST", LOGIN, body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_json"
    assert "sys." not in response.json["error"]["details"]["_body"][0]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", ACTIVITIES),
        ("POST", "/api/v1/sync/push"),
        ("POST", "/api/v1/activities/review"),
        ("POST", "/api/v1/schools"),
        ("POST", "/api/v1/users"),
        ("POST", "/api/v1/auth/refresh"),
    ],
)
def test_any_body_with_integer_python_cannot_hold_returns_422(client, method, path):
    admin = make_user("admin")
    response = _raw(client, method, path, f'{{"n": {HUGE}}}', headers=auth(admin))
    assert response.status_code in (401, 403, 422), response.json
    if response.status_code == 422:
        assert response.json["error"]["code"] == "invalid_json"


def test_push_with_huge_integer_inside_an_item_returns_422_invalid_json(client):
    school, officer = _officer()
    item = f'{{"mutation_id": "{uuid.uuid4()}", "op": "upsert", "activity_id": '
    item += f'"{uuid.uuid4()}", "base_version": {HUGE}, "data": {{}}}}'
    body = f'{{"device_id": "{uuid.uuid4()}", "mutations": [{item}]}}'
    response = _raw(client, "POST", "/api/v1/sync/push", body, headers=auth(officer))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "tag",
    [f'"{HUGE}"', HUGE, '"\xb2"', "\xb2", '"1\xb9"'],
    ids=["huge", "huge-bare", "superscript", "superscript-bare", "digit-superscript"],
)
def test_if_match_python_cannot_read_as_a_number_is_412_not_500(client, tag):
    """A version tag of thousands of digits, or of digits int() refuses ("²" is a digit to
    str.isdigit), is a stale or malformed If-Match on every record that takes one."""
    school, officer = _officer()
    admin = make_user("admin")
    activity = post_activity(client, officer, school)
    writes = [
        ("PATCH", f"{ACTIVITIES}/{activity['id']}", {"duration_minutes": 50}, officer),
        ("DELETE", f"{ACTIVITIES}/{activity['id']}", None, officer),
        ("PATCH", f"/api/v1/schools/{school.id}", {"name": "Renamed"}, admin),
        ("PATCH", f"/api/v1/users/{officer.id}", {"display_name": "Renamed"}, admin),
    ]
    for method, path, body, user in writes:
        headers = auth(user) | {"If-Match": tag}
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 412, (method, path, response.json)
        assert response.json["error"]["code"] == "precondition_failed"
    assert stored(Activity, uuid.UUID(activity["id"])).version == 1


def test_if_match_of_current_version_with_leading_zeros_applies(client):
    school, officer = _officer()
    activity = post_activity(client, officer, school)
    response = client.patch(
        f"{ACTIVITIES}/{activity['id']}",
        json={"duration_minutes": 50},
        headers=auth(officer) | {"If-Match": '"001"'},
    )
    assert response.status_code == 200
    assert response.json["version"] == 2


# --- 3. a sign-in holds no write lock while it checks the password -----------------------


@pytest.mark.sqlite_only
def test_login_checks_password_without_holding_the_write_lock(make_app, monkeypatch):
    """While the password hash is computed, another connection can take the write lock
    at once (busy_timeout 0): a sign-in storm cannot queue the officers' pushes."""
    app = make_app()
    with app.app_context():
        email = make_user("officer").email
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    probes = []
    verify = accounts.verify_password

    def verify_and_probe(hashed, password):
        with other.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout = 0")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.exec_driver_sql("ROLLBACK")
            probes.append("wrote")
        return verify(hashed, password)

    monkeypatch.setattr(accounts, "verify_password", verify_and_probe)
    client = app.test_client()
    ok = client.post(LOGIN, json={"email": email, "password": PASSWORD})
    bad = client.post(LOGIN, json={"email": email, "password": "wrong-password-1"})
    other.dispose()
    assert (ok.status_code, bad.status_code) == (200, 401)
    assert probes == ["wrote", "wrote"]


@pytest.mark.sqlite_only
def test_login_rehashes_an_old_password_hash_without_holding_the_write_lock(make_app, monkeypatch):
    """A hash made with older argon2 parameters is made again as the user signs in: that
    hash costs what the check costs, so it too is computed before the write begins."""
    app = make_app()
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with app.app_context():
        officer = make_user("officer", password_hash=weak)
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    probes = []
    rehash = accounts.hash_password

    def hash_and_probe(password):
        with other.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout = 0")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.exec_driver_sql("ROLLBACK")
            probes.append("wrote")
        return rehash(password)

    monkeypatch.setattr(accounts, "hash_password", hash_and_probe)
    response = app.test_client().post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    other.dispose()
    assert response.status_code == 200
    assert probes == ["wrote"]
    assert stored(User, officer.id).password_hash not in (weak, None)


def test_failed_login_is_recorded_and_audited_after_the_read(client):
    officer = make_user("officer")
    response = client.post(LOGIN, json={"email": officer.email, "password": "not-it-at-all"})
    assert response.status_code == 401
    with app_context():
        query = select(LoginAttempt).where(LoginAttempt.email == officer.email)
        attempt = db.session.scalar(query)
    assert (attempt.succeeded, attempt.user_id, attempt.remote_addr) == (
        False,
        officer.id,
        "127.0.0.1",
    )


# --- 4. no public secret; a token is only as good as its sign-in -------------------------


@pytest.mark.parametrize("app_env", ["production", "staging", "production ", "prod", "Dev"])
def test_any_environment_but_development_or_test_without_secrets_refuses(monkeypatch, app_env):
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "FLASK_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", app_env)
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY|SECRET_KEY"):
        load_config()


@pytest.mark.parametrize("app_env", ["development", "test"])
def test_development_secrets_are_random_private_and_kept(monkeypatch, tmp_path, app_env):
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "FLASK_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", app_env)
    monkeypatch.setattr("api.config.INSTANCE", tmp_path)
    first, again = load_config(), load_config()
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert first["JWT_SECRET_KEY"] == again["JWT_SECRET_KEY"]
    assert len(first["JWT_SECRET_KEY"]) >= 32 and len(first["SECRET_KEY"]) >= 32
    assert first["JWT_SECRET_KEY"] != first["SECRET_KEY"]
    assert local_secrets(tmp_path) == {
        "SECRET_KEY": first["SECRET_KEY"],
        "JWT_SECRET_KEY": first["JWT_SECRET_KEY"],
    }


def test_development_secrets_differ_between_checkouts(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    assert local_secrets(one)["JWT_SECRET_KEY"] != local_secrets(two)["JWT_SECRET_KEY"]


def test_workers_racing_to_make_secrets_agree(tmp_path):
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(local_secrets(tmp_path))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert len({result["JWT_SECRET_KEY"] for result in results}) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.json"]


def _signed(user: User, **claims) -> dict:
    now = datetime.now(UTC)
    payload = {
        "sub": str(user.id),
        "type": "access",
        "fresh": False,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=15),
        "gen": user.token_generation,
    } | claims
    token = pyjwt.encode(payload, BASE_CONFIG["JWT_SECRET_KEY"], "HS256")
    return {"Authorization": f"Bearer {token}"}


def test_token_naming_another_users_sign_in_returns_401(client):
    victim, attacker = make_user("admin"), make_user("officer")
    attackers_sign_in = str(uuid.uuid4())
    with app_context():
        db.session.add(TokenFamily(id=attackers_sign_in, user_id=attacker.id))
        db.session.commit()
    response = client.get("/api/v1/me", headers=_signed(victim, fam=attackers_sign_in))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_revoked"


def test_token_naming_a_sign_in_that_never_happened_returns_401(client):
    admin = make_user("admin")
    response = client.get("/api/v1/me", headers=_signed(admin, fam=str(uuid.uuid4())))
    assert response.status_code == 401


def test_correctly_signed_token_without_sign_in_claim_returns_401(client):
    admin = make_user("admin")
    response = client.get("/api/v1/users", headers=_signed(admin))
    assert response.status_code == 401


def test_token_of_deactivated_user_with_live_sign_in_returns_401(client):
    officer = make_user("officer")
    headers = auth(officer)
    with app_context():
        db.session.execute(update(User).where(User.id == officer.id).values(active=False))
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_token_of_own_live_sign_in_works(client):
    officer = make_user("officer")
    assert client.get("/api/v1/me", headers=auth(officer)).status_code == 200


# --- 6. the sign-in limit holds across workers -------------------------------------------


def test_sign_in_limit_holds_across_workers(make_app):
    """Two workers: the second's own limiter memory has seen none of the first's sign-ins
    (reset), and the lockout is out of reach, so only a count shared through the database
    can refuse the fifth attempt."""
    settings = {
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT": "4 per minute",
        "LOCKOUT_THRESHOLD": 100,
        "LOCKOUT_ACCOUNT_THRESHOLD": 100,
    }
    first, second = make_app(**settings), make_app(**settings)
    with first.app_context():
        email = make_user("officer").email
    body = {"email": email, "password": "wrong-password-1"}
    statuses = [first.test_client().post(LOGIN, json=body).status_code for _ in range(2)]
    limiter.reset()  # in one process the two apps share Flask-Limiter's memory; workers do not
    statuses += [second.test_client().post(LOGIN, json=body).status_code for _ in range(3)]
    assert statuses == [401, 401, 401, 401, 429]
    refused = second.test_client().post(LOGIN, json=body)
    assert refused.json["error"]["code"] == "rate_limited"
    assert count(LoginAttempt) == 4  # a refused attempt writes nothing


def test_sign_in_limit_is_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
    with app.app_context():
        email = make_user("officer").email
    client = app.test_client()
    wrong = {"email": email, "password": "wrong-password-1"}
    for _ in range(2):
        client.post(LOGIN, json=wrong, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    here = client.post(LOGIN, json=wrong, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    elsewhere = client.post(
        LOGIN,
        json={"email": email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert (here.status_code, elsewhere.status_code) == (429, 200)


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_sign_in_limit_holds_across_gunicorn_workers(database_url):
    """40 sign-ins a minute sent to two workers: no more than the limit (20) are checked."""
    import requests

    from tests.live_server import live_server

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        email = make_user("officer").email
        db.engine.dispose()
    env = {
        "RATELIMIT_ENABLED": "true",
        "LOGIN_RATE_LIMIT": "20 per minute",
        # The lockout would refuse this account after 5 failures and hide the limit.
        "LOCKOUT_THRESHOLD": "1000",
        "LOCKOUT_ACCOUNT_THRESHOLD": "1000",
    }
    with live_server(database_url, workers=2, extra_env=env) as (base, _):
        with requests.Session() as session:
            statuses = [
                session.post(
                    base + LOGIN, json={"email": email, "password": "wrong-password-1"}
                ).status_code
                for _ in range(40)
            ]
    assert statuses.count(401) <= 20
    assert statuses.count(429) >= 20
    assert set(statuses) <= {401, 429}


def _attempts(email: str, address: str | None, *, failed: int = 0, ok: int = 0, minutes_ago=0):
    """Sign-in attempts recorded as if made some minutes ago."""
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    with app_context():
        for succeeded in [False] * failed + [True] * ok:
            attempt = LoginAttempt(email=email, succeeded=succeeded, remote_addr=address, at=at)
            db.session.add(attempt)
        db.session.commit()


def test_sign_in_limit_counts_this_address_in_its_window_only(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        email = make_user("officer").email
    _attempts(email, "10.0.0.1", ok=5, minutes_ago=2)  # an earlier minute
    _attempts(email, "10.0.0.2", ok=5)  # another address
    _attempts(email, "10.0.0.1", ok=2)
    client = app.test_client()
    body = {"email": email, "password": PASSWORD}
    here = {"REMOTE_ADDR": "10.0.0.1"}
    assert client.post(LOGIN, json=body, environ_base=here).status_code == 200  # the 3rd
    refused = client.post(LOGIN, json=body, environ_base=here)
    assert refused.status_code == 429
    assert refused.json["error"] == {
        "code": "rate_limited",
        "message": "Too many sign-in attempts from this address. Try again shortly.",
        "details": {},
    }


def test_sign_in_limit_off_when_rate_limits_are_off(make_app):
    app = make_app(RATELIMIT_ENABLED=False, LOGIN_RATE_LIMIT="1 per minute")
    with app.app_context():
        email = make_user("officer").email
    client = app.test_client()
    statuses = {
        client.post(LOGIN, json={"email": email, "password": PASSWORD}).status_code
        for _ in range(3)
    }
    assert statuses == {200}


def test_sign_in_without_an_address_is_judged_by_the_account_alone(make_app):
    """A sign-in with no client address (a proxy that drops it) is not limited by address,
    nor locked by failures that other addresses made below the account-wide ceiling."""
    app = make_app(
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="1 per minute",
        LOCKOUT_THRESHOLD=1,
        LOCKOUT_ACCOUNT_THRESHOLD=4,
    )
    with app.app_context():
        email = make_user("officer").email
    _attempts(email, "10.0.0.1", failed=3)
    with app.app_context():
        assert accounts.login(email, PASSWORD, None)["user"].email == email
        assert accounts.login(email, PASSWORD, None)["user"].email == email


# --- 7. a stranger cannot lock anyone out from everywhere --------------------------------


@pytest.fixture
def lockout(make_app):
    return make_app(
        LOCKOUT_THRESHOLD=3,
        LOCKOUT_ACCOUNT_THRESHOLD=7,
        LOCKOUT_MINUTES=15,
        RATELIMIT_ENABLED=False,
    )


def _sign_in(client, email: str, password: str, address: str) -> int:
    body = {"email": email, "password": password}
    return client.post(LOGIN, json=body, environ_base={"REMOTE_ADDR": address}).status_code


def test_lockout_from_one_address_leaves_the_owner_signing_in_elsewhere(lockout):
    with lockout.app_context():
        email = make_user("admin").email
    client = lockout.test_client()
    for _ in range(3):
        assert _sign_in(client, email, "wrong-password-1", "203.0.113.9") == 401
    assert _sign_in(client, email, PASSWORD, "203.0.113.9") == 429
    assert _sign_in(client, email, PASSWORD, "198.51.100.4") == 200


def test_lockout_account_wide_ceiling_locks_every_address(lockout):
    with lockout.app_context():
        email = make_user("admin").email
    client = lockout.test_client()
    for n in range(7):
        assert _sign_in(client, email, "wrong-password-1", f"203.0.113.{n // 2}") == 401
    assert _sign_in(client, email, PASSWORD, "198.51.100.4") == 429


def test_lockout_counts_since_this_addresss_last_success(lockout):
    """The owner's success elsewhere does not wipe a stranger's failures here; the owner's
    success here does, and failures older than the window are forgotten."""
    with lockout.app_context():
        email = make_user("admin").email
    client = lockout.test_client()
    _attempts(email, "203.0.113.9", failed=3, minutes_ago=16)
    for _ in range(2):
        assert _sign_in(client, email, "wrong-password-1", "203.0.113.9") == 401
    assert _sign_in(client, email, PASSWORD, "198.51.100.4") == 200
    assert _sign_in(client, email, "wrong-password-1", "203.0.113.9") == 401
    locked = client.post(
        LOGIN,
        json={"email": email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert locked.status_code == 429
    assert locked.json["error"] == {
        "code": "account_locked",
        "message": "Too many failed sign-ins for this account. Try again in 15 minutes.",
        "details": {},
    }
    _attempts(email, "192.0.2.1", failed=2, minutes_ago=1)
    _attempts(email, "192.0.2.1", ok=1)
    assert _sign_in(client, email, "wrong-password-1", "192.0.2.1") == 401
    assert _sign_in(client, email, PASSWORD, "192.0.2.1") == 200


def test_lockout_answer_is_the_same_for_unknown_accounts(lockout):
    with lockout.app_context():
        known_email = make_user("officer").email
    client = lockout.test_client()
    for email in (known_email, "nobody@example.org"):
        for _ in range(3):
            _sign_in(client, email, "wrong-password-1", "203.0.113.9")
    known = client.post(
        LOGIN,
        json={"email": known_email, "password": "x" * 12},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    unknown = client.post(
        LOGIN,
        json={"email": "nobody@example.org", "password": "x" * 12},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert known.status_code == unknown.status_code == 429
    assert known.json == unknown.json


# --- 8. scope is checked at every write ---------------------------------------------------


def _unassign(officer: User, school: School) -> None:
    with app_context():
        user = db.session.get(User, officer.id)
        user.schools = [s for s in user.schools if s.id != school.id]
        db.session.commit()


def test_officer_removed_from_school_cannot_patch_its_activities(client):
    school, officer = _officer()
    activity = post_activity(client, officer, school)
    _unassign(officer, school)
    response = client.patch(
        f"{ACTIVITIES}/{activity['id']}", json={"duration_minutes": 50}, headers=auth(officer)
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "school_not_assigned"
    assert stored(Activity, uuid.UUID(activity["id"])).duration_minutes == 45


def test_officer_removed_from_school_cannot_edit_or_delete_by_sync(client):
    school, officer = _officer()
    activity = post_activity(client, officer, school)
    _unassign(officer, school)
    edit = upsert(school, activity_id=activity["id"], base=1, duration_minutes=50)
    remove = {
        "mutation_id": str(uuid.uuid4()),
        "op": "delete",
        "activity_id": activity["id"],
        "base_version": 1,
    }
    results = push(client, officer, [edit, remove]).json["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert {r["error"]["code"] for r in results} == {"school_not_assigned"}
    after = stored(Activity, uuid.UUID(activity["id"]))
    assert (after.duration_minutes, after.version, after.is_deleted) == (45, 1, False)


def test_officer_cannot_log_at_inactive_school_rest_or_sync(client):
    school, officer = _officer()
    with app_context():
        db.session.execute(update(School).where(School.id == school.id).values(active=False))
        db.session.commit()
    response = client.post(ACTIVITIES, json=activity_body(school), headers=auth(officer))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "school_not_assigned"
    (result,) = push(client, officer, [upsert(school)]).json["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "school_not_assigned"
    assert count(Activity) == 0


def test_officer_can_move_activity_between_own_active_schools(client):
    first, second = make_school(), make_school()
    officer = make_user("officer", [first, second])
    activity = post_activity(client, officer, first)
    response = client.patch(
        f"{ACTIVITIES}/{activity['id']}", json={"school_id": second.id}, headers=auth(officer)
    )
    assert response.status_code == 200
    assert response.json["school_id"] == second.id


# --- 9. authenticated answers are never cached --------------------------------------------


def test_api_responses_carry_cache_control_no_store(client):
    school, officer = _officer()
    login = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    answers = [
        login,
        client.get("/api/v1/me", headers=headers),
        client.get(ACTIVITIES, headers=headers),
        client.get("/api/v1/schools", headers=headers),
        client.get("/api/v1/sync/pull", headers=headers),
        client.get("/api/v1/me"),  # 401
    ]
    assert [r.headers.get("Cache-Control") for r in answers] == ["no-store"] * len(answers)


def test_refresh_tokens_spent_stay_spent_when_family_belongs_to_user(client):
    officer = make_user("officer")
    tokens = tokens_for(officer)
    bearer = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    assert client.post("/api/v1/auth/refresh", headers=bearer).status_code == 200
    assert client.post("/api/v1/auth/refresh", headers=bearer).status_code == 401


def test_push_item_nested_too_deeply_is_rejected_alone(make_app):
    """A value nested ~950 levels deep in one item's data (the JSON parser takes up to 1,024)
    is that item's rejection; the push and its other items go through."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    school = make_school()
    officer = make_user("officer", [school])
    good, deep = (
        {
            "mutation_id": str(uuid.uuid4()),
            "op": "upsert",
            "activity_id": str(uuid.uuid4()),
            "base_version": None,
            "data": activity_body(school, summary=summary),
        }
        for summary in ("Assembly.", "@@DEEP@@")
    )
    text = json.dumps({"device_id": str(uuid.uuid4()), "mutations": [good, deep]})
    text = text.replace('"@@DEEP@@"', "[" * 950 + "1" + "]" * 950)
    response = client.post(
        "/api/v1/sync/push", data=text, content_type="application/json", headers=auth(officer)
    )
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["error"]["details"] == {
        "data": ["Nested too deeply; send the activity's content fields."]
    }


@pytest.mark.parametrize("path", ["/js/%00", "/icons/a%00.png", "/vendor/%00x.js"])
def test_static_path_with_nul_is_404_in_the_error_shape(make_app, path):
    response = make_app(PROPAGATE_EXCEPTIONS=False).test_client().get(path)
    assert response.status_code == 404
    assert set(response.json["error"]) == {"code", "message", "details"}
