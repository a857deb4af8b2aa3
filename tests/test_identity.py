"""Sign-in through OpenID Connect providers, against two real providers on loopback."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select, update

from api.extensions import db, limiter
from api.models import AuditEvent, SignInGrant, User
from api.models.types import utcnow
from tests.factories import PASSWORD, auth, make_school, make_user
from tests.oidc_provider import _json, provider_env, running_provider


@pytest.fixture
def police():
    with running_provider("sro-police") as provider:
        yield provider


@pytest.fixture
def board():
    with running_provider("sro-board") as provider:
        yield provider


@pytest.fixture
def sso_app(make_app, monkeypatch, police, board):
    settings = {
        "OIDC_PROVIDERS": "police, board",
        "APP_BASE_URL": "http://localhost",
        **provider_env("police", police, LABEL="Police Service", EMAIL_DOMAINS="police.test"),
        **provider_env("board", board, LABEL="School Board", TRUST_EMAIL="true"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return make_app()


@pytest.fixture
def client(sso_app):
    return sso_app.test_client()


@pytest.fixture
def people(sso_app):
    with sso_app.app_context():
        school = make_school()
        officer = make_user("officer", [school], email="cst.lee@police.test")
        leader = make_user("school_leader", [school], email="principal@board.test")
        former = make_user("officer", [school], email="gone@police.test", active=False)
        return {"officer": officer.id, "leader": leader.id, "former": former.id}


def through_provider(client, name: str):
    """Our start, the provider's authorization endpoint, then our callback."""
    start = client.get(f"/auth/oidc/{name}/start")
    assert start.status_code == 302, start.data
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == f"/auth/oidc/{name}/callback"
    return client.get(f"{back.path}?{back.query}")


def grant_of(response) -> str:
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    assert location.startswith("/#/sso?grant="), location
    return parse_qs(urlsplit(location[2:]).query)["grant"][0]


def refused_with(response) -> str:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/#/login?error="), location
    assert "token" not in location and "grant" not in location
    return location.split("=", 1)[1]


def last_refusal(app) -> dict:
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "login_failed")
            .order_by(AuditEvent.seq.desc())
        ).first()
        return event.changes


def test_providers_are_listed_with_their_labels_and_start_urls(client):
    response = client.get("/api/v1/auth/providers")
    assert response.status_code == 200
    assert response.json == [
        {"name": "police", "label": "Police Service", "start_url": "/auth/oidc/police/start"},
        {"name": "board", "label": "School Board", "start_url": "/auth/oidc/board/start"},
    ]


def test_no_providers_configured_is_an_empty_list(make_app, monkeypatch):
    monkeypatch.delenv("OIDC_PROVIDERS", raising=False)
    client = make_app().test_client()
    assert client.get("/api/v1/auth/providers").json == []
    assert client.get("/auth/oidc/police/start").status_code == 404


def test_start_sends_pkce_s256_state_and_nonce(client, police):
    start = client.get("/auth/oidc/police/start")
    url = urlsplit(start.headers["Location"])
    args = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == police.base_url
    assert args["code_challenge_method"] == "S256"
    assert len(args["code_challenge"]) == 43
    assert len(args["state"]) >= 32 and len(args["nonce"]) >= 32
    assert args["redirect_uri"] == "http://localhost/auth/oidc/police/callback"
    assert "openid" in args["scope"].split() and "email" in args["scope"].split()


@pytest.mark.parametrize(
    ("name", "email", "role"),
    [
        ("police", "cst.lee@police.test", "officer"),
        ("board", "principal@board.test", "school_leader"),
    ],
)
def test_sign_in_with_each_provider(client, sso_app, people, police, board, name, email, role):
    (police if name == "police" else board).sign_in_as(email.upper())
    grant = grant_of(through_provider(client, name))
    response = client.post("/api/v1/auth/oidc/exchange", json={"grant": grant})
    assert response.status_code == 200, response.json
    assert response.json["user"]["email"] == email
    assert response.json["user"]["role"] == role
    assert response.json["token_type"] == "Bearer"
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {response.json['access_token']}"}
    )
    assert me.status_code == 200 and me.json["email"] == email
    provider = police if name == "police" else board
    assert provider.token_requests[-1]["code_verifier"]  # PKCE checked by the provider
    with sso_app.app_context():
        login = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.seq.desc())
        ).first()
        assert login.changes == {"provider": name}
        stored = db.session.scalars(select(SignInGrant)).all()
        assert [row.grant_hash for row in stored] != [grant]  # only a hash is kept
        assert stored[0].used_at is not None


def test_refresh_and_logout_after_a_provider_sign_in(client, people, police):
    police.sign_in_as("cst.lee@police.test")
    tokens = client.post(
        "/api/v1/auth/oidc/exchange", json={"grant": grant_of(through_provider(client, "police"))}
    ).json
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    rotated = client.post("/api/v1/auth/refresh", headers=refresh)
    assert rotated.status_code == 200
    new = {"Authorization": f"Bearer {rotated.json['access_token']}"}
    assert client.get("/api/v1/me", headers=new).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=new).status_code == 204
    assert client.get("/api/v1/me", headers=new).status_code == 401
    again = {"Authorization": f"Bearer {rotated.json['refresh_token']}"}
    assert client.post("/api/v1/auth/refresh", headers=again).status_code == 401


def test_a_reused_refresh_token_ends_a_provider_sign_in(client, people, board):
    board.sign_in_as("principal@board.test")
    tokens = client.post(
        "/api/v1/auth/oidc/exchange", json={"grant": grant_of(through_provider(client, "board"))}
    ).json
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    rotated = client.post("/api/v1/auth/refresh", headers=refresh).json
    assert client.post("/api/v1/auth/refresh", headers=refresh).status_code == 401
    newer = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert client.get("/api/v1/me", headers=newer).status_code == 401


def test_deactivation_ends_a_provider_sign_in(client, sso_app, people, police):
    police.sign_in_as("cst.lee@police.test")
    tokens = client.post(
        "/api/v1/auth/oidc/exchange", json={"grant": grant_of(through_provider(client, "police"))}
    ).json
    with sso_app.app_context():
        admin = make_user("admin")
        headers = auth(admin)
    response = client.patch(
        f"/api/v1/users/{people['officer']}", json={"active": False}, headers=headers
    )
    assert response.status_code == 200
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


@pytest.mark.parametrize("email", ["nobody@police.test", "gone@police.test"])
def test_unknown_or_deactivated_user_has_no_account(client, sso_app, people, police, email):
    police.sign_in_as(email)
    assert refused_with(through_provider(client, "police")) == "sso_no_account"
    assert last_refusal(sso_app) == {
        "provider": "police",
        "reason": "no active user with this email",
        "email": email,
    }


def test_unverified_email_is_refused(client, sso_app, people, police):
    police.sign_in_as("cst.lee@police.test", verified=False)
    assert refused_with(through_provider(client, "police")) == "sso_failed"
    assert last_refusal(sso_app)["reason"] == "email not verified by the provider"
    police.sign_in_as("cst.lee@police.test", verified=None)
    assert refused_with(through_provider(client, "police")) == "sso_failed"


def test_a_trusting_provider_accepts_an_email_without_email_verified(client, people, board):
    board.sign_in_as("principal@board.test", verified=None)
    grant = grant_of(through_provider(client, "board"))
    assert client.post("/api/v1/auth/oidc/exchange", json={"grant": grant}).status_code == 200


def test_a_trusting_provider_still_refuses_an_email_said_to_be_unverified(
    client, sso_app, people, board
):
    board.sign_in_as("principal@board.test", verified=False)
    assert refused_with(through_provider(client, "board")) == "sso_failed"
    assert last_refusal(sso_app)["reason"] == "email not verified by the provider"


def test_a_domain_not_allowed_for_the_provider_is_refused(client, sso_app, people, police):
    # principal@board.test exists, but the police provider only vouches for police.test.
    police.sign_in_as("principal@board.test")
    assert refused_with(through_provider(client, "police")) == "sso_failed"
    assert last_refusal(sso_app)["reason"] == "email domain not allowed for this provider"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"nonce": "not-the-nonce-we-sent"}, "nonce"),
        ({"aud": "another-client"}, "aud"),
        ({"iss": "https://impostor.test"}, "iss"),
        ({"age": 3600}, "exp"),
        ({"bad_signature": True}, "id token refused"),
    ],
)
def test_a_bad_id_token_is_refused(client, sso_app, people, police, tamper, reason):
    police.sign_in_as("cst.lee@police.test", **tamper)
    assert refused_with(through_provider(client, "police")) == "sso_failed"
    refusal = last_refusal(sso_app)["reason"]
    assert refusal.startswith("id token refused") and reason in refusal


def test_a_forged_state_is_refused(client, sso_app, people, police):
    client.get("/auth/oidc/police/start")
    response = client.get("/auth/oidc/police/callback?code=anything&state=forged-state")
    assert refused_with(response) == "sso_failed"
    assert last_refusal(sso_app)["reason"] == "unknown or reused state"
    assert refused_with(client.get("/auth/oidc/police/callback?code=x")) == "sso_failed"


def test_a_replayed_callback_is_refused(client, people, police):
    police.sign_in_as("cst.lee@police.test")
    start = client.get("/auth/oidc/police/start")
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    grant_of(client.get(f"{back.path}?{back.query}"))
    assert refused_with(client.get(f"{back.path}?{back.query}")) == "sso_failed"


def test_a_state_from_another_provider_is_refused(client, people, police):
    police.sign_in_as("cst.lee@police.test")
    start = client.get("/auth/oidc/police/start")
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    query = urlsplit(at_provider.headers["Location"]).query
    assert refused_with(client.get(f"/auth/oidc/board/callback?{query}")) == "sso_failed"


def test_a_provider_error_goes_back_to_the_sign_in_page(client, people, police):
    start = client.get("/auth/oidc/police/start")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    response = client.get(f"/auth/oidc/police/callback?error=access_denied&state={state}")
    assert refused_with(response) == "sso_failed"


def test_an_unreachable_provider_goes_back_to_the_sign_in_page(client, people, police):
    police.base_url = "http://127.0.0.1:9"  # discovery now names another issuer
    assert refused_with(client.get("/auth/oidc/police/start")) == "sso_failed"


@pytest.mark.parametrize("missing", ["authorization_endpoint", "token_endpoint", "jwks_uri"])
def test_a_broken_discovery_document_goes_back_to_the_sign_in_page(
    client, sso_app, people, police, missing
):
    police.discovery_drops = {missing}
    assert refused_with(client.get("/auth/oidc/police/start")) == "sso_failed"
    assert missing in last_refusal(sso_app)["reason"]


@pytest.mark.parametrize("methods", [5, {"a": 1}, [7], "client_secret_basic"])
def test_odd_token_endpoint_methods_go_back_to_the_sign_in_page(
    client, sso_app, people, police, methods
):
    police.discovery_odd = {"token_endpoint_auth_methods_supported": methods}
    assert refused_with(client.get("/auth/oidc/police/start")) == "sso_failed"
    assert "token endpoint methods" in last_refusal(sso_app)["reason"]


@pytest.mark.parametrize("body", [[], "text", {"keys": None}, {}, {"keys": [{}]}])
def test_a_broken_key_set_goes_back_to_the_sign_in_page(client, sso_app, people, police, body):
    police.sign_in_as("cst.lee@police.test")
    police.jwks_odd = body
    assert refused_with(through_provider(client, "police")) == "sso_failed"
    assert (
        "id token" in last_refusal(sso_app)["reason"] or "keys" in last_refusal(sso_app)["reason"]
    )


def test_a_grant_works_once(client, sso_app, people, police):
    police.sign_in_as("cst.lee@police.test")
    grant = grant_of(through_provider(client, "police"))
    assert client.post("/api/v1/auth/oidc/exchange", json={"grant": grant}).status_code == 200
    again = client.post("/api/v1/auth/oidc/exchange", json={"grant": grant})
    assert again.status_code == 401
    assert again.json["error"]["code"] == "invalid_grant"
    assert last_refusal(sso_app)["reason"] == "grant expired or reused"


def test_a_grant_expires_after_a_minute(client, sso_app, people, police):
    police.sign_in_as("cst.lee@police.test")
    grant = grant_of(through_provider(client, "police"))
    with sso_app.app_context():
        db.session.execute(update(SignInGrant).values(created_at=utcnow() - timedelta(seconds=61)))
        db.session.commit()
    response = client.post("/api/v1/auth/oidc/exchange", json={"grant": grant})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [{"grant": "made-up"}, {}, {"grant": ""}, {"grant": 5}])
def test_a_bad_grant_body_is_refused(client, body):
    response = client.post("/api/v1/auth/oidc/exchange", json=body)
    assert response.status_code in (401, 422)
    assert "error" in response.json


def test_a_user_deactivated_before_the_exchange_is_refused(client, sso_app, people, police):
    police.sign_in_as("cst.lee@police.test")
    grant = grant_of(through_provider(client, "police"))
    with sso_app.app_context():
        db.session.execute(update(User).where(User.id == people["officer"]).values(active=False))
        db.session.commit()
    assert client.post("/api/v1/auth/oidc/exchange", json={"grant": grant}).status_code == 401


def test_a_provider_only_user_cannot_sign_in_with_a_password(client, sso_app, people, police):
    with sso_app.app_context():
        school_id = make_school().id
        headers = auth(make_user("admin"))
    created = client.post(
        "/api/v1/users",
        json={
            "email": "new.officer@police.test",
            "display_name": "New Officer",
            "role": "officer",
            "school_ids": [school_id],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.json
    assert "password" not in created.json
    for password in ("", PASSWORD, "dummy password for timing equality"):
        response = client.post(
            "/api/v1/auth/login",
            json={"email": "new.officer@police.test", "password": password or "x"},
        )
        assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"
    police.sign_in_as("new.officer@police.test")
    grant = grant_of(through_provider(client, "police"))
    assert client.post("/api/v1/auth/oidc/exchange", json={"grant": grant}).status_code == 200


def test_password_sign_in_still_works_beside_providers(client, people):
    response = client.post(
        "/api/v1/auth/login", json={"email": "cst.lee@police.test", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_a_locked_account_cannot_sign_in_through_a_provider_either(client, sso_app, people, police):
    limit = sso_app.config["LOCKOUT_THRESHOLD"]
    for _ in range(limit):
        client.post(
            "/api/v1/auth/login", json={"email": "cst.lee@police.test", "password": "wrong" * 3}
        )
    police.sign_in_as("cst.lee@police.test")
    grant = grant_of(through_provider(client, "police"))
    response = client.post("/api/v1/auth/oidc/exchange", json={"grant": grant})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "account_locked"


def test_the_cli_creates_a_provider_only_user(sso_app):
    result = sso_app.test_cli_runner().invoke(
        args=["users", "create", "--email", "Chief@Police.test", "--role", "program_manager"]
    )
    assert result.exit_code == 0, result.output
    with sso_app.app_context():
        user = db.session.scalars(select(User).where(User.email == "chief@police.test")).one()
        assert user.password_hash is None


def test_without_providers_a_user_needs_a_password(make_app, monkeypatch):
    monkeypatch.delenv("OIDC_PROVIDERS", raising=False)
    result = (
        make_app()
        .test_cli_runner()
        .invoke(args=["users", "create", "--email", "a@b.test", "--role", "admin"])
    )
    assert result.exit_code != 0
    assert "Give a password" in result.output


def test_grant_exchanges_share_the_sign_in_limit_across_workers(sso_app, make_app):
    """Two workers: the second's limiter memory has seen nothing (reset), so only the
    count kept in the database (shared with password sign-ins) refuses the fourth."""
    settings = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}
    first, second = make_app(**settings), make_app(**settings)
    exchange = "/api/v1/auth/oidc/exchange"
    statuses = [
        first.test_client().post(exchange, json={"grant": f"guess-{n}"}).status_code
        for n in range(3)
    ]
    limiter.reset()  # in one process the two apps share Flask-Limiter's memory
    refused = second.test_client().post(exchange, json={"grant": "guess-3"})
    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"


# --- settings as identity.md spells them -----------------------------------------------------


def _configured(make_app, monkeypatch, settings: dict):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return make_app()


def test_a_dashed_provider_name_reads_its_upper_cased_variables(make_app, monkeypatch, board):
    """'For each NAME (upper-cased): OIDC_<NAME>_ISSUER': school-board is SCHOOL-BOARD (the
    underscore spelling a shell can set is read too)."""
    settings = {"OIDC_PROVIDERS": "school-board", "APP_BASE_URL": "http://localhost"}
    for key, value in provider_env("x", board, LABEL="School Board").items():
        settings[key.replace("OIDC_X_", "OIDC_SCHOOL-BOARD_")] = value
    app = _configured(make_app, monkeypatch, settings)
    [provider] = app.test_client().get("/api/v1/auth/providers").json
    assert provider == {
        "name": "school-board",
        "label": "School Board",
        "start_url": "/auth/oidc/school-board/start",
    }


def test_email_domains_written_with_a_leading_at_sign_are_allowed(make_app, monkeypatch, board):
    settings = {"OIDC_PROVIDERS": "board", "APP_BASE_URL": "http://localhost"}
    settings |= provider_env("board", board, EMAIL_DOMAINS="@board.test, @Other.Test")
    app = _configured(make_app, monkeypatch, settings)
    with app.app_context():
        make_user("school_leader", [make_school()], email="principal@board.test")
    board.sign_in_as("principal@board.test")
    assert grant_of(through_provider(app.test_client(), "board"))


# --- a sign-in belongs to the browser that started it (login CSRF) ----------------------------


def _callback_url(client, name: str) -> str:
    """Start in this browser, pass the provider: the callback link the provider sends back."""
    start = client.get(f"/auth/oidc/{name}/start")
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    return f"{back.path}?{back.query}"


def test_start_ties_the_sign_in_to_the_browser_with_a_cookie_scripts_cannot_read(client, police):
    start = client.get("/auth/oidc/police/start")
    cookie = start.headers["Set-Cookie"]
    assert cookie.startswith("sro_sign_in=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie


def test_a_callback_link_opened_in_another_browser_is_refused(sso_app, people, police):
    """Someone starts a sign-in with their own account and gets another person's browser to
    open the callback: that browser is not signed in as them."""
    with sso_app.app_context():
        make_user("officer", [make_school()], email="mallory@police.test")
    mallory, victor = sso_app.test_client(), sso_app.test_client()
    police.sign_in_as("mallory@police.test")
    link = _callback_url(mallory, "police")
    assert refused_with(victor.get(link)) == "sso_failed"
    assert last_refusal(sso_app)["reason"] == "unknown or reused state"
    assert grant_of(mallory.get(link))  # the browser that started it can still finish


def test_a_grant_exchanged_in_another_browser_is_refused(sso_app, people, police):
    mallory, victor = sso_app.test_client(), sso_app.test_client()
    police.sign_in_as("cst.lee@police.test")
    grant = grant_of(mallory.get(_callback_url(mallory, "police")))
    refused = victor.post("/api/v1/auth/oidc/exchange", json={"grant": grant})
    assert refused.status_code == 401
    assert last_refusal(sso_app)["reason"] == "grant made in another browser"
    taken = mallory.post("/api/v1/auth/oidc/exchange", json={"grant": grant})
    assert taken.status_code == 200
    assert "sro_sign_in=;" in taken.headers["Set-Cookie"]  # forgotten once used


# --- whatever a provider answers, the callback ends at the sign-in page ----------------------


def test_an_id_token_that_is_not_text_goes_back_to_the_sign_in_page(client, people, police):
    police.token = lambda request: _json(
        {"access_token": "a", "token_type": "Bearer", "id_token": {"alg": "none"}}
    )
    police.sign_in_as("cst.lee@police.test")
    assert refused_with(through_provider(client, "police")) == "sso_failed"


@pytest.mark.parametrize("method", ["private_key_jwt", "client_secret_jwt", "tls_client_auth"])
def test_a_provider_without_a_client_secret_method_is_refused_at_start(
    client, sso_app, police, method
):
    police.discovery_odd = {"token_endpoint_auth_methods_supported": [method]}
    assert refused_with(client.get("/auth/oidc/police/start")) == "sso_failed"
    assert "token endpoint method" in last_refusal(sso_app)["reason"]


def test_an_unforeseen_failure_in_the_callback_goes_back_to_the_sign_in_page(
    client, sso_app, people, police, monkeypatch
):
    police.sign_in_as("cst.lee@police.test")
    link = _callback_url(client, "police")

    def broken(*args):
        raise TypeError("an answer in a shape nobody foresaw")

    monkeypatch.setattr("api.services.identity._code_for_claims", broken)
    assert refused_with(client.get(link)) == "sso_failed"
    assert last_refusal(sso_app)["reason"] == "unexpected TypeError"
