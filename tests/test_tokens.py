"""Token lifecycle: rotation, reuse, logout, deactivation, password reset, live scope."""

from sqlalchemy import select

from api.extensions import db
from api.models import RevokedToken, TokenFamily
from tests.factories import (
    PASSWORD,
    activity_body,
    app_context,
    auth,
    make_school,
    make_user,
    post_activity,
    stored,
    tokens_for,
)

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _patch_user(client, admin, user, body):
    response = client.patch(f"/api/v1/users/{user.id}", json=body, headers=auth(admin))
    assert response.status_code == 200, response.json
    return response


# --- rotation and reuse ------------------------------------------------------------------


def test_refresh_returns_new_pair_and_spends_old_refresh(client):
    officer = make_user("officer")
    first = tokens_for(officer)
    response = client.post(REFRESH, headers=bearer(first["refresh_token"]))
    assert response.status_code == 200
    second = response.json
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == officer.id
    assert client.get(ME, headers=bearer(second["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(second["refresh_token"])).status_code == 200
    spent = stored(RevokedToken, _jti(first["refresh_token"]))
    assert (spent.token_type, spent.user_id) == ("refresh", officer.id)
    assert spent.family_id == _claims(first["refresh_token"])["fam"]


def test_refresh_old_token_again_returns_401(client):
    officer = make_user("officer")
    first = tokens_for(officer)
    assert client.post(REFRESH, headers=bearer(first["refresh_token"])).status_code == 200
    reused = client.post(REFRESH, headers=bearer(first["refresh_token"]))
    assert reused.status_code == 401
    assert reused.json["error"]["code"] == "token_revoked"


def test_refresh_reuse_revokes_whole_family_newest_tokens_too(client):
    officer = make_user("officer")
    first = tokens_for(officer)
    second = client.post(REFRESH, headers=bearer(first["refresh_token"])).json
    third = client.post(REFRESH, headers=bearer(second["refresh_token"])).json
    assert client.get(ME, headers=bearer(third["access_token"])).status_code == 200
    # A thief replays the first refresh token: the whole sign-in ends.
    assert client.post(REFRESH, headers=bearer(first["refresh_token"])).status_code == 401
    assert client.get(ME, headers=bearer(third["access_token"])).status_code == 401
    assert client.post(REFRESH, headers=bearer(third["refresh_token"])).status_code == 401
    with app_context():
        family = db.session.scalars(select(TokenFamily)).one()
    assert family.revoked_reason == "refresh_reuse"


def test_refresh_reuse_leaves_other_sign_ins_working(client):
    officer = make_user("officer")
    phone, laptop = tokens_for(officer), tokens_for(officer)
    client.post(REFRESH, headers=bearer(phone["refresh_token"]))
    client.post(REFRESH, headers=bearer(phone["refresh_token"]))
    assert client.get(ME, headers=bearer(laptop["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(laptop["refresh_token"])).status_code == 200


def test_refresh_with_access_token_returns_401(client):
    officer = make_user("officer")
    tokens = tokens_for(officer)
    response = client.post(REFRESH, headers=bearer(tokens["access_token"]))
    assert response.status_code == 401


def test_access_endpoint_with_refresh_token_returns_401(client):
    officer = make_user("officer")
    tokens = tokens_for(officer)
    response = client.get(ME, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 401


def test_login_then_refresh_through_api(client):
    officer = make_user("officer")
    login = client.post("/api/v1/auth/login", json={"email": officer.email, "password": PASSWORD})
    assert login.status_code == 200
    response = client.post(REFRESH, headers=bearer(login.json["refresh_token"]))
    assert response.status_code == 200
    assert client.get(ME, headers=bearer(response.json["access_token"])).status_code == 200


# --- logout ------------------------------------------------------------------------------


def test_logout_with_access_token_revokes_it_and_its_refresh(client):
    officer = make_user("officer")
    tokens = tokens_for(officer)
    response = client.post(LOGOUT, headers=bearer(tokens["access_token"]))
    assert response.status_code == 204
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 401
    revoked = stored(RevokedToken, _jti(tokens["access_token"]))
    # The revoked token is kept with whose it was and which sign-in it belonged to.
    assert (revoked.token_type, revoked.user_id) == ("access", officer.id)
    assert revoked.family_id == _claims(tokens["access_token"])["fam"]
    assert stored(TokenFamily, revoked.family_id).revoked_reason == "logout"


def test_logout_with_refresh_token_revokes_the_sign_in(client):
    officer = make_user("officer")
    tokens = tokens_for(officer)
    response = client.post(LOGOUT, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 204
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 401


def test_logout_leaves_other_sign_ins_working(client):
    officer = make_user("officer")
    phone, laptop = tokens_for(officer), tokens_for(officer)
    client.post(LOGOUT, headers=bearer(phone["access_token"]))
    assert client.get(ME, headers=bearer(laptop["access_token"])).status_code == 200


def test_logout_twice_returns_401(client):
    officer = make_user("officer")
    tokens = tokens_for(officer)
    assert client.post(LOGOUT, headers=bearer(tokens["access_token"])).status_code == 204
    again = client.post(LOGOUT, headers=bearer(tokens["access_token"]))
    assert again.status_code == 401
    assert again.json["error"]["code"] == "token_revoked"


def _claims(token: str) -> dict:
    import jwt as pyjwt

    return pyjwt.decode(token, options={"verify_signature": False})


def _jti(token: str) -> str:
    return _claims(token)["jti"]


# --- admin changes take effect at once ---------------------------------------------------


def test_deactivating_user_revokes_tokens_at_once(client):
    admin, officer = make_user("admin"), make_user("officer")
    tokens = tokens_for(officer)
    _patch_user(client, admin, officer, {"active": False})
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 401
    login = client.post("/api/v1/auth/login", json={"email": officer.email, "password": PASSWORD})
    assert login.status_code == 401


def test_reactivating_user_does_not_revive_old_tokens(client):
    admin, officer = make_user("admin"), make_user("officer")
    tokens = tokens_for(officer)
    _patch_user(client, admin, officer, {"active": False})
    _patch_user(client, admin, officer, {"active": True})
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401
    assert client.get(ME, headers=auth(officer)).status_code == 200


def test_password_reset_revokes_tokens(client):
    admin, officer = make_user("admin"), make_user("officer")
    tokens = tokens_for(officer)
    _patch_user(client, admin, officer, {"password": "a-brand-new-passphrase-42"})
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 401
    old = client.post("/api/v1/auth/login", json={"email": officer.email, "password": PASSWORD})
    assert old.status_code == 401
    new = client.post(
        "/api/v1/auth/login",
        json={"email": officer.email, "password": "a-brand-new-passphrase-42"},
    )
    assert new.status_code == 200


def test_other_user_changes_keep_tokens(client):
    admin, officer = make_user("admin"), make_user("officer")
    headers = auth(officer)
    _patch_user(client, admin, officer, {"display_name": "Cst. Renamed"})
    response = client.get(ME, headers=headers)
    assert response.status_code == 200
    assert response.json["display_name"] == "Cst. Renamed"


def test_school_reassignment_takes_effect_without_new_token(client):
    admin = make_user("admin")
    old_school, new_school = make_school(), make_school()
    officer = make_user("officer", [old_school])
    headers = auth(officer)
    _patch_user(client, admin, officer, {"school_ids": [new_school.id]})
    refused = client.post("/api/v1/activities", json=activity_body(old_school), headers=headers)
    assert refused.status_code == 403
    allowed = client.post("/api/v1/activities", json=activity_body(new_school), headers=headers)
    assert allowed.status_code == 201


def test_leader_reassignment_changes_scope_without_new_token(client):
    admin = make_user("admin")
    north, south = make_school(), make_school()
    officer = make_user("officer", [north])
    leader = make_user("school_leader", [north])
    created = post_activity(client, officer, north)
    headers = auth(leader)
    url = f"/api/v1/activities/{created['id']}"
    assert client.get(url, headers=headers).status_code == 200
    _patch_user(client, admin, leader, {"school_ids": [south.id]})
    assert client.get(url, headers=headers).status_code == 404
    assert client.post(url + "/confirm", json={}, headers=headers).status_code == 404


def test_role_change_takes_effect_without_new_token(client):
    admin = make_user("admin")
    school = make_school()
    officer = make_user("officer", [school])
    headers = auth(officer)
    _patch_user(client, admin, officer, {"role": "program_manager", "school_ids": []})
    response = client.post("/api/v1/activities", json=activity_body(school), headers=headers)
    assert response.status_code == 403
    assert client.get(ME, headers=headers).json["role"] == "program_manager"


def test_promotion_to_admin_takes_effect_without_new_token(client):
    admin, manager = make_user("admin"), make_user("program_manager")
    headers = auth(manager)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    _patch_user(client, admin, manager, {"role": "admin"})
    assert client.get("/api/v1/users", headers=headers).status_code == 200
