"""Community voice: rounds, single-use codes, anonymous answers (see docs/surveys.md).

A code is 10 characters from an alphabet without look-alikes (31 symbols: about 49.5 bits),
drawn with ``secrets`` and kept only as the SHA-256 of its normalised text. A hash of a
high-entropy random code needs no salt or slow hash: no dictionary covers it, and a code
that leaks from the database opens one empty answer sheet, never an answer.
"""

import hashlib
import secrets
from datetime import date
from unicodedata import category

from sqlalchemy import Select, insert, select, update

from api import dates
from api.database import dialect_insert
from api.errors import ApiError, Invalid, NotFound
from api.extensions import db
from api.models import School, User
from api.models.school import school_assignment
from api.models.survey import (
    INSTRUMENT,
    ITEM_KEYS,
    TALLY_GROUPS,
    SurveyCode,
    SurveyResponse,
    SurveyRound,
    SurveyTally,
    survey_round_school,
)
from api.services import audit, survey_instrument

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 10
ALL_ROUNDS_ROLES = ("program_manager", "admin")


class Gone(ApiError):
    status, code = 410, "gone"


def answer_date() -> date:
    """Today in the program's time zone: the date an answer is stored with, and the date a
    round's status is read at."""
    return dates.today()


def status_of(survey: SurveyRound, today: date | None = None) -> str:
    today = today or answer_date()
    if today < survey.opens_on:
        return "scheduled"
    return "open" if today <= survey.closes_on else "closed"


# --- codes -------------------------------------------------------------------------------


def new_code() -> str:
    text = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{text[:5]}-{text[5:]}"


def normalise(code: str) -> str | None:
    """The code's symbols without case, dashes (any: a phone may type an en dash) or white
    space; None when it cannot be a code."""
    text = "".join(ch for ch in code.upper() if not (ch.isspace() or category(ch) == "Pd"))
    if len(text) != CODE_LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def code_hash(normalised: str) -> str:
    return hashlib.sha256(f"{INSTRUMENT}:{normalised}".encode()).hexdigest()


# --- rounds ------------------------------------------------------------------------------


def visible_rounds(user: User) -> Select:
    """Managers and admins: every round; leaders: rounds with one of their schools."""
    query = select(SurveyRound)
    if user.role in ALL_ROUNDS_ROLES:
        return query
    if user.role != "school_leader":
        return query.where(SurveyRound.id.is_(None))
    mine = select(survey_round_school.c.round_id).join(
        school_assignment, school_assignment.c.school_id == survey_round_school.c.school_id
    )
    return query.where(SurveyRound.id.in_(mine.where(school_assignment.c.user_id == user.id)))


def get_round(user: User, round_id: int) -> SurveyRound:
    survey = db.session.scalar(visible_rounds(user).where(SurveyRound.id == round_id))
    if survey is None:
        raise NotFound("No such survey round.")
    return survey


def _schools(ids: list[int]) -> list[School]:
    found = list(db.session.scalars(select(School).where(School.id.in_(ids))))
    missing = sorted(set(ids) - {school.id for school in found})
    if missing:
        raise Invalid(
            "Some schools do not exist.",
            details={"school_ids": [f"No school with id {i}." for i in missing]},
        )
    return found


def create_round(data: dict, actor: User) -> SurveyRound:
    survey = SurveyRound(
        title=data["title"],
        instrument=INSTRUMENT,
        opens_on=data["opens_on"],
        closes_on=data["closes_on"],
        audiences=list(dict.fromkeys(data["audiences"])),
        created_by=actor.id,
        schools=_schools(data["school_ids"]),
    )
    db.session.add(survey)
    db.session.flush()
    audit.record(
        "survey_round_create",
        "survey_round",
        survey.id,
        actor_id=actor.id,
        changes={
            "title": survey.title,
            "opens_on": survey.opens_on.isoformat(),
            "closes_on": survey.closes_on.isoformat(),
            "school_ids": survey.school_ids,
            "audiences": survey.audiences,
        },
    )
    db.session.commit()
    return survey


def update_round(survey: SurveyRound, data: dict, actor: User) -> SurveyRound:
    opens_on = data.get("opens_on", survey.opens_on)
    closes_on = data.get("closes_on", survey.closes_on)
    if closes_on < opens_on:
        raise Invalid(
            "A round cannot close before it opens.",
            details={"closes_on": ["Must be on or after opens_on."]},
        )
    changes = {}
    for key, value in data.items():
        if getattr(survey, key) != value:
            changes[key] = {"from": str(getattr(survey, key)), "to": str(value)}
            setattr(survey, key, value)
    if changes:
        survey.version += 1
        audit.record(
            "survey_round_update", "survey_round", survey.id, actor_id=actor.id, changes=changes
        )
    db.session.commit()
    return survey


# --- issuing codes -----------------------------------------------------------------------


def issuing_school(user: User, survey: SurveyRound, school_id: int) -> School:
    """The round's school a user may issue codes for; 404 when it is not theirs or not in it."""
    school = next((s for s in survey.schools if s.id == school_id), None)
    if school is None:
        raise NotFound("This school is not part of the survey round.")
    if user.role not in ALL_ROUNDS_ROLES and school_id not in user.school_ids:
        raise NotFound("This school is not part of the survey round.")
    return school


def issue_codes(survey: SurveyRound, data: dict, actor: User) -> list[str]:
    """Make ``count`` new codes; only their hashes are kept, the codes returned once."""
    school = issuing_school(actor, survey, data["school_id"])
    audience = data["audience"]
    if audience not in survey.audiences:
        raise Invalid(
            "This round does not survey that audience.",
            details={"audience": [f"Must be one of: {', '.join(survey.audiences)}."]},
        )
    codes = [new_code() for _ in range(data["count"])]
    rows = [
        {
            "code_hash": code_hash(normalise(code)),
            "round_id": survey.id,
            "school_id": school.id,
            "audience": audience,
            "used": False,
        }
        for code in codes
    ]
    db.session.execute(insert(SurveyCode), rows)
    _ensure_tallies(survey.id, school.id, audience)
    db.session.execute(
        update(SurveyTally)
        .where(*_tally_key(survey.id, school.id, audience), SurveyTally.grp == "all")
        .values(issued=SurveyTally.issued + len(codes))
    )
    audit.record(
        "survey_codes_issue",
        "survey_round",
        survey.id,
        actor_id=actor.id,
        changes={"school_id": school.id, "audience": audience, "count": len(codes)},
    )
    db.session.commit()
    return codes


def _tally_key(round_id: int, school_id: int, audience: str) -> tuple:
    return (
        SurveyTally.round_id == round_id,
        SurveyTally.school_id == school_id,
        SurveyTally.audience == audience,
    )


def _ensure_tallies(round_id: int, school_id: int, audience: str) -> None:
    """The school and audience's tally rows, made the first time (a concurrent first issue
    or answer finds them made: nothing is added twice, nobody fails)."""
    empty = {key: {"n": 0, "agree": 0, "disagree": 0, "total": 0} for key in ITEM_KEYS}
    rows = [
        {
            "round_id": round_id,
            "school_id": school_id,
            "audience": audience,
            "grp": group,
            "issued": 0,
            "responses": 0,
            "counts": empty,
        }
        for group in TALLY_GROUPS
    ]
    dialect = db.session.get_bind().dialect.name
    db.session.execute(dialect_insert(dialect)(SurveyTally).on_conflict_do_nothing(), rows)


# --- answering ---------------------------------------------------------------------------


def _code_row(code: str):
    """The code's row with its round and school, or 404 (unknown and malformed alike)."""
    text = normalise(code)
    row = None
    if text is not None:
        row = db.session.execute(
            select(SurveyCode, SurveyRound, School)
            .join(SurveyRound, SurveyRound.id == SurveyCode.round_id)
            .join(School, School.id == SurveyCode.school_id)
            .where(SurveyCode.code_hash == code_hash(text))
        ).first()
    if row is None:
        raise NotFound("This code is not known. Check it and try again.")
    return row


def _check_usable(code: SurveyCode, survey: SurveyRound) -> None:
    if code.used:
        raise Gone("This code has already been used.", code="code_used")
    state = status_of(survey)
    if state == "scheduled":
        raise Gone("This survey is not open yet.", code="survey_not_open")
    if state == "closed":
        raise Gone("This survey is closed.", code="survey_closed")


def check_code(code: str) -> dict:
    found, survey, school = _code_row(code)
    _check_usable(found, survey)
    return {
        "survey": {"title": survey.title, "closes_on": survey.closes_on},
        "audience": found.audience,
        "school_name": school.name,
        "instrument": survey.instrument,
        "items": survey_instrument.items_for(found.audience),
        "scale": survey_instrument.scale(),
        "identity_options": survey_instrument.identity_options(),
    }


def submit(body: dict) -> None:
    """Store one answer sheet and use up its code, in one transaction."""
    found, survey, _school = _code_row(body["code"])
    _check_usable(found, survey)
    spent = db.session.execute(
        update(SurveyCode)
        .where(SurveyCode.id == found.id, SurveyCode.used.is_(False))
        .values(used=True)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise Gone("This code has already been used.", code="code_used")
    answers = {key: body["answers"].get(key) for key in ITEM_KEYS}
    identity = sorted(set(body["identity"]))
    db.session.add(
        SurveyResponse(
            round_id=found.round_id,
            school_id=found.school_id,
            audience=found.audience,
            answered_on=answer_date(),
            identity=identity,
            **answers,
        )
    )
    add_to_tallies(found.round_id, found.school_id, found.audience, [(answers, identity)])
    db.session.commit()


def add_to_tallies(round_id: int, school_id: int, audience: str, sheets: list[tuple]) -> None:
    """Add answer sheets ((answers, identity) pairs) of one school and audience to the
    running sums, holding their rows locked (in id order) until the transaction ends."""
    _ensure_tallies(round_id, school_id, audience)
    rows = db.session.scalars(
        select(SurveyTally)
        .where(*_tally_key(round_id, school_id, audience))
        .order_by(SurveyTally.id)
        .with_for_update()
    )
    for row in rows:
        counts = {key: dict(value) for key, value in row.counts.items()}
        for answers, identity in sheets:
            if row.grp != "all" and row.grp not in identity:
                continue
            row.responses += 1
            for key, value in answers.items():
                if value is not None:
                    cell = counts[key]
                    cell["n"] += 1
                    cell["total"] += value
                    cell["agree"] += value >= 4
                    cell["disagree"] += value <= 2
        row.counts = counts
