"""Schools and categories: who sees which, and admin changes."""

import pytest

from api.extensions import db
from api.models import AuditEvent, School
from api.services.activities import encode_cursor
from tests.factories import app_context, auth, count, make_school, make_user, stored

URL = "/api/v1/schools"


@pytest.fixture
def world(app):
    north, south, east = make_school(name="North"), make_school(name="South"), make_school()
    return {
        "north": north,
        "south": south,
        "east": east,
        "officer": make_user("officer", [north, south]),
        "leader": make_user("school_leader", [south]),
        "manager": make_user("program_manager"),
        "admin": make_user("admin"),
    }


def _names(response) -> set[str]:
    return {s["name"] for s in response.json["items"]}


# --- categories --------------------------------------------------------------------------


def test_categories_returns_the_five_with_key_label_description(client):
    response = client.get("/api/v1/categories", headers=auth(make_user("officer")))
    assert response.status_code == 200
    items = response.json["items"]
    assert [c["key"] for c in items] == [
        "education",
        "counselling",
        "mediation",
        "emergency_response",
        "community_referral",
    ]
    assert [c["label"] for c in items] == [
        "Education",
        "Counselling",
        "Mediation",
        "Emergency response",
        "Community referral",
    ]
    assert all(c["description"] and set(c) == {"key", "label", "description"} for c in items)


def test_categories_page_like_every_list(client):
    headers = auth(make_user("officer"))
    first = client.get("/api/v1/categories?limit=2", headers=headers)
    assert [c["key"] for c in first.json["items"]] == ["education", "counselling"]
    keys, cursor = [], first.json["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/categories?limit=2&cursor={cursor}", headers=headers).json
        keys += [c["key"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert keys == ["mediation", "emergency_response", "community_referral"]
    assert client.get("/api/v1/categories", headers=headers).json["next_cursor"] is None
    for bad in ("limit=0", "limit=501", "limit=abc", "cursor=garbage", "cursor=WyJub3BlIl0"):
        response = client.get(f"/api/v1/categories?{bad}", headers=headers)
        assert response.status_code == 422, bad
        assert response.json["error"]["code"] == "validation_error"


# --- list and read -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("officer", {"North", "South"}),
        ("leader", {"South"}),
        ("manager", {"North", "South", "East"}),
        ("admin", {"North", "South", "East"}),
    ],
)
def test_list_schools_scoped_per_role(client, world, role, expected):
    with app_context():
        db.session.get(School, world["east"].id).name = "East"
        db.session.commit()
    response = client.get(URL, headers=auth(world[role]))
    assert response.status_code == 200
    assert _names(response) == expected
    assert response.json["next_cursor"] is None


def test_list_schools_officer_without_assignment_sees_none(client):
    make_school()
    response = client.get(URL, headers=auth(make_user("officer")))
    assert response.status_code == 200
    assert response.json["items"] == []


def test_list_schools_walks_pages(client):
    made = {make_school().id for _ in range(12)}
    admin = make_user("admin")
    seen, cursor = [], None
    while True:
        query = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        response = client.get(URL, query_string=query, headers=auth(admin))
        assert response.status_code == 200
        seen += [s["id"] for s in response.json["items"]]
        cursor = response.json["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == made


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 501},
        {"cursor": "@@@"},
        {"cursor": encode_cursor(["x"])},
        {"cursor": encode_cursor([2**40])},
        {"cursor": encode_cursor([True])},
        {"cursor": encode_cursor([1, 2])},
    ],
    ids=["limit_zero", "limit_big", "garbage", "text_id", "huge_id", "bool_id", "two_values"],
)
def test_list_schools_bad_query_returns_422(client, world, query):
    response = client.get(URL, query_string=query, headers=auth(world["admin"]))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_get_school_visible_returns_200_with_etag(client, world):
    response = client.get(f"{URL}/{world['south'].id}", headers=auth(world["leader"]))
    assert response.status_code == 200
    assert response.json["name"] == "South"
    assert response.json["level"] == "junior_high"
    assert response.json["active"] is True
    assert response.headers["ETag"] == '"1"'


@pytest.mark.parametrize("role", ["officer", "leader"])
def test_get_school_not_assigned_returns_404(client, world, role):
    response = client.get(f"{URL}/{world['east'].id}", headers=auth(world[role]))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_get_school_unknown_returns_404(client, world):
    response = client.get(f"{URL}/99999", headers=auth(world["admin"]))
    assert response.status_code == 404


@pytest.mark.parametrize("school_id", ["0", "-1", "abc", "99999999999"])
def test_get_school_malformed_id_returns_404(client, world, school_id):
    response = client.get(f"{URL}/{school_id}", headers=auth(world["admin"]))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


# --- create ------------------------------------------------------------------------------


def test_create_school_admin_returns_201(client, world):
    body = {"name": "Westmount Junior High", "code": "WJH-01", "level": "junior_high"}
    response = client.post(URL, json=body, headers=auth(world["admin"]))
    assert response.status_code == 201
    assert response.json["name"] == body["name"]
    assert response.json["code"] == "WJH-01"
    assert response.json["active"] is True
    assert response.json["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert stored(School, response.json["id"]).code == "WJH-01"
    with app_context():
        audit = db.session.query(AuditEvent).filter_by(action="school_create").one()
    assert audit.actor_id == world["admin"].id


@pytest.mark.parametrize("role", ["officer", "leader", "manager"])
def test_create_school_non_admin_returns_403(client, world, role):
    body = {"name": "Nope", "code": "NOPE", "level": "other"}
    response = client.post(URL, json=body, headers=auth(world[role]))
    assert response.status_code == 403
    assert count(School, School.code == "NOPE") == 0


def test_create_school_duplicate_code_returns_409(client, world):
    body = {"name": "Copy", "code": world["north"].code, "level": "other"}
    response = client.post(URL, json=body, headers=auth(world["admin"]))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "code_taken"


BAD_SCHOOLS = {
    "missing_name": {"code": "A1", "level": "other"},
    "missing_code": {"name": "A", "level": "other"},
    "missing_level": {"name": "A", "code": "A1"},
    "level_enum": {"name": "A", "code": "A1", "level": "university"},
    "code_chars": {"name": "A", "code": "A 1;", "level": "other"},
    "code_too_long": {"name": "A", "code": "A" * 33, "level": "other"},
    "name_empty": {"name": "", "code": "A1", "level": "other"},
    "name_too_long": {"name": "A" * 201, "code": "A1", "level": "other"},
    "unknown_field": {"name": "A", "code": "A1", "level": "other", "city": "Edmonton"},
    "id": {"id": 5, "name": "A", "code": "A1", "level": "other"},
    "version": {"version": 3, "name": "A", "code": "A1", "level": "other"},
    "active_not_bool": {"name": "A", "code": "A1", "level": "other", "active": "maybe"},
}


@pytest.mark.parametrize("body", BAD_SCHOOLS.values(), ids=list(BAD_SCHOOLS))
def test_create_school_bad_input_returns_422(client, world, body):
    response = client.post(URL, json=body, headers=auth(world["admin"]))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["details"]
    assert count(School, School.code == "A1") == 0


def test_create_school_malformed_json_returns_422(client, world):
    response = client.post(
        URL, data="{]", content_type="application/json", headers=auth(world["admin"])
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_json"
    assert count(School) == 3


# --- update ------------------------------------------------------------------------------


def test_patch_school_with_if_match_returns_200_and_new_etag(client, world):
    response = client.patch(
        f"{URL}/{world['north'].id}",
        json={"name": "North Senior High", "level": "senior_high", "active": False},
        headers=auth(world["admin"]) | {"If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.json["name"] == "North Senior High"
    assert response.json["level"] == "senior_high"
    assert response.json["active"] is False
    assert response.json["version"] == 2
    assert response.headers["ETag"] == '"2"'


def test_patch_school_stale_if_match_returns_412(client, world):
    url = f"{URL}/{world['north'].id}"
    client.patch(url, json={"name": "First"}, headers=auth(world["admin"]))
    response = client.patch(
        url, json={"name": "Second"}, headers=auth(world["admin"]) | {"If-Match": '"1"'}
    )
    assert response.status_code == 412
    assert client.get(url, headers=auth(world["admin"])).json["name"] == "First"


def test_patch_school_to_taken_code_returns_409(client, world):
    response = client.patch(
        f"{URL}/{world['north'].id}",
        json={"code": world["south"].code},
        headers=auth(world["admin"]),
    )
    assert response.status_code == 409
    kept = stored(School, world["north"].id)
    assert (kept.code, kept.version) == (world["north"].code, 1)


def test_patch_school_same_code_is_fine(client, world):
    response = client.patch(
        f"{URL}/{world['north'].id}",
        json={"code": world["north"].code},
        headers=auth(world["admin"]),
    )
    assert response.status_code == 200
    assert response.json["version"] == 1


@pytest.mark.parametrize("role", ["officer", "leader", "manager"])
def test_patch_school_non_admin_returns_403(client, world, role):
    response = client.patch(
        f"{URL}/{world['south'].id}", json={"name": "Mine now"}, headers=auth(world[role])
    )
    assert response.status_code == 403
    assert stored(School, world["south"].id).name == "South"


def test_patch_school_unknown_returns_404(client, world):
    response = client.patch(f"{URL}/99999", json={"name": "X"}, headers=auth(world["admin"]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"level": "college"}, {"id": 9}, {"version": 2}, {"name": ""}, {"colour": "red"}],
    ids=["level_enum", "id", "version", "empty_name", "unknown"],
)
def test_patch_school_bad_input_returns_422(client, world, body):
    response = client.patch(f"{URL}/{world['north'].id}", json=body, headers=auth(world["admin"]))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


@pytest.mark.parametrize("again", ["rjh", "Rjh", "RJH"])
def test_create_school_code_taken_in_any_case_returns_409(client, again):
    admin = make_user("admin")
    body = {"name": "Riverbend Junior High", "code": "RJH", "level": "junior_high"}
    assert client.post(URL, json=body, headers=auth(admin)).status_code == 201
    response = client.post(URL, json=body | {"code": again}, headers=auth(admin))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "code_taken"


def test_patch_school_code_to_another_schools_in_other_case_returns_409(client):
    admin = make_user("admin")
    make_school(code="RJH")
    school = make_school(code="EL01")
    response = client.patch(f"{URL}/{school.id}", json={"code": "rjh"}, headers=auth(admin))
    assert response.status_code == 409


def test_patch_school_code_own_in_other_case_is_allowed(client):
    admin = make_user("admin")
    school = make_school(code="RJH")
    response = client.patch(f"{URL}/{school.id}", json={"code": "rjh"}, headers=auth(admin))
    assert response.status_code == 200
    assert response.json["code"] == "rjh"
