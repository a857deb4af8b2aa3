"""One error shape for every status, also for errors raised outside our views."""

import io
import uuid

import pytest
from sqlalchemy.exc import OperationalError

from tests.factories import activity_body, auth, make_school, make_user


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    assert all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(m, str) for m in v)
        for k, v in error["details"].items()
    )
    return error


def test_unknown_api_path_returns_404_in_error_shape(client):
    response = client.get("/api/v1/no-such-thing")
    assert_error_shape(response, 404, "not_found")


def test_unknown_nested_api_path_returns_404_in_error_shape(client):
    user = make_user("admin")
    response = client.get(f"/api/v1/activities/{uuid.uuid4()}/nothing", headers=auth(user))
    assert_error_shape(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/categories"),
        ("put", "/api/v1/activities"),
        ("get", "/api/v1/auth/login"),
        ("put", "/api/v1/activities/00000000-0000-4000-8000-000000000000"),
        ("delete", "/api/v1/me"),
    ],
)
def test_wrong_method_returns_405_in_error_shape_with_allow(client, method, path):
    response = getattr(client, method)(path)
    assert_error_shape(response, 405, "method_not_allowed")
    assert response.headers["Allow"]


def test_oversized_body_returns_413_in_error_shape(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    school = make_school()
    officer = make_user("officer", [school])
    body = activity_body(school, summary="x" * 400) | {"padding": "y" * 2000}
    response = app.test_client().post("/api/v1/activities", json=body, headers=auth(officer))
    assert_error_shape(response, 413, "payload_too_large")


def test_oversized_login_body_returns_413_in_error_shape(make_app):
    app = make_app(MAX_CONTENT_LENGTH=256)
    response = app.test_client().post(
        "/api/v1/auth/login", json={"email": "a@example.org", "password": "p" * 1000}
    )
    assert_error_shape(response, 413, "payload_too_large")


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/sync/push"])
def test_oversized_streamed_body_returns_413_not_a_cut_body(make_app, path):
    """A chunked body (no Content-Length, as a server that ends the stream hands it over)
    beyond the limit is a 413, like a declared one; werkzeug alone would cut it short."""
    client = make_app(MAX_CONTENT_LENGTH=256).test_client()

    def streamed(body: bytes):
        return client.post(
            path,
            input_stream=io.BytesIO(body),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )

    assert_error_shape(streamed(b'{"email": "' + b"a" * 1000 + b'"}'), 413, "payload_too_large")
    at_limit = b'{"email": "' + b"a" * (256 - 13) + b'"}'
    assert len(at_limit) == 256
    assert streamed(at_limit).status_code != 413  # read whole: a body as large as allowed
    assert_error_shape(streamed(at_limit + b" "), 413, "payload_too_large")
    small = streamed(b'{"email": "a@example.org", "password": "wrong-password-1"}')
    assert_error_shape(small, 401)  # read whole: a wrong password, or no token


def test_unhandled_exception_returns_500_without_details(make_app):
    app = make_app()

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals: /etc/passwd line 42")

    response = app.test_client().get("/api/v1/boom")
    error = assert_error_shape(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "secret internals" not in text
    assert "Traceback" not in text
    assert error["details"] == {}  # nothing of the failure leaks


def test_database_failure_returns_503_in_error_shape(make_app):
    app = make_app()

    @app.get("/api/v1/db-down")
    def db_down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    response = app.test_client().get("/api/v1/db-down")
    assert_error_shape(response, 503, "service_unavailable")
    assert "connection refused" not in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


def test_abort_in_plain_flask_route_uses_error_shape(make_app):
    from flask import abort

    app = make_app()

    @app.get("/api/v1/teapot")
    def teapot():
        abort(418)

    response = app.test_client().get("/api/v1/teapot")
    assert_error_shape(response, 418)


def test_missing_token_returns_401_in_error_shape(client):
    response = client.get("/api/v1/activities")
    assert_error_shape(response, 401, "unauthorized")


def test_validation_error_details_map_fields_to_messages(client):
    school = make_school()
    officer = make_user("officer", [school])
    body = activity_body(school, duration_minutes=0, category="patrol", status="confirmed")
    response = client.post("/api/v1/activities", json=body, headers=auth(officer))
    error = assert_error_shape(response, 422, "validation_error")
    assert "status" in error["details"]


def test_validation_error_names_every_bad_field(client):
    school = make_school()
    officer = make_user("officer", [school])
    body = activity_body(school, duration_minutes=0, category="patrol", participant_count=-1)
    response = client.post("/api/v1/activities", json=body, headers=auth(officer))
    error = assert_error_shape(response, 422, "validation_error")
    assert {"duration_minutes", "category", "participant_count"} <= set(error["details"])
    assert "duration_minutes" in error["message"]


def test_malformed_json_returns_422_in_error_shape(client):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.post(
        "/api/v1/activities",
        data=b'{"school_id": 1,,}',
        content_type="application/json",
        headers=auth(officer),
    )
    assert_error_shape(response, 422, "invalid_json")


def test_non_json_body_returns_422_in_error_shape(client):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.post(
        "/api/v1/activities", data="school_id=1", content_type="text/plain", headers=auth(officer)
    )
    assert_error_shape(response, 422)


def test_forbidden_returns_403_in_error_shape(client):
    response = client.get("/api/v1/users", headers=auth(make_user("officer")))
    assert_error_shape(response, 403, "forbidden")


def test_conflict_and_precondition_use_error_shape(client):
    school = make_school()
    officer = make_user("officer", [school])
    body = {"id": str(uuid.uuid4())} | activity_body(school)
    client.post("/api/v1/activities", json=body, headers=auth(officer))
    conflict = client.post(
        "/api/v1/activities", json=body | {"duration_minutes": 5}, headers=auth(officer)
    )
    assert_error_shape(conflict, 409)
    stale = client.patch(
        f"/api/v1/activities/{body['id']}",
        json={"duration_minutes": 5},
        headers=auth(officer) | {"If-Match": '"7"'},
    )
    assert_error_shape(stale, 412, "precondition_failed")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/login", {"email": "a\x00b@example.org", "password": "whatever-it-is"}),
        ("/api/v1/activities", {"summary": "Talk\x00 to class"}),
        ("/api/v1/activities", {"audience": ["students\x00"]}),
        ("/api/v1/activities", {"weird\x00key": 1}),
    ],
    ids=["login_email", "summary", "list_item", "key"],
)
def test_nul_character_in_body_returns_422(client, path, body):
    school = make_school()
    officer = make_user("officer", [school])
    if path.endswith("activities"):
        body = activity_body(school) | body
    response = client.post(path, json=body, headers=auth(officer))
    error = assert_error_shape(response, 422, "validation_error")
    assert "NUL" in error["message"]


def test_nul_character_in_admin_text_returns_422(client):
    admin = make_user("admin")
    body = {"name": "Nul\x00 School", "code": "NUL1", "level": "other"}
    response = client.post("/api/v1/schools", json=body, headers=auth(admin))
    assert_error_shape(response, 422, "validation_error")


def test_deeply_nested_json_returns_422(client):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.post(
        "/api/v1/activities",
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        headers=auth(officer),
    )
    assert_error_shape(response, 422, "invalid_json")


def test_unpaired_surrogate_in_body_returns_422(client):
    body = '{"email": "a\\ud800b@example.org", "password": "whatever-it-is"}'
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert_error_shape(response, 422, "validation_error")


def test_a_doubled_slash_is_an_unknown_path_in_the_error_shape_not_a_redirect(client):
    assert_error_shape(client.get("/api/v1//me"), 404)
