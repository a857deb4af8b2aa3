"""The privacy screen on free text, free text hidden from managers, nothing secret in logs."""

import logging

import pytest

from api.services.privacy import identifier_problems
from tests.factories import PASSWORD, activity_body, auth, make_school, make_user, post_activity

URL = "/api/v1/activities"

IDENTIFIERS = {
    "email": ("Spoke with jordan.lee@school.example.ca about it.", "email address"),
    "email_plus": ("Sent notes to a+b@example.org.", "email address"),
    "phone_dashes": ("Parent's cell is 780-555-0142.", "phone number"),
    "phone_dots": ("Call 780.555.0142 after 3.", "phone number"),
    "phone_brackets": ("Reached (780) 555-0142.", "phone number"),
    "phone_country": ("Number +1 780 555 0142 given.", "phone number"),
    "phone_plain": ("Phone 7805550142 on file.", "phone number"),
    "student_number": ("Student 123456789 attended.", "9-digit number"),
    "student_number_spaced": ("ID 123 456 789 noted.", "9-digit number"),
    "student_number_dashed": ("ID 123-456-789 noted.", "9-digit number"),
}


@pytest.mark.parametrize(("summary", "what"), IDENTIFIERS.values(), ids=list(IDENTIFIERS))
def test_create_activity_identifier_in_summary_returns_422_saying_what_to_remove(
    client, summary, what
):
    school = make_school()
    officer = make_user("officer", [school])
    body = activity_body(school, summary=summary)
    response = client.post(URL, json=body, headers=auth(officer))
    assert response.status_code == 422
    messages = response.json["error"]["details"]["summary"]
    assert any(what in m and m.startswith("Remove") for m in messages)
    assert client.get(URL, headers=auth(officer)).json["items"] == []


def test_create_activity_several_identifiers_names_each(client):
    school = make_school()
    officer = make_user("officer", [school])
    body = activity_body(school, summary="a@b.org, 780-555-0142, 123456789")
    response = client.post(URL, json=body, headers=auth(officer))
    assert response.status_code == 422
    text = " ".join(response.json["error"]["details"]["summary"])
    assert "email address" in text and "phone number" in text and "9-digit" in text


CLEAN = [
    "Presentation to 28 grade 9 students on online safety.",
    "Met at 10:30 on 2025-03-04 for 45 minutes.",
    "Lockdown drill with 412 students and 35 staff.",
    "Follow-up in room 204; school year 2024-2025.",
    "Called 911 together as a practice scenario.",
    "Restorative circle, 3 students, 1 parent.",
    None,
    "",
]


@pytest.mark.parametrize("summary", CLEAN)
def test_create_activity_clean_summary_is_accepted(client, summary):
    school = make_school()
    officer = make_user("officer", [school])
    response = client.post(URL, json=activity_body(school, summary=summary), headers=auth(officer))
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("summary", [s for s in CLEAN if s])
def test_identifier_screen_passes_clean_text(summary):
    assert identifier_problems(summary) == []


def test_patch_activity_identifier_in_summary_returns_422(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = post_activity(client, officer, school)
    response = client.patch(
        f"{URL}/{created['id']}", json={"summary": "Mom: 780 555 0142"}, headers=auth(officer)
    )
    assert response.status_code == 422
    assert "summary" in response.json["error"]["details"]


@pytest.mark.parametrize(
    ("action", "body", "field", "what"),
    [
        ("confirm", {"note": "Ask jo@example.org"}, "note", "an email address"),
        (
            "dispute",
            {"reason": "Student 987654321 was absent."},
            "reason",
            "a 9-digit number that could be a student number",
        ),
    ],
)
def test_review_text_with_identifier_returns_422(client, action, body, field, what):
    school = make_school()
    officer = make_user("officer", [school])
    leader = make_user("school_leader", [school])
    created = post_activity(client, officer, school)
    response = client.post(f"{URL}/{created['id']}/{action}", json=body, headers=auth(leader))
    assert response.status_code == 422
    assert response.json["error"] == {
        "code": "validation_error",
        "message": "The text identifies a person; remove it.",
        "details": {
            field: [
                f"Remove {what}: review notes and reasons must not contain anything that "
                "identifies a person."
            ]
        },
    }
    current = client.get(f"{URL}/{created['id']}", headers=auth(leader)).json
    assert current["status"] == "submitted"


def test_manager_never_sees_summary_anywhere(client):
    school = make_school()
    officer = make_user("officer", [school])
    manager = make_user("program_manager")
    created = post_activity(client, officer, school, summary="Private words about a student.")
    urls = [URL, f"{URL}/{created['id']}", f"{URL}/{created['id']}/history"]
    for url in urls:
        response = client.get(url, headers=auth(manager))
        assert response.status_code == 200
        assert "Private words" not in response.get_data(as_text=True)
        assert '"summary"' not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["officer", "school_leader", "admin"])
def test_summary_visible_to_officer_leader_admin(client, role):
    school = make_school()
    officer = make_user("officer", [school])
    viewer = officer if role == "officer" else make_user(role, [school] if role != "admin" else [])
    created = post_activity(client, officer, school, summary="Talk on consent law.")
    response = client.get(f"{URL}/{created['id']}", headers=auth(viewer))
    assert response.status_code == 200
    assert response.json["summary"] == "Talk on consent law."


def test_no_response_ever_carries_a_password_hash(client):
    admin = make_user("admin")
    login = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    responses = [
        login,
        client.get("/api/v1/me", headers=auth(admin)),
        client.get("/api/v1/users", headers=auth(admin)),
        client.get(f"/api/v1/users/{admin.id}", headers=auth(admin)),
    ]
    for response in responses:
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "password" not in text
        assert "$argon2" not in text


def test_logs_carry_no_password_token_or_summary(client, caplog):
    school = make_school()
    officer = make_user("officer", [school])
    caplog.set_level(logging.DEBUG)
    login = client.post("/api/v1/auth/login", json={"email": officer.email, "password": PASSWORD})
    token = login.json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    summary = "Confidential chat about a family matter."
    created = client.post(URL, json=activity_body(school, summary=summary), headers=headers)
    assert created.status_code == 201
    client.post(URL, json=activity_body(school, summary="x@y.org"), headers=headers)
    request_logs = [r for r in caplog.records if r.name == "api.request"]
    assert len(request_logs) >= 3
    assert {r.fields["status"] for r in request_logs} >= {200, 201, 422}
    assert officer.id in {r.fields["user_id"] for r in request_logs}
    everything = "\n".join(
        f"{r.getMessage()} {getattr(r, 'fields', '')} {r.args}" for r in caplog.records
    )
    for secret in (PASSWORD, token, token.split(".")[2], summary, "x@y.org"):
        assert secret not in everything
