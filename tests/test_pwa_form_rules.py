"""The PWA's form rules (pwa/js/form-rules.json) are the server's: the file is what the served
OpenAPI document says, and what the document says is what the API enforces."""

import json

import pytest

from api import pwa
from tests.factories import activity_body, auth, make_school, make_user


@pytest.fixture
def document(client):
    with client.get("/api/v1/openapi.json") as response:
        return response.json


@pytest.fixture
def rules():
    return json.loads(pwa.FORM_RULES_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def post(app, client):
    """POST /api/v1/activities as an officer, with the given fields over a valid body."""
    with app.app_context():
        school = make_school()
        headers = auth(make_user("officer", [school]))
        valid = activity_body(school)

    def send(**fields):
        return client.post("/api/v1/activities", json=valid | fields, headers=headers)

    return send


def test_form_rules_file_equals_what_the_served_document_says(document, rules):
    assert rules == pwa.form_rules(document), "run `flask form-rules` and commit the file"


def test_form_rules_list_every_content_field_the_server_accepts(document, rules):
    update = document["components"]["schemas"]["ActivityUpdate"]["properties"]
    assert list(rules["activity"]) == list(update)


def test_post_activity_at_each_documented_maximum_is_201_and_above_is_422(post, rules):
    for name in ("duration_minutes", "participant_count"):
        bounds = rules["activity"][name]
        assert post(**{name: bounds["maximum"]}).status_code == 201, name
        response = post(**{name: bounds["maximum"] + 1})
        assert response.status_code == 422 and name in response.json["error"]["details"], name


def test_post_activity_with_summary_over_documented_length_is_422(post, rules):
    limit = rules["activity"]["summary"]["maxLength"]
    assert post(summary="a" * limit).status_code == 201
    response = post(summary="a" * (limit + 1))
    assert response.status_code == 422 and "summary" in response.json["error"]["details"]


def test_post_activity_in_documented_referral_category_without_referral_is_422(post, rules):
    category = rules["activity"]["referral_to"]["required_when"]["category"]
    response = post(category=category, referral_to=None)
    assert response.status_code == 422
    assert "referral_to" in response.json["error"]["details"]
    choice = rules["activity"]["referral_to"]["enum"][0]
    assert post(category=category, referral_to=choice).status_code == 201
