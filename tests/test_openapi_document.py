"""The served OpenAPI document is one that generated clients can trust: it validates, every
operation has a short unique id, update bodies have no defaults, enums are shared components
(nullable ones allow null), the ETag header is declared, response fields that are always
present are required, push mutations and the pull's reset are typed, and the CSV variant
has an operation of its own."""

import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from api.models.activity import CATEGORIES, OUTCOMES, REFERRALS
from api.schemas.openapi import ENUMS, NULL
from tests.factories import auth, make_school, make_user, post_activity

ETAG_OPERATIONS = {
    "createActivity": ("200", "201"),
    "getActivity": ("200",),
    "updateActivity": ("200",),
    "confirmActivity": ("200",),
    "disputeActivity": ("200",),
    "createSchool": ("201",),
    "getSchool": ("200",),
    "updateSchool": ("200",),
    "createUser": ("201",),
    "getUser": ("200",),
    "updateUser": ("200",),
    "createSurveyRound": ("201",),
    "getSurveyRound": ("200",),
    "updateSurveyRound": ("200",),
    "getMe": ("200",),
    "updateMe": ("200",),
}
# Response fields that are absent in some answers; every other field is always present.
SOMETIMES_ABSENT = {
    "Activity": {"summary", "review_note", "reopened_from"},
    "MixRow": {
        "category",
        "school_id",
        "school_name",
        "school_level",
        "officer_id",
        "officer_name",
        "month",
        "outcome",
        "referral_to",
        "suppressed",
    },
    "MixTotals": {"suppressed"},
    "MutationResult": {"activity", "error"},
    "BulkReviewResult": {"activity", "error"},
    "ErrorBody": {"details"},
}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(make_app):
    app = make_app()
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(spec) -> dict:
    found = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                found[item[method].get("operationId")] = (path, method, item[method])
    return found


def schema_of(spec, name: str) -> dict:
    return spec["components"]["schemas"][name]


def resolve(spec, node: dict) -> dict:
    while "$ref" in node:
        node = schema_of(spec, node["$ref"].rsplit("/", 1)[1])
    return node


def response_schemas(spec) -> set:
    """The names of the schemas a response can hold, nested ones included."""

    def names(node) -> set:
        return {
            found["$ref"].rsplit("/", 1)[1]
            for found in walk(node)
            if found.get("$ref", "").startswith("#/components/schemas/")
        }

    found = names([op["responses"] for _, _, op in operations(spec).values()])
    found |= names(spec["components"]["responses"])
    while True:
        more = names([schema_of(spec, name) for name in found]) - found
        if not more:
            return found
        found |= more


def walk(node):
    """Every dict inside the document."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_document_validates(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_operation_has_a_short_unique_id(spec):
    ids = [
        item[method].get("operationId")
        for item in spec["paths"].values()
        for method in METHODS
        if method in item
    ]
    assert None not in ids
    assert len(ids) == len(set(ids)), ids
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][A-Za-z]{2,23}", operation_id), operation_id


@pytest.mark.parametrize("name", ["ActivityUpdate", "SchoolUpdate", "UserUpdate"])
def test_update_bodies_have_no_defaults_and_nothing_required(spec, name):
    body = schema_of(spec, name)
    assert "required" not in body
    assert not [node for node in walk(body) if "default" in node], body


def test_patch_operations_take_the_update_bodies(spec):
    ops = operations(spec)
    for operation_id, name in (
        ("updateActivity", "ActivityUpdate"),
        ("updateSchool", "SchoolUpdate"),
        ("updateUser", "UserUpdate"),
    ):
        body = ops[operation_id][2]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{name}"}


def test_inline_nullable_enums_allow_null(spec):
    for node in walk(spec):
        if node.get("nullable") and "enum" in node:
            assert None in node["enum"], node


def test_nullable_stands_only_beside_a_type(spec):
    """OpenAPI 3.0.3: `nullable` adds null to the `type` of its own object only; beside an
    `allOf` or a `$ref` a strict validator ignores it, so there null is a choice (NULL)."""
    for node in walk(spec):
        if node.get("nullable") and node != NULL:
            assert "type" in node, node


def test_a_strict_validator_takes_the_nulls_the_api_sends(make_app):
    client = make_app().test_client()
    spec = client.get("/api/v1/openapi.json").json

    def strict(name: str) -> OAS30Validator:
        return OAS30Validator({"components": spec["components"], **schema_of(spec, name)})

    school = make_school()
    activity = post_activity(client, make_user("officer", [school]), school)
    assert activity["outcome"] is None and activity["referral_to"] is None
    strict("Activity").validate(activity)
    assert not strict("Activity").is_valid(activity | {"outcome": "maybe"})
    delete = {"mutation_id": activity["id"], "op": "delete", "activity_id": activity["id"]}
    strict("Mutation").validate(delete | {"base_version": 1, "data": None})


def test_each_enum_is_one_component_and_nullable_uses_allow_null(spec):
    for name, values in ENUMS.items():
        assert schema_of(spec, name) == {"type": "string", "enum": list(values)}
    # No inline copy of a shared enum anywhere else in the document.
    shared = [set(values) for values in ENUMS.values()]
    components = [schema_of(spec, name) for name in ENUMS]
    for node in walk(spec):
        if "enum" in node and not any(node is c for c in components):
            assert set(node["enum"]) - {None} not in shared, node
    nullable_outcome = [{"$ref": "#/components/schemas/Outcome"}, NULL]
    for model in ("Activity", "MixRow", "ActivityCreate"):
        assert schema_of(spec, model)["properties"]["outcome"]["oneOf"] == nullable_outcome
    assert set(schema_of(spec, "ActivityCategory")["enum"]) == set(CATEGORIES)
    assert set(schema_of(spec, "Outcome")["enum"]) == set(OUTCOMES)
    assert set(schema_of(spec, "ReferralTo")["enum"]) == set(REFERRALS)


def test_no_enum_is_repeated_inline(spec):
    """A set of values used in more than one place is a component: one enum type each."""
    components = spec["components"]["schemas"].values()
    inline = [
        frozenset(map(str, node["enum"]))
        for node in [*walk(spec["paths"]), *walk(list(components))]
        if "enum" in node and node != NULL and not any(node is c for c in components)
    ]
    assert len(inline) == len(set(inline)), sorted(map(sorted, inline))


def test_response_enums_are_typed(spec):
    activity = schema_of(spec, "Activity")["properties"]
    assert activity["category"] == {"$ref": "#/components/schemas/ActivityCategory"}
    assert activity["audience"]["items"] == {"$ref": "#/components/schemas/Audience"}
    assert activity["referral_to"]["oneOf"] == [{"$ref": "#/components/schemas/ReferralTo"}, NULL]
    token_type = schema_of(spec, "Token")["properties"]["token_type"]
    assert token_type == {"type": "string", "enum": ["Bearer"]}


def test_etag_header_is_declared_where_it_is_sent(spec):
    ops = operations(spec)
    for operation_id, codes in ETAG_OPERATIONS.items():
        responses = ops[operation_id][2]["responses"]
        for code in codes:
            header = responses[code]["headers"]["ETag"]
            assert header["required"] is True and header["schema"] == {"type": "string"}


def test_every_record_that_takes_if_match_declares_its_etag(spec):
    """A PATCH or DELETE that takes If-Match: its record's GET and its own 200 send the
    ETag to send back (a new operation cannot leave it out)."""
    ops = operations(spec).values()
    guarded = {path for path, _, op in ops if "If-Match" in parameter_names(op)}
    assert guarded
    for path, method, op in ops:
        if path in guarded and "200" in op["responses"] and method in ("get", "patch"):
            assert "ETag" in op["responses"]["200"].get("headers", {}), (path, method)
    declared = {oid for oid, (_, _, op) in operations(spec).items() if etag_codes(op)}
    assert declared == set(ETAG_OPERATIONS)


def parameter_names(operation: dict) -> set:
    return {p["name"] for p in operation.get("parameters", [])}


def etag_codes(operation: dict) -> list:
    return [c for c, r in operation["responses"].items() if "ETag" in r.get("headers", {})]


def test_etag_is_sent_where_declared(make_app):
    client = make_app().test_client()
    headers = auth(make_user("program_manager"))
    body = {
        "title": "Spring climate",
        "opens_on": "2026-03-01",
        "closes_on": "2026-03-31",
        "school_ids": [make_school().id],
        "audiences": ["staff"],
    }
    created = client.post("/api/v1/surveys", json=body, headers=headers)
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    path = f"/api/v1/surveys/{created.json['id']}"
    assert client.get(path, headers=headers).headers["ETag"] == '"1"'
    renamed = client.patch(path, json={"title": "Spring"}, headers=headers | {"If-Match": '"1"'})
    assert renamed.status_code == 200 and renamed.headers["ETag"] == '"2"'


@pytest.mark.parametrize(
    ("name", "always"),
    [
        ("Activity", {"id", "officer_id", "school_id", "category", "started_at", "version"}),
        ("Token", {"access_token", "refresh_token", "token_type", "expires_in", "user"}),
        ("Me", {"id", "email", "role", "school_ids", "schools", "version"}),
        ("PushResult", {"results"}),
        ("MutationResult", {"mutation_id", "status"}),
        ("PullPage", {"changes", "cursor", "has_more"}),
        ("PullReset", {"reset"}),
        ("ActivityPage", {"items", "next_cursor"}),
        ("ActivityMix", {"rows", "totals", "filters"}),
    ],
)
def test_fields_always_present_are_required(spec, name, always):
    assert always <= set(schema_of(spec, name)["required"])


def test_every_response_field_is_required_unless_sometimes_absent(spec):
    for name in sorted(response_schemas(spec)):
        schema = schema_of(spec, name)
        if "properties" not in schema:
            continue
        optional = set(schema["properties"]) - set(schema.get("required", []))
        assert optional <= SOMETIMES_ABSENT.get(name, set()), (name, sorted(optional))


def test_manager_only_absent_fields_are_not_required(spec):
    required = set(schema_of(spec, "Activity")["required"])
    assert not {"summary", "review_note"} & required


def test_push_mutations_and_their_partial_data_are_typed(spec):
    push = schema_of(spec, "Push")["properties"]["mutations"]
    assert push["items"] == {"$ref": "#/components/schemas/Mutation"}
    data = schema_of(spec, "Mutation")["properties"]["data"]
    assert data["oneOf"] == [{"$ref": "#/components/schemas/ActivityUpdate"}, NULL]
    result = schema_of(spec, "MutationResult")["properties"]["activity"]
    assert result["oneOf"] == [
        {"$ref": "#/components/schemas/Activity"},
        {"$ref": "#/components/schemas/Tombstone"},
    ]


def test_pull_is_a_page_or_a_reset(spec):
    ops = operations(spec)
    response = ops["syncPull"][2]["responses"]["200"]["content"]["application/json"]["schema"]
    pull = resolve(spec, response)
    assert pull["oneOf"] == [
        {"$ref": "#/components/schemas/PullPage"},
        {"$ref": "#/components/schemas/PullReset"},
    ]
    assert schema_of(spec, "PullReset")["properties"] == {
        "reset": {"type": "boolean", "description": "Always true"}
    }
    changes = schema_of(spec, "PullPage")["properties"]["changes"]["items"]
    assert changes["oneOf"][1] == {"$ref": "#/components/schemas/Tombstone"}


def test_csv_has_an_operation_of_its_own(spec):
    path, method, operation = operations(spec)["getActivityMixCsv"]
    assert (path, method) == ("/api/v1/reports/activity-mix.csv", "get")
    assert list(operation["responses"]["200"]["content"]) == ["text/csv"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"group_by", "from", "to", "status", "public"} <= names and "format" not in names


def test_every_csv_answer_has_an_operation_of_its_own(spec):
    """An operation that may answer CSV beside JSON has a twin `<id>Csv` that answers only
    CSV, so a generated client can ask for text and get a string."""
    ops = operations(spec)
    mixed = [
        oid
        for oid, (_, _, op) in ops.items()
        if {"application/json", "text/csv"}
        <= set(op["responses"].get("200", {}).get("content", {}))
    ]
    assert mixed == ["getActivityMix", "getSurveyResults"]
    for operation_id in mixed:
        path, method, twin = ops[operation_id + "Csv"]
        assert list(twin["responses"]["200"]["content"]) == ["text/csv"]
        assert parameter_names(twin) == parameter_names(ops[operation_id][2]) - {"format"}


def test_csv_path_answers_csv_with_the_same_filters(make_app):
    client = make_app().test_client()
    school = make_school()
    officer, manager = make_user("officer", [school]), make_user("program_manager")
    post_activity(client, officer, school)
    headers = auth(manager)
    response = client.get(
        "/api/v1/reports/activity-mix.csv?group_by=category,month", headers=headers
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.text.splitlines()[0].startswith("category,month,count,")
    same = client.get(
        "/api/v1/reports/activity-mix?group_by=category,month&format=csv", headers=headers
    )
    assert same.text == response.text
    still_csv = client.get("/api/v1/reports/activity-mix.csv?format=json", headers=headers)
    assert still_csv.mimetype == "text/csv"


def test_patch_with_one_field_changes_only_that_field(make_app):
    app = make_app()
    client = app.test_client()
    school = make_school()
    officer = make_user("officer", [school])
    headers = auth(officer)
    created = post_activity(client, officer, school, outcome="follow_up", summary="Kept as it was.")
    response = client.patch(
        f"/api/v1/activities/{created['id']}", json={"duration_minutes": 35}, headers=headers
    )
    assert response.status_code == 200, response.json
    after = response.json
    for key in ("participant_count", "summary", "referral_to", "outcome", "audience"):
        assert after[key] == created[key], key
    assert after["duration_minutes"] == 35


def test_renaming_an_inactive_school_keeps_it_inactive(make_app):
    app = make_app()
    with app.app_context():
        school = make_school(active=False)
        headers = auth(make_user("admin"))
        school_id = school.id
    client = app.test_client()
    response = client.patch(
        f"/api/v1/schools/{school_id}", json={"name": "Renamed"}, headers=headers
    )
    assert response.status_code == 200, response.json
    assert response.json["name"] == "Renamed" and response.json["active"] is False


def test_update_schemas_differ_from_create_only_in_defaults():
    """The update schemas redeclare the fields that have defaults on create; the rules must
    stay the same (only the default goes)."""
    from marshmallow import missing

    from api.schemas.account import SchoolCreateSchema, SchoolUpdateSchema
    from api.schemas.activity import ActivityContentSchema, ActivityUpdateSchema

    for create, update in (
        (ActivityContentSchema(), ActivityUpdateSchema()),
        (SchoolCreateSchema(), SchoolUpdateSchema()),
    ):
        assert create.fields.keys() == update.fields.keys()
        for name, field in update.fields.items():
            original = create.fields[name]
            assert type(field) is type(original), name
            assert field.allow_none == original.allow_none, name
            assert repr(field.validators) == repr(original.validators), name
            assert field.load_default is missing, name


def test_the_document_states_the_rules_the_server_applies(spec):
    """What the server refuses, the document says (a generated client can check it first)."""
    for name in ("UserCreate", "UserUpdate"):
        password = schema_of(spec, name)["properties"]["password"]
        assert (password["minLength"], password["maxLength"]) == (12, 128)
    for name in ("ActivityCreate", "ActivityUpdate"):
        assert schema_of(spec, name)["properties"]["audience"]["uniqueItems"] is True
    assert schema_of(spec, "Push")["properties"]["mutations"]["maxItems"] == 500
    answers = schema_of(spec, "Answers")
    assert set(answers["properties"]) == {
        "safe_at_school",
        "safe_with_officer",
        "would_ask_for_help",
        "treated_fairly",
        "knows_role",
    }
    group_by = next(
        p for p in operations(spec)["getActivityMix"][2]["parameters"] if p["name"] == "group_by"
    )
    pattern = re.compile(group_by["schema"]["pattern"])
    assert pattern.search("category, month") and pattern.search("school_level")
    assert not pattern.search("weekday") and not pattern.search("category,")


def test_probes_and_the_provider_round_trip_are_documented_without_a_token(spec):
    ops = operations(spec)
    for operation_id, path, codes in (
        ("getLiveness", "/healthz", {"200"}),
        ("getReadiness", "/readyz", {"200", "503"}),
        ("startProviderSignIn", "/auth/oidc/{name}/start", {"302", "404"}),
        ("finishProviderSignIn", "/auth/oidc/{name}/callback", {"302", "404"}),
    ):
        found_path, method, operation = ops[operation_id]
        assert (found_path, method, operation["security"]) == (path, "get", [])
        assert codes <= set(operation["responses"])
    location = ops["startProviderSignIn"][2]["responses"]["302"]["headers"]["Location"]
    assert location["schema"] == {"type": "string"}
