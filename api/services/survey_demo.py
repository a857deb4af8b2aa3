"""Demo community voice: two finished survey rounds with realistic participation, so the
dashboard's section and the evaluation page work on a fresh `make run`."""

import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from api.extensions import db
from api.models import School, User
from api.models.survey import (
    INSTRUMENT,
    ITEM_KEYS,
    SurveyCode,
    SurveyResponse,
    SurveyRound,
    SurveyTally,
)
from api.services import audit
from api.services.surveys import add_to_tallies, answer_date, code_hash, new_code, normalise

AUDIENCES_BY_LEVEL = {
    "elementary": ("students_4_6", "staff", "families"),
    "junior_high": ("students_7_9", "staff", "families"),
    "senior_high": ("students_10_12", "staff", "families"),
}
SCHOOLS_PER_LEVEL = 3
# (round title, days before today it opened, days it ran, how much warmer answers are)
ROUNDS = (("Fall check-in", 95, 21, 0.0), ("Winter climate survey", 40, 21, 0.15))
# The share of students who describe themselves each way (a student may tick several).
IDENTITY_SHARES = {
    "indigenous": 0.10,
    "black": 0.07,
    "racialized_other": 0.22,
    "2slgbtq": 0.10,
    "disability": 0.09,
}
# Groups that, as reviews found, feel less safe with an officer (points off a 1-5 answer).
COOLER = {"indigenous": 0.9, "black": 1.1, "racialized_other": 0.4, "2slgbtq": 0.5}


def _identity(rng: random.Random, audience: str) -> list[str]:
    if rng.random() < 0.06:
        return ["prefer_not_to_say"]
    if not audience.startswith("students") and rng.random() < 0.5:
        return []
    return [key for key, share in IDENTITY_SHARES.items() if rng.random() < share]


def _answers(rng: random.Random, audience: str, identity: list[str], warmth: float) -> dict:
    base = 3.9 if audience.startswith("students") else 4.2
    base += warmth - max((COOLER.get(key, 0.0) for key in identity), default=0.0)
    answers = {}
    for key in ITEM_KEYS:
        if rng.random() < 0.04:
            answers[key] = None
            continue
        shift = -0.3 if key == "would_ask_for_help" else 0.0
        answers[key] = max(1, min(5, round(rng.gauss(base + shift, 0.9))))
    return answers


def _fill(rng, survey: SurveyRound, school: School, audience: str, warmth: float) -> None:
    issued = rng.randint(60, 140) if audience.startswith("students") else rng.randint(20, 45)
    answered = int(issued * rng.uniform(0.45, 0.8))
    codes = [normalise(new_code()) for _ in range(issued)]
    db.session.execute(
        insert(SurveyCode),
        [
            {
                "code_hash": code_hash(code),
                "round_id": survey.id,
                "school_id": school.id,
                "audience": audience,
                "used": index < answered,
            }
            for index, code in enumerate(codes)
        ],
    )
    sheets = []
    for _ in range(answered):
        identity = _identity(rng, audience)
        sheets.append((_answers(rng, audience, identity, warmth), identity))
    day_span = (survey.closes_on - survey.opens_on).days
    db.session.add_all(
        SurveyResponse(
            round_id=survey.id,
            school_id=school.id,
            audience=audience,
            answered_on=survey.opens_on + timedelta(days=rng.randint(0, day_span)),
            identity=sorted(identity),
            **answers,
        )
        for answers, identity in sheets
    )
    add_to_tallies(survey.id, school.id, audience, sheets)
    # The "all" row counts the codes issued (the service adds them as it issues them).
    tally = db.session.scalar(
        select(SurveyTally).where(
            SurveyTally.round_id == survey.id,
            SurveyTally.school_id == school.id,
            SurveyTally.audience == audience,
            SurveyTally.grp == "all",
        )
    )
    tally.issued += issued


def _schools_of_each_level() -> list[School]:
    """The first few schools of each level that has an audience of students."""
    schools = list(db.session.scalars(select(School).order_by(School.id)))
    return [
        school
        for level in AUDIENCES_BY_LEVEL
        for school in [s for s in schools if s.level == level][:SCHOOLS_PER_LEVEL]
    ]


def load_demo_rounds(seed: int = 2025) -> int:
    """Two closed rounds over a few schools of each level; returns the answers added."""
    rng = random.Random(seed)
    manager = db.session.scalar(select(User).where(User.role == "program_manager"))
    schools = _schools_of_each_level()
    today = answer_date()
    for title, opened, days, warmth in ROUNDS:
        audiences = sorted({a for s in schools for a in AUDIENCES_BY_LEVEL[s.level]})
        survey = SurveyRound(
            title=title,
            instrument=INSTRUMENT,
            opens_on=today - timedelta(days=opened),
            closes_on=today - timedelta(days=opened - days),
            audiences=audiences,
            created_by=manager.id if manager else None,
            schools=schools,
        )
        db.session.add(survey)
        db.session.flush()
        for school in schools:
            for audience in AUDIENCES_BY_LEVEL[school.level]:
                _fill(rng, survey, school, audience, warmth)
        audit.record("survey_round_create", "survey_round", survey.id, changes={"demo": True})
    db.session.flush()
    return db.session.scalar(select(func.count()).select_from(SurveyResponse))
