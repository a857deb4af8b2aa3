"""Fuzzing: schemathesis over every operation of the app's own OpenAPI document, as each role
and unauthenticated, with positive and negative (invalid) data and the ignored-auth check.

Zero failures means: no 5xx, every response conforms to its documented schema, status code
and content type, invalid input is refused (4xx), and no operation that declares bearer auth
answers 2xx without a valid token. The budget is bounded (a few examples an operation).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Config
from sqlalchemy import update

from api.extensions import db
from api.models import User
from tests.factories import auth, make_school, make_user, post_activity

ROLES = ("anonymous", "officer", "school_leader", "program_manager", "admin")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "6"))

CONFIG = Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            # The bearer token is ours to send (per role, below), not a fuzzed header.
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "checks": {
            # Business rules (a school you are not assigned to, an id that does not exist)
            # legitimately refuse well-formed input; what matters is the documented response.
            "positive_data_acceptance": {"enabled": False},
            # Invalid input is refused with a 4xx; on a PATCH whose If-Match is not current,
            # the precondition is judged before the content is read (RFC 9110 13.2.1): 412.
            # (schemathesis's default list, with 412.)
            "negative_data_rejection": {
                "expected-statuses": [
                    *("400", "401", "403", "404", "405", "406", "409", "412", "415", "422"),
                    *("428", "429", "5xx"),
                ]
            },
        },
        "operations": [
            {
                # A push's items are typed in the document (generated clients need the
                # Mutation shape), but by contract a malformed item is that item's
                # `rejected` result in a 200, never a 422 for the whole push.
                "include-path": "/api/v1/sync/push",
                "checks": {"negative_data_rejection": {"enabled": False}},
            }
        ],
    }
)


@pytest.fixture
def fuzz_world(make_app):
    """An app with one user of each role, two schools and a few activities to find."""
    app = make_app(RATELIMIT_ENABLED=False)
    north, south = make_school(name="North"), make_school(name="South")
    users = {
        "officer": make_user("officer", [north]),
        "school_leader": make_user("school_leader", [north]),
        "program_manager": make_user("program_manager"),
        "admin": make_user("admin"),
    }
    client = app.test_client()
    for _ in range(2):
        post_activity(client, users["officer"], north)
    make_user("officer", [south])
    return app, {role: user.id for role, user in users.items()}


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


@pytest.fixture
def api_schema(fuzz_world, role):
    """The app's own OpenAPI document (one run per role: the fixture is parametrized)."""
    app, _ = fuzz_world
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")
if os.environ.get("FUZZ_PATH_REGEX"):  # to iterate on one area: FUZZ_PATH_REGEX=sync/pull
    schema = schema.include(path_regex=os.environ["FUZZ_PATH_REGEX"])


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis' lazy runner renames the pytest node through a private attribute that
    pytest 9 no longer has; give it one so each operation's name shows in the report."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def headers_for(app, ids: dict, role: str) -> dict:
    """A fresh token for the role's user, who is put back to its role and active first
    (a fuzzed admin PATCH may have deactivated or demoted anyone, itself included)."""
    if role == "anonymous":
        return {}
    with app.app_context():
        db.session.execute(update(User).where(User.id == ids[role]).values(role=role, active=True))
        db.session.commit()
        return auth(db.session.get(User, ids[role]))


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_openapi_operation_as_role_conforms(case, role, fuzz_world):
    app, ids = fuzz_world
    case.call_and_validate(headers=headers_for(app, ids, role))


def test_fuzz_config_generates_invalid_data_and_checks_ignored_auth():
    project = CONFIG.projects.default
    assert {mode.value for mode in project.generation.modes} == {"positive", "negative"}
    assert project.checks.negative_data_rejection.enabled
    assert project.checks.ignored_auth.enabled
    assert project.checks.response_schema_conformance.enabled
    assert project.checks.not_a_server_error.enabled
