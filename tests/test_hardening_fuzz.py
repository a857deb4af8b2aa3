"""Bad input is never a 5xx (issue 13): numbers and times Python cannot hold, sent in every
field of every JSON body the OpenAPI document describes, and in every If-Match header it
documents, as a signed-in admin and officer. Schemathesis's generators stay within what
Python can represent; these do not."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import auth, make_school, make_user, post_activity

BODY_MARK = "__VALUE__"


def _operations(client) -> list[tuple[str, str, list[str]]]:
    """(method, path, body field names) of every operation that takes a JSON body."""
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not body:
                continue
            schema = body["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            found.append((method.upper(), path, sorted(schema.get("properties", {})) or ["x"]))
    return found


def _huge_integer(digits: int, negative: bool) -> str:
    return ("-" if negative else "") + "9" * digits


def _extreme_time(year: int, offset_minutes: int) -> str:
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return json.dumps(f"{year:04d}-12-31T23:59:59{sign}{hours:02d}:{minutes:02d}")


VALUES = st.one_of(
    st.builds(_huge_integer, st.integers(19, 6000), st.booleans()),
    st.builds(_extreme_time, st.sampled_from([1, 2, 9998, 9999]), st.integers(-1439, 1439)),
    st.builds(lambda n: f"1e{n}", st.integers(300, 5000)),
)


@pytest.fixture
def world(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    school = make_school()
    officer = make_user("officer", [school])
    headers = {"officer": auth(officer), "admin": auth(make_user("admin"))}
    client = app.test_client()
    activity = post_activity(client, officer, school)
    return client, headers, activity["id"], school.id


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_body_field_with_number_or_time_python_cannot_hold_is_never_a_5xx(world, data):
    client, headers, activity_id, school_id = world
    method, path, fields = data.draw(st.sampled_from(_operations(client)))
    field = data.draw(st.sampled_from(fields))
    value = data.draw(VALUES)
    body = json.dumps({field: BODY_MARK}).replace(json.dumps(BODY_MARK), value)
    if path == "/api/v1/sync/push" and field == "mutations":
        item = f'{{"op": "upsert", "mutation_id": "{activity_id}", "activity_id": "{activity_id}"'
        item += f', "base_version": 1, "data": {{"started_at": {value}}}}}'
        body = f'{{"device_id": "{activity_id}", "mutations": [{item}]}}'
    url = path.replace("{activity_id}", activity_id).replace("{school_id}", str(school_id))
    url = url.replace("{user_id}", "1")
    for role in ("officer", "admin"):
        response = client.open(
            url, method=method, data=body, content_type="application/json", headers=headers[role]
        )
        assert response.status_code < 500, (method, url, body[:200], response.json)
        assert "error" in response.json or response.status_code < 300


def _conditional_operations(client) -> list[tuple[str, str]]:
    """(method, path) of every operation that documents an If-Match header."""
    document = client.get("/api/v1/openapi.json").json
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
        and any(p.get("name") == "If-Match" for p in operation.get("parameters", []))
    ]


# What a header can carry: Latin-1 without control characters, so "²" and "¹" too (digits
# to str.isdigit(), not to int()).
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
)
TAGS = st.one_of(
    st.builds(_huge_integer, st.integers(19, 6000), st.just(False)),
    HEADER_TEXT.map(lambda text: f'"{text}"'),
    HEADER_TEXT,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_if_match_header_is_never_a_5xx(world, data):
    client, headers, activity_id, school_id = world
    method, path = data.draw(st.sampled_from(_conditional_operations(client)))
    tag = data.draw(TAGS)
    url = path.replace("{activity_id}", activity_id).replace("{school_id}", str(school_id))
    url = url.replace("{user_id}", "1").replace("{round_id}", "1")
    for role in ("officer", "admin"):
        response = client.open(
            url, method=method, json={}, headers=headers[role] | {"If-Match": tag.strip()}
        )
        assert response.status_code < 500, (method, url, tag[:40], response.json)
