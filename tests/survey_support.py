"""Helpers for the community-voice tests: a round, codes, an answer sheet."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from api import dates
from tests.factories import auth

ALL_FIVE = {
    "safe_at_school": 4,
    "safe_with_officer": 5,
    "would_ask_for_help": 3,
    "treated_fairly": 2,
    "knows_role": None,
}


def answer_date():
    """Today in the tests' program zone (the default), as the server dates answers."""
    return dates.today(ZoneInfo(dates.DEFAULT_ZONE))


def round_body(schools, **overrides) -> dict:
    today = answer_date()
    return {
        "title": "Spring climate survey",
        "opens_on": (today - timedelta(days=3)).isoformat(),
        "closes_on": (today + timedelta(days=10)).isoformat(),
        "school_ids": [school.id for school in schools],
        "audiences": ["students_7_9", "staff"],
    } | overrides


def create_round(client, manager, schools, **overrides) -> dict:
    response = client.post(
        "/api/v1/surveys", json=round_body(schools, **overrides), headers=auth(manager)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def issue(client, user, round_id, school, count=3, audience="students_7_9") -> list[str]:
    response = client.post(
        f"/api/v1/surveys/{round_id}/codes",
        json={"school_id": school.id, "audience": audience, "count": count},
        headers=auth(user),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["codes"]


def answer(client, code, answers=None, identity=(), language="en"):
    return client.post(
        "/api/v1/survey-responses",
        json={
            "code": code,
            "language": language,
            "answers": ALL_FIVE if answers is None else answers,
            "identity": list(identity),
        },
    )
