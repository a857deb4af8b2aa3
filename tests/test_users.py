"""Admin management of users: create, read, change, school assignments, password policy."""

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import AuditEvent, User
from tests.factories import PASSWORD, app_context, auth, count, make_school, make_user, stored

URL = "/api/v1/users"
GOOD_PASSWORD = "a-long-enough-passphrase-7"


@pytest.fixture
def admin(app):
    return make_user("admin")


def _body(**overrides) -> dict:
    return {
        "email": "new.officer@example.org",
        "display_name": "Cst. New",
        "role": "officer",
        "password": GOOD_PASSWORD,
    } | overrides


def _users() -> int:
    return count(User)


# --- create ------------------------------------------------------------------------------


def test_create_user_admin_returns_201_without_password(client, admin):
    north, south = make_school(), make_school()
    response = client.post(URL, json=_body(school_ids=[south.id, north.id]), headers=auth(admin))
    assert response.status_code == 201
    user = response.json
    assert user["email"] == "new.officer@example.org"
    assert user["role"] == "officer"
    assert user["active"] is True
    assert user["school_ids"] == sorted([north.id, south.id])
    assert user["version"] == 1
    assert "password" not in user and "password_hash" not in user
    assert response.headers["ETag"] == '"1"'
    saved = stored(User, user["id"])
    assert saved.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in saved.password_hash


def test_create_user_email_is_stored_lowercase(client, admin):
    response = client.post(URL, json=_body(email="Mixed.Case@Example.ORG"), headers=auth(admin))
    assert response.status_code == 201
    assert response.json["email"] == "mixed.case@example.org"


def test_create_user_new_user_can_sign_in(client, admin):
    client.post(URL, json=_body(), headers=auth(admin))
    response = client.post(
        "/api/v1/auth/login", json={"email": "new.officer@example.org", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "email", ["existing@example.org", "EXISTING@example.org", "Existing@Example.Org"]
)
def test_create_user_duplicate_email_any_case_returns_409(client, admin, email):
    make_user("officer", email="existing@example.org")
    before = _users()
    response = client.post(URL, json=_body(email=email), headers=auth(admin))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "email_taken"
    assert _users() == before


@pytest.mark.parametrize("role", ["officer", "school_leader"])
def test_create_user_school_ids_allowed_for_scoped_roles(client, admin, role):
    school = make_school()
    response = client.post(URL, json=_body(role=role, school_ids=[school.id]), headers=auth(admin))
    assert response.status_code == 201
    assert response.json["school_ids"] == [school.id]


@pytest.mark.parametrize("role", ["program_manager", "admin"])
def test_create_user_school_ids_for_unscoped_role_returns_422(client, admin, role):
    school = make_school()
    before = _users()
    response = client.post(URL, json=_body(role=role, school_ids=[school.id]), headers=auth(admin))
    assert response.status_code == 422
    assert "school_ids" in response.json["error"]["details"]
    assert _users() == before


def test_create_user_unknown_school_returns_422(client, admin):
    response = client.post(URL, json=_body(school_ids=[424242]), headers=auth(admin))
    assert response.status_code == 422
    assert "school_ids" in response.json["error"]["details"]


@pytest.mark.parametrize(
    "password",
    ["short-pw-1", "password1234", "PASSWORD1234", "qwerty123456", "aaaaaaaaaaaaaaaa", "x" * 129],
    ids=["short", "common", "common_upper", "common_keyboard", "one_char", "too_long"],
)
def test_create_user_weak_password_returns_422(client, admin, password):
    before = _users()
    response = client.post(URL, json=_body(password=password), headers=auth(admin))
    assert response.status_code == 422
    assert "password" in response.json["error"]["details"]
    assert _users() == before


TOO_SHORT = "Use at least 12 characters."
TOO_COMMON = "This password is too common; choose a longer passphrase."


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("eleven-char", [TOO_SHORT]),
        ("Password1234", [TOO_COMMON]),
        ("abababababab", [TOO_COMMON]),
        ("zzzzzz", [TOO_SHORT, TOO_COMMON]),
    ],
    ids=["short", "common_any_case", "two_chars", "short_and_one_char"],
)
def test_create_user_weak_password_says_why(client, admin, password, problems):
    response = client.post(URL, json=_body(password=password), headers=auth(admin))
    assert response.status_code == 422
    assert response.json["error"] == {
        "code": "validation_error",
        "message": "The password is not acceptable.",
        "details": {"password": problems},
    }


@pytest.mark.parametrize(
    "password",
    ["twelve-chars", "abcabcabcabc", ("long passphrase " * 8)[:128]],
    ids=["shortest", "three_chars", "longest"],
)
def test_create_user_password_at_the_limits_is_accepted_and_signs_in(client, admin, password):
    response = client.post(URL, json=_body(password=password), headers=auth(admin))
    assert response.status_code == 201, response.json
    login = client.post(
        "/api/v1/auth/login", json={"email": response.json["email"], "password": password}
    )
    assert login.status_code == 200


def test_cli_create_user_password_over_the_limit_is_refused_saying_why(runner):
    # The command line reads its input with the API's schema, then the policy.
    password = ("long passphrase " * 9)[:129]
    args = ["users", "create", "--email", "first@example.org", "--role", "admin"]
    result = runner.invoke(args=[*args, "--password", password])
    assert result.exit_code == 1
    assert "password: Longer than maximum length 128." in result.output
    assert count(User, User.email == "first@example.org") == 0
    result = runner.invoke(args=[*args, "--password", password[:128]])
    assert result.exit_code == 0, result.output
    assert count(User, User.email == "first@example.org") == 1


def test_create_user_long_passphrase_without_composition_rules_is_accepted(client, admin):
    response = client.post(
        URL, json=_body(password="correct horse battery staple tuesday"), headers=auth(admin)
    )
    assert response.status_code == 201


@pytest.mark.parametrize("role", ["officer", "school_leader", "program_manager"])
def test_create_user_non_admin_returns_403(client, role):
    caller = make_user(role)
    before = _users()
    response = client.post(URL, json=_body(), headers=auth(caller))
    assert response.status_code == 403
    assert _users() == before


BAD_USERS = {
    "email_invalid": {"email": "not-an-email"},
    "role_enum": {"role": "superuser"},
    "display_name_empty": {"display_name": ""},
    "display_name_too_long": {"display_name": "x" * 121},
    "unknown_field": {"nickname": "Bob"},
    "password_hash": {"password_hash": "$argon2id$v=19$m=65536,t=3,p=4$abc$def"},
    "id": {"id": 7},
    "version": {"version": 2},
    "created_at": {"created_at": "2025-01-01T00:00:00+00:00"},
    "token_generation": {"token_generation": 3},
    "school_ids_not_list": {"school_ids": 3},
    "school_id_zero": {"school_ids": [0]},
    "active_not_bool": {"active": "yes please"},
}


@pytest.mark.parametrize("change", BAD_USERS.values(), ids=list(BAD_USERS))
def test_create_user_bad_input_returns_422(client, admin, change):
    before = _users()
    response = client.post(URL, json=_body(**change), headers=auth(admin))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    fields = {key.split(".")[0] for key in response.json["error"]["details"]}
    assert set(change) <= fields
    assert _users() == before


@pytest.mark.parametrize("field", ["email", "display_name", "role", "password"])
def test_create_user_missing_required_returns_422(client, admin, field):
    body = _body()
    del body[field]
    response = client.post(URL, json=body, headers=auth(admin))
    assert response.status_code == 422
    assert field in response.json["error"]["details"]


# --- list and read -----------------------------------------------------------------------


def test_list_users_admin_returns_all_without_hashes(client, admin):
    make_user("officer")
    make_user("school_leader")
    response = client.get(URL, headers=auth(admin))
    assert response.status_code == 200
    assert len(response.json["items"]) == 3
    assert "password_hash" not in response.get_data(as_text=True)
    assert "argon2" not in response.get_data(as_text=True)


def test_list_users_walks_pages(client, admin):
    for _ in range(8):
        make_user("officer")
    seen, cursor = [], None
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = client.get(URL, query_string=query, headers=auth(admin))
        assert response.status_code == 200
        seen += [u["id"] for u in response.json["items"]]
        cursor = response.json["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 9


@pytest.mark.parametrize("role", ["officer", "school_leader", "program_manager"])
def test_list_users_non_admin_returns_403(client, role):
    response = client.get(URL, headers=auth(make_user(role)))
    assert response.status_code == 403


def test_get_user_admin_returns_200_with_etag(client, admin):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.get(f"{URL}/{officer.id}", headers=auth(admin))
    assert response.status_code == 200
    assert response.json["email"] == officer.email
    assert response.json["school_ids"] == [school.id]
    assert response.headers["ETag"] == '"1"'


@pytest.mark.parametrize("role", ["officer", "school_leader", "program_manager"])
def test_get_user_non_admin_returns_403_even_for_self(client, role):
    caller = make_user(role)
    response = client.get(f"{URL}/{caller.id}", headers=auth(caller))
    assert response.status_code == 403


def test_get_user_unknown_returns_404(client, admin):
    response = client.get(f"{URL}/424242", headers=auth(admin))
    assert response.status_code == 404


# --- update ------------------------------------------------------------------------------


def test_patch_user_with_if_match_returns_200(client, admin):
    north, south = make_school(), make_school()
    officer = make_user("officer", [north])
    response = client.patch(
        f"{URL}/{officer.id}",
        json={"display_name": "Cst. Moved", "school_ids": [south.id]},
        headers=auth(admin) | {"If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.json["display_name"] == "Cst. Moved"
    assert response.json["school_ids"] == [south.id]
    assert response.json["version"] == 2
    assert response.headers["ETag"] == '"2"'


def test_patch_user_stale_if_match_returns_412(client, admin):
    officer = make_user("officer")
    client.patch(f"{URL}/{officer.id}", json={"display_name": "One"}, headers=auth(admin))
    response = client.patch(
        f"{URL}/{officer.id}",
        json={"display_name": "Two"},
        headers=auth(admin) | {"If-Match": '"1"'},
    )
    assert response.status_code == 412
    assert stored(User, officer.id).display_name == "One"


def test_patch_user_email_taken_any_case_returns_409(client, admin):
    make_user("officer", email="taken@example.org")
    officer = make_user("officer")
    response = client.patch(
        f"{URL}/{officer.id}", json={"email": "TAKEN@example.org"}, headers=auth(admin)
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "email_taken"


def test_patch_user_own_email_other_case_is_fine(client, admin):
    officer = make_user("officer", email="cst.lee@example.org")
    response = client.patch(
        f"{URL}/{officer.id}", json={"email": "Cst.Lee@example.org"}, headers=auth(admin)
    )
    assert response.status_code == 200
    assert response.json["email"] == "cst.lee@example.org"
    assert response.json["version"] == 1


def test_patch_user_role_to_manager_drops_schools(client, admin):
    officer = make_user("officer", [make_school()])
    response = client.patch(
        f"{URL}/{officer.id}", json={"role": "program_manager"}, headers=auth(admin)
    )
    assert response.status_code == 200
    assert response.json["role"] == "program_manager"
    assert response.json["school_ids"] == []


@pytest.mark.parametrize("role", ["program_manager", "admin"])
def test_patch_user_school_ids_for_unscoped_role_returns_422(client, admin, role):
    school = make_school()
    user = make_user(role)
    response = client.patch(
        f"{URL}/{user.id}", json={"school_ids": [school.id]}, headers=auth(admin)
    )
    assert response.status_code == 422
    assert "school_ids" in response.json["error"]["details"]


@pytest.mark.parametrize("password", ["password1234", ""])
def test_patch_user_weak_password_returns_422_and_keeps_old(client, admin, password):
    officer = make_user("officer")
    old_hash = officer.password_hash
    response = client.patch(f"{URL}/{officer.id}", json={"password": password}, headers=auth(admin))
    assert response.status_code == 422
    assert "password" in response.json["error"]["details"]
    assert stored(User, officer.id).password_hash == old_hash


def test_patch_user_password_reset_allows_new_password(client, admin):
    officer = make_user("officer")
    response = client.patch(
        f"{URL}/{officer.id}", json={"password": GOOD_PASSWORD}, headers=auth(admin)
    )
    assert response.status_code == 200
    assert "password" not in response.json
    login = client.post("/api/v1/auth/login", json={"email": officer.email, "password": PASSWORD})
    assert login.status_code == 401


@pytest.mark.parametrize("role", ["officer", "school_leader", "program_manager"])
def test_patch_user_non_admin_returns_403(client, role):
    caller = make_user(role)
    response = client.patch(f"{URL}/{caller.id}", json={"role": "admin"}, headers=auth(caller))
    assert response.status_code == 403
    assert stored(User, caller.id).role == role


def test_patch_user_unknown_returns_404(client, admin):
    response = client.patch(f"{URL}/424242", json={"active": False}, headers=auth(admin))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"password_hash": "x"}, {"id": 3}, {"version": 9}, {"role": "boss"}, {"email": "nope"}],
    ids=["password_hash", "id", "version", "role_enum", "email_invalid"],
)
def test_patch_user_bad_input_returns_422(client, admin, body):
    officer = make_user("officer")
    response = client.patch(f"{URL}/{officer.id}", json=body, headers=auth(admin))
    assert response.status_code == 422
    assert set(body) <= set(response.json["error"]["details"])


def test_patch_user_change_is_audited_without_password(app, client, admin):
    officer = make_user("officer")
    client.patch(
        f"{URL}/{officer.id}",
        json={"role": "school_leader", "password": GOOD_PASSWORD},
        headers=auth(admin),
    )
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == "user_update")
        event = db.session.scalars(query).one()
    assert event.actor_id == admin.id
    assert event.target_id == str(officer.id)
    assert event.changes["role"] == ["officer", "school_leader"]
    assert event.changes["password"] == "reset"
    assert GOOD_PASSWORD not in str(event.changes)


# --- what each refusal says ---------------------------------------------------------------


def _error(response) -> tuple:
    error = response.json["error"]
    return response.status_code, error["code"], error["message"], error.get("details")


def test_refusals_say_what_is_wrong_in_words(client, admin):
    make_user("officer", email="taken@example.org")
    manager = make_user("program_manager")
    assert _error(client.post(URL, json=_body(email="Taken@example.org"), headers=auth(admin)))[
        :3
    ] == (409, "email_taken", "A user with this email already exists.")
    school = make_school()
    unscoped = client.patch(
        f"{URL}/{manager.id}", json={"school_ids": [school.id]}, headers=auth(admin)
    )
    assert _error(unscoped) == (
        422,
        "validation_error",
        "Only officers and school leaders are assigned to schools.",
        {"school_ids": ["Must be empty for this role."]},
    )
    unknown = client.post(URL, json=_body(school_ids=[424242, school.id]), headers=auth(admin))
    assert _error(unknown) == (
        422,
        "validation_error",
        "Some schools do not exist.",
        {"school_ids": ["No school with id 424242."]},
    )
    no_password = {k: v for k, v in _body().items() if k != "password"}
    assert _error(client.post(URL, json=no_password, headers=auth(admin))) == (
        422,
        "validation_error",
        "Give a password: no identity provider is configured to sign this user in.",
        {"password": ["Missing data for required field."]},
    )


def test_patch_user_name_keeps_the_officers_schools(client, admin):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.patch(
        f"{URL}/{officer.id}", json={"display_name": "Cst. Renamed"}, headers=auth(admin)
    )
    assert response.status_code == 200
    assert response.json["school_ids"] == [school.id]
    assert stored(User, officer.id).school_ids == [school.id]


def test_patch_user_naming_a_school_twice_changes_nothing(client, admin):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.patch(
        f"{URL}/{officer.id}", json={"school_ids": [school.id, school.id]}, headers=auth(admin)
    )
    assert response.status_code == 200
    assert (response.json["school_ids"], response.json["version"]) == ([school.id], 1)


def test_every_deactivation_ends_the_sign_ins_made_before_it(client, admin):
    """Deactivated, reactivated, signed in again, deactivated again: the second sign-in's
    tokens stop working too (each deactivation moves the token generation on)."""
    officer = make_user("officer")
    url = f"{URL}/{officer.id}"
    for active in (False, True):
        client.patch(url, json={"active": active}, headers=auth(admin))
    headers = auth(stored(User, officer.id))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    client.patch(url, json={"active": False}, headers=auth(admin))
    client.patch(url, json={"active": True}, headers=auth(admin))
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert stored(User, officer.id).token_generation == 2


def test_cli_created_user_is_active_and_signs_in(runner, client):
    args = ["users", "create", "--email", "cli@example.org", "--role", "admin"]
    assert runner.invoke(args=[*args, "--password", GOOD_PASSWORD]).exit_code == 0
    assert stored(User, _id_of("cli@example.org")).active is True
    body = {"email": "cli@example.org", "password": GOOD_PASSWORD}
    assert client.post("/api/v1/auth/login", json=body).status_code == 200


def _id_of(email: str) -> int:
    with app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


# --- the last admin ---------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"active": False}, {"role": "program_manager"}])
def test_the_last_active_admin_cannot_be_deactivated_or_demoted(client, admin, change):
    """Nobody could manage accounts afterwards: a 409 that says what to do first."""
    response = client.patch(f"{URL}/{admin.id}", json=change, headers=auth(admin))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "last_admin"
    assert stored(User, admin.id).active and stored(User, admin.id).role == "admin"


def test_an_admin_can_be_deactivated_while_another_active_admin_remains(client, admin):
    other = make_user("admin")
    make_user("admin", active=False)  # an inactive admin manages nothing

    response = client.patch(f"{URL}/{other.id}", json={"active": False}, headers=auth(admin))
    assert response.status_code == 200
    response = client.patch(f"{URL}/{admin.id}", json={"role": "officer"}, headers=auth(admin))
    assert response.status_code == 409


def test_an_inactive_admin_can_be_changed_when_no_other_admin_is_active(client, admin):
    inactive = make_user("admin", active=False)

    response = client.patch(f"{URL}/{inactive.id}", json={"role": "officer"}, headers=auth(admin))
    assert response.status_code == 200
