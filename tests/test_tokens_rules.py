"""Token rules, each defended a second way: reuse of any spent refresh token in a chain,
deactivation, a signed token without its sign-in, old access tokens after a refresh, and
whether the revocations reach the database (each request here has its own session)."""

import uuid
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select

from api.extensions import db
from api.models import RevokedToken, TokenFamily, User
from tests.factories import PASSWORD, app_context, auth, make_user, stored, tokens_for

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/me"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _rotate(client, tokens: dict, times: int) -> list[dict]:
    """The chain of token pairs a device holds after refreshing `times` times."""
    chain = [tokens]
    for _ in range(times):
        response = client.post(REFRESH, headers=bearer(chain[-1]["refresh_token"]))
        assert response.status_code == 200, response.json
        chain.append(response.json)
    return chain


def _families(user_id: int) -> list[TokenFamily]:
    with app_context():
        query = select(TokenFamily).where(TokenFamily.user_id == user_id)
        return list(db.session.scalars(query.order_by(TokenFamily.created_at)))


# --- refresh reuse, any link of the chain -------------------------------------------------


@pytest.mark.parametrize(
    ("rotations", "replayed"), [(1, 0), (2, 0), (2, 1), (3, 1), (3, 2), (4, 0), (4, 3)]
)
def test_refresh_replay_of_any_spent_token_ends_only_that_sign_in(client, rotations, replayed):
    officer = make_user("officer")
    chain = _rotate(client, tokens_for(officer), rotations)
    other_device = tokens_for(officer)

    response = client.post(REFRESH, headers=bearer(chain[replayed]["refresh_token"]))

    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_revoked"
    newest = chain[-1]
    assert client.get(ME, headers=bearer(newest["access_token"])).status_code == 401
    assert client.post(REFRESH, headers=bearer(newest["refresh_token"])).status_code == 401
    # The revocation was committed: a later request (its own session) reads it back.
    (revoked, live) = sorted(_families(officer.id), key=lambda f: f.revoked_at is None)
    assert revoked.revoked_reason == "refresh_reuse" and revoked.revoked_at is not None
    assert live.revoked_at is None
    assert client.get(ME, headers=bearer(other_device["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(other_device["refresh_token"])).status_code == 200


def test_logout_is_committed_before_the_next_request(client):
    officer = make_user("officer")
    tokens = tokens_for(officer)
    assert client.post(LOGOUT, headers=bearer(tokens["refresh_token"])).status_code == 204
    (family,) = _families(officer.id)
    assert family.revoked_reason == "logout"
    with app_context():
        spent = db.session.scalars(select(RevokedToken.token_type)).all()
    assert spent == ["refresh"]
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401


# --- an access token after a refresh ------------------------------------------------------


def test_access_token_before_a_refresh_works_until_the_sign_in_ends(client):
    """Rotation spends the refresh token only; the device's current access token lives out
    its 15 minutes, unless the sign-in itself is ended."""
    officer = make_user("officer")
    first = tokens_for(officer)
    second = _rotate(client, first, 1)[-1]
    assert client.get(ME, headers=bearer(first["access_token"])).status_code == 200
    assert client.post(LOGOUT, headers=bearer(second["access_token"])).status_code == 204
    assert client.get(ME, headers=bearer(first["access_token"])).status_code == 401
    assert client.get(ME, headers=bearer(second["access_token"])).status_code == 401


# --- a signed token that names no live sign-in ------------------------------------------


def _signed(app, user: User, kind: str, **claims) -> str:
    """A token signed with the app's own key, with exactly the claims given."""
    make = create_access_token if kind == "access" else create_refresh_token
    with app.app_context():
        return make(identity=str(user.id), additional_claims=claims)


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_signed_token_without_family_claim_returns_401(app, client, kind):
    officer = make_user("officer")
    token = _signed(app, officer, kind, gen=officer.token_generation)
    response = (
        client.get(ME, headers=bearer(token))
        if kind == "access"
        else client.post(REFRESH, headers=bearer(token))
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_revoked"


def test_signed_token_naming_an_unknown_family_returns_401(app, client):
    officer = make_user("officer")
    token = _signed(app, officer, "access", gen=officer.token_generation, fam=str(uuid.uuid4()))
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_revoked"


def test_signed_token_of_an_earlier_generation_returns_401(app, client):
    officer = make_user("officer")
    family = tokens_for(officer)  # a live family, so only the generation is wrong
    assert client.get(ME, headers=bearer(family["access_token"])).status_code == 200
    (live,) = _families(officer.id)
    stale = _signed(app, officer, "access", gen=officer.token_generation - 1, fam=live.id)
    assert client.get(ME, headers=bearer(stale)).status_code == 401


@pytest.mark.parametrize("sub", ["abc", "9" * 40, "-1", "١٢"])
def test_signed_token_with_a_subject_we_never_write_returns_401(app, client, sub):
    """Only a leaked signing key could make these; still a 401, never a 500."""
    officer = make_user("officer")
    family = tokens_for(officer)
    (live,) = _families(officer.id)
    with app.app_context():
        claims = {"gen": officer.token_generation, "fam": live.id}
        token = create_access_token(identity=sub, additional_claims=claims)
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_revoked"
    assert client.get(ME, headers=bearer(family["access_token"])).status_code == 200


def test_expired_access_token_returns_401_in_error_shape(make_app):
    app = make_app(JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=-1))
    officer = make_user("officer")
    response = app.test_client().get(ME, headers=auth(officer))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


# --- deactivation, through the stored user --------------------------------------------------


def test_deactivation_ends_every_sign_in_and_sign_in_stays_refused(client):
    admin, officer = make_user("admin"), make_user("officer")
    devices = [tokens_for(officer) for _ in range(3)]
    before = stored(User, officer.id).token_generation
    response = client.patch(
        f"/api/v1/users/{officer.id}", json={"active": False}, headers=auth(admin)
    )
    assert response.status_code == 200
    assert response.json["active"] is False
    after = stored(User, officer.id)
    assert after.active is False and after.token_generation > before
    for tokens in devices:
        assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401
        assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 401
    login = client.post(LOGIN, json={"email": officer.email, "password": PASSWORD})
    assert login.status_code == 401
    assert login.json["error"]["code"] == "invalid_credentials"
