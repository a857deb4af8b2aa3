"""The demo data holds two finished survey rounds, so the community voice section shows
results on a fresh `make run`."""

from sqlalchemy import select

from api.extensions import db
from api.models import User
from api.models.survey import SurveyResponse, SurveyRound
from api.services import demo
from tests.factories import auth


def test_demo_has_two_closed_rounds_with_results_and_groups(app, client):
    with app.app_context():
        demo.load_demo(50)
        manager = db.session.scalar(select(User).where(User.role == "program_manager"))
        assert db.session.scalar(select(SurveyRound.id).limit(1)) is not None
    headers = auth(manager)
    rounds = client.get("/api/v1/surveys", headers=headers).get_json()["items"]
    assert [r["status"] for r in rounds] == ["closed", "closed"]
    results = client.get(f"/api/v1/surveys/{rounds[-1]['id']}/results", headers=headers).get_json()
    assert results["responses"] > 300
    rates = [p["response_rate"] for p in results["participation"]]
    assert all(40 <= rate <= 85 for rate in rates)
    item = next(i for i in results["items"] if i["key"] == "safe_with_officer")
    groups = {g["group"]: g for g in item["groups"]}
    assert groups["black"]["suppressed"] is False
    assert groups["black"]["gap_pts"] < 0  # the demo shows the gap reviews found
    again = client.get(f"/api/v1/surveys/{rounds[-1]['id']}/results", headers=headers).get_json()
    assert again == results


def test_demo_rounds_cover_each_school_level(app, client):
    with app.app_context():
        demo.load_demo(20)
        manager = db.session.scalar(select(User).where(User.role == "program_manager"))
        round_id = db.session.scalar(select(SurveyRound.id).order_by(SurveyRound.id.desc()))
    url = f"/api/v1/surveys/{round_id}/results?group_by=school_level"
    results = client.get(url, headers=auth(manager)).get_json()
    levels = {group["group"] for group in results["items"][0]["groups"]}
    assert levels == {"elementary", "junior_high", "senior_high"}
    audiences = {cell["audience"] for cell in results["participation"]}
    assert {"students_4_6", "students_7_9", "students_10_12", "staff", "families"} == audiences


def test_the_tallies_agree_with_the_stored_answers(app, client):
    with app.app_context():
        demo.load_demo(20)
        manager = db.session.scalar(select(User).where(User.role == "program_manager"))
        round_id = db.session.scalar(select(SurveyRound.id).order_by(SurveyRound.id.desc()))
        rows = list(
            db.session.scalars(select(SurveyResponse).where(SurveyResponse.round_id == round_id))
        )
    headers = auth(manager)
    results = client.get(f"/api/v1/surveys/{round_id}/results", headers=headers).get_json()
    assert results["responses"] == len(rows)
    for item in results["items"]:
        values = [
            getattr(row, item["key"]) for row in rows if getattr(row, item["key"]) is not None
        ]
        agree = sum(1 for value in values if value >= 4)
        assert item["overall"]["n"] == len(values)
        assert item["overall"]["agree_pct"] == round(100 * agree / len(values), 1)
        black = [
            getattr(row, item["key"])
            for row in rows
            if "black" in row.identity and getattr(row, item["key"]) is not None
        ]
        shown = next(g for g in item["groups"] if g["group"] == "black")
        if not shown["suppressed"]:
            assert shown["n"] == len(black)
