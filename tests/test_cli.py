"""Flask CLI: users create and demo-data."""

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import Activity, ActivityRevision, School, User
from api.services.demo import DEMO_DOMAIN, DEMO_PASSWORD
from api.services.privacy import identifier_problems
from tests.factories import app_context, count, make_school

GOOD_PASSWORD = "a-long-enough-passphrase-7"


def _count(model) -> int:
    return count(model)


def _create(runner, *extra: str, password: str = GOOD_PASSWORD, email="cli@example.org"):
    args = ["users", "create", "--email", email, "--password", password, *extra]
    return runner.invoke(args=args)


# --- users create ------------------------------------------------------------------------


def test_users_create_admin_prints_and_stores_user(runner):
    result = _create(runner, "--role", "admin", "--name", "First Admin")
    assert result.exit_code == 0, result.output
    assert "Created admin cli@example.org" in result.output
    with app_context():
        user = db.session.scalars(select(User)).one()
    assert user.display_name == "First Admin"
    assert user.role == "admin"
    assert user.password_hash.startswith("$argon2id$")


def test_users_create_officer_with_schools(runner):
    school = make_school()
    result = _create(runner, "--role", "officer", "--school-id", str(school.id))
    assert result.exit_code == 0, result.output
    with app_context():
        user = db.session.scalars(select(User)).one()
        assert user.school_ids == [school.id]


def test_users_create_new_user_can_sign_in(runner, client):
    _create(runner, "--role", "program_manager", email="Boss@Example.org")
    response = client.post(
        "/api/v1/auth/login", json={"email": "boss@example.org", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json["user"]["role"] == "program_manager"


@pytest.mark.parametrize("password", ["short", "password1234", "aaaaaaaaaaaaa"])
def test_users_create_weak_password_is_refused(runner, password):
    result = _create(runner, "--role", "admin", password=password)
    assert result.exit_code != 0
    assert "password" in result.output.lower()
    assert _count(User) == 0


def test_users_create_duplicate_email_is_refused(runner):
    assert _create(runner, "--role", "admin").exit_code == 0
    result = _create(runner, "--role", "admin", email="CLI@example.org")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert _count(User) == 1


@pytest.mark.parametrize(
    ("extra", "email", "field"),
    [
        ((), "   ", "email"),
        ((), "not-an-email", "email"),
        (("--name", "x" * 121), "cli@example.org", "display_name"),
    ],
)
def test_users_create_reads_its_input_as_the_api_does(runner, extra, email, field):
    result = _create(runner, "--role", "admin", *extra, email=email)
    assert result.exit_code != 0
    assert f"{field}:" in result.output
    assert _count(User) == 0


def test_users_create_unknown_role_is_refused(runner):
    result = _create(runner, "--role", "superuser")
    assert result.exit_code != 0
    assert _count(User) == 0


def test_users_create_schools_for_manager_is_refused(runner):
    school = make_school()
    result = _create(runner, "--role", "program_manager", "--school-id", str(school.id))
    assert result.exit_code != 0
    assert "school" in result.output.lower()
    assert _count(User) == 0


def test_users_create_unknown_school_is_refused(runner):
    result = _create(runner, "--role", "officer", "--school-id", "4242")
    assert result.exit_code != 0
    assert _count(User) == 0


# --- demo-data ---------------------------------------------------------------------------


def test_demo_data_loads_people_schools_activities_and_prints_logins(runner):
    result = runner.invoke(args=["demo-data", "--activities", "40"])
    assert result.exit_code == 0, result.output
    assert f"officer1@{DEMO_DOMAIN}" in result.output
    assert f"leader1@{DEMO_DOMAIN}" in result.output
    assert f"manager@{DEMO_DOMAIN}" in result.output
    assert f"admin@{DEMO_DOMAIN}" in result.output
    assert DEMO_PASSWORD in result.output
    assert _count(Activity) == 40
    assert _count(ActivityRevision) >= 40
    with app_context():
        levels = set(db.session.scalars(select(School.level)))
        roles = set(db.session.scalars(select(User.role)))
    assert {"elementary", "junior_high", "senior_high"} <= levels
    for level in ("elementary", "junior_high", "senior_high"):
        assert count(School, School.level == level) >= 12
    assert roles == {"officer", "school_leader", "program_manager", "admin"}


def test_demo_data_is_realistic_and_within_the_rules(runner):
    result = runner.invoke(args=["demo-data", "--activities", "300"])
    assert result.exit_code == 0, result.output
    with app_context():
        activities = list(db.session.scalars(select(Activity)))
        officers = {u.id: set(u.school_ids) for u in db.session.scalars(select(User))}
    assert len(activities) == 300
    categories = {a.category for a in activities}
    assert categories == {
        "education",
        "counselling",
        "mediation",
        "emergency_response",
        "community_referral",
    }
    assert {a.status for a in activities} == {"submitted", "confirmed", "disputed"}
    for activity in activities:
        assert activity.school_id in officers[activity.officer_id]
        assert 1 <= activity.duration_minutes <= 720
        assert identifier_problems(activity.summary) == []
        if activity.category == "community_referral":
            assert activity.referral_to
        if activity.status == "disputed":
            assert activity.review_note


def test_demo_data_if_empty_does_not_duplicate(runner):
    first = runner.invoke(args=["demo-data", "--activities", "25", "--if-empty"])
    assert first.exit_code == 0, first.output
    counts = (_count(User), _count(School), _count(Activity))
    second = runner.invoke(args=["demo-data", "--activities", "25", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert (_count(User), _count(School), _count(Activity)) == counts
    assert f"officer1@{DEMO_DOMAIN}" in second.output


def test_demo_data_again_adds_activities_not_people(runner):
    assert runner.invoke(args=["demo-data", "--activities", "10"]).exit_code == 0
    people, schools = _count(User), _count(School)
    result = runner.invoke(args=["demo-data", "--activities", "15"])
    assert result.exit_code == 0, result.output
    assert (_count(User), _count(School), _count(Activity)) == (people, schools, 25)


def test_demo_data_logins_work_and_leader_sees_officer_activities(runner, client):
    result = runner.invoke(args=["demo-data", "--activities", "60"])
    assert result.exit_code == 0, result.output
    login = client.post(
        "/api/v1/auth/login",
        json={"email": f"leader1@{DEMO_DOMAIN}", "password": DEMO_PASSWORD},
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    with app_context():
        officer1 = db.session.scalar(select(User).where(User.email == f"officer1@{DEMO_DOMAIN}"))
    response = client.get(
        "/api/v1/activities", query_string={"officer_id": officer1.id}, headers=headers
    )
    assert response.status_code == 200
    assert response.json["items"]


def test_demo_data_negative_count_is_refused(runner):
    result = runner.invoke(args=["demo-data", "--activities", "-1"])
    assert result.exit_code != 0
    assert _count(User) == 0
