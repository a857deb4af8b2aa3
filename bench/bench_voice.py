"""Survey results stay flat as answers pile up: a round of 2,000 versus 200,000 answers over
200 schools on SQLite; the results (grouped by self-description and by school) must take at
most twice as long at the larger size. They read the tallies kept with each answer, never the
answers themselves. Prints a table and the ratios; returns False when the target is missed.
"""

import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select

from api import create_app
from api.extensions import db
from api.models import School, User
from api.models.survey import SurveyCode, SurveyResponse, SurveyRound
from api.services import survey_demo
from api.services.surveys import add_to_tallies, answer_date, code_hash, new_code, normalise
from tests.factories import auth

SIZES = (2_000, 200_000)
SCHOOLS = 200
AUDIENCES = ("students_7_9", "staff")
ROUNDS = 9
TARGET = 2.0
URLS = ("results?group_by=identity", "results?group_by=school")


def _load(size: int) -> int:
    rng = random.Random(size)
    schools = [
        School(name=f"School {i}", code=f"B{i:04d}", level="junior_high") for i in range(SCHOOLS)
    ]
    manager = User(
        email="bench@example.org", display_name="Bench", role="program_manager", password_hash="x"
    )
    db.session.add_all([*schools, manager])
    today = answer_date()
    survey = SurveyRound(
        title="Bench",
        opens_on=today - timedelta(days=20),
        closes_on=today - timedelta(days=1),
        audiences=list(AUDIENCES),
        schools=schools,
    )
    db.session.add(survey)
    db.session.flush()
    per_cell = size // (SCHOOLS * len(AUDIENCES))
    for school in schools:
        for audience in AUDIENCES:
            _fill(rng, survey, school, audience, per_cell)
        db.session.flush()
    db.session.commit()
    return survey.id


def _fill(rng, survey, school, audience, count) -> None:
    db.session.execute(
        insert(SurveyCode),
        [
            {
                "code_hash": code_hash(normalise(new_code())),
                "round_id": survey.id,
                "school_id": school.id,
                "audience": audience,
                "used": True,
            }
            for _ in range(count)
        ],
    )
    sheets = []
    for _ in range(count):
        identity = survey_demo._identity(rng, audience)
        sheets.append((survey_demo._answers(rng, audience, identity, 0.0), identity))
    db.session.execute(
        insert(SurveyResponse),
        [
            {
                "id": f"{rng.getrandbits(128):032x}",
                "round_id": survey.id,
                "school_id": school.id,
                "audience": audience,
                "answered_on": survey.opens_on,
                "identity": sorted(identity),
                **answers,
            }
            for answers, identity in sheets
        ],
    )
    add_to_tallies(survey.id, school.id, audience, sheets)


def _subject(size: int, folder: Path):
    """A loaded database, its app's client, a manager's headers and the round's id."""
    url = f"sqlite:///{folder / f'voice-{size}.sqlite3'}"
    config = {"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": False}
    app = create_app(config)
    with app.app_context():
        upgrade(directory="migrations")
        started = time.perf_counter()
        round_id = _load(size)
        print(f"  loaded {size:,} answers in {time.perf_counter() - started:.1f} s", flush=True)
        manager = db.session.scalar(select(User).where(User.email == "bench@example.org"))
        headers = auth(manager)
    return app, app.test_client(), headers, round_id


def _time_ms(client, url: str, headers: dict) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.get_json()
    return elapsed


def main() -> bool:
    timings: dict = {(size, url): [] for size in SIZES for url in URLS}
    with tempfile.TemporaryDirectory() as tmp:
        subjects = {size: _subject(size, Path(tmp)) for size in SIZES}
        # Alternate between the two databases, so that a busy machine slows both alike.
        for turn in range(ROUNDS + 1):
            for size, (_app, client, headers, round_id) in subjects.items():
                for url in URLS:
                    elapsed = _time_ms(client, f"/api/v1/surveys/{round_id}/{url}", headers)
                    if turn:  # the first turn warms caches up
                        timings[(size, url)].append(elapsed)
        for app, *_rest in subjects.values():
            with app.app_context():
                db.engine.dispose()
    small, large = SIZES
    ok = True
    print(f"{'results':32} {small:>10,} {large:>10,}  ratio (target <= {TARGET})")
    for url in URLS:
        low, high = (statistics.median(timings[(size, url)]) for size in SIZES)
        ok &= high / low <= TARGET
        print(f"{url:32} {low:>8.1f}ms {high:>8.1f}ms  {high / low:.2f}")
    print("bench_voice:", "ok" if ok else "MISSED the target")
    return ok


if __name__ == "__main__":
    main()
