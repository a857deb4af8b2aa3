"""Community voice: survey rounds, single-use codes, anonymous responses and their tallies.

Nothing here can identify a respondent. A code is kept only as a hash and a "used" flag (no
time); a response keeps its school, audience, the date (no time of day), its five answers and
the self-description flags, under a random id, and no link to its code. The database still
knows the order rows were written in (SQLite's rowid, PostgreSQL's xmin), so accepted answers
are never logged with a time (api/observability.py).
"""

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.school import School
from api.models.types import UTCDateTime, utcnow

INSTRUMENT = "sro-climate-v1"
ITEM_KEYS = (
    "safe_at_school",
    "safe_with_officer",
    "would_ask_for_help",
    "treated_fairly",
    "knows_role",
)
IDENTITY_KEYS = ("indigenous", "black", "racialized_other", "2slgbtq", "disability")
PREFER_NOT = "prefer_not_to_say"
AUDIENCES = ("students_4_6", "students_7_9", "students_10_12", "staff", "families")
# The tally's groups: everyone ("all"), then each self-description.
TALLY_GROUPS = ("all", *IDENTITY_KEYS, PREFER_NOT)

survey_round_school = Table(
    "survey_round_school",
    db.metadata,
    Column("round_id", ForeignKey("survey_round.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", ForeignKey("school.id", ondelete="CASCADE"), primary_key=True),
)


class SurveyRound(db.Model):
    __tablename__ = "survey_round"
    __table_args__ = (
        CheckConstraint("closes_on >= opens_on", name="ck_survey_round_dates"),
        CheckConstraint("version >= 1", name="ck_survey_round_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    instrument: Mapped[str] = mapped_column(String(40), default=INSTRUMENT)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    audiences: Mapped[list] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    schools: Mapped[list[School]] = relationship(
        secondary=survey_round_school, order_by=School.id, lazy="selectin"
    )

    @property
    def school_ids(self) -> list[int]:
        return sorted(school.id for school in self.schools)


class SurveyCode(db.Model):
    """A single-use code, as the SHA-256 of its normalised text; no time, no answer link."""

    __tablename__ = "survey_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(20))
    used: Mapped[bool] = mapped_column(default=False)


def _random_id() -> str:
    return str(uuid.uuid4())


class SurveyResponse(db.Model):
    """One anonymous answer sheet: no code, no address, no user agent, no time of day."""

    __tablename__ = "survey_response"
    __table_args__ = (
        *(
            CheckConstraint(f"{key} BETWEEN 1 AND 5", name=f"ck_survey_response_{key}")
            for key in ITEM_KEYS
        ),
        Index("ix_survey_response_round_school", "round_id", "school_id"),
        # Stored by the random key, not by a rowid that counts up: no order of submission.
        {"sqlite_with_rowid": False},
    )

    # Random, so that the key says nothing about the order of the answers.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_random_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(20))
    answered_on: Mapped[date] = mapped_column(Date)
    safe_at_school: Mapped[int | None] = mapped_column(SmallInteger)
    safe_with_officer: Mapped[int | None] = mapped_column(SmallInteger)
    would_ask_for_help: Mapped[int | None] = mapped_column(SmallInteger)
    treated_fairly: Mapped[int | None] = mapped_column(SmallInteger)
    knows_role: Mapped[int | None] = mapped_column(SmallInteger)
    identity: Mapped[list] = mapped_column(JSON, default=list)


class SurveyTally(db.Model):
    """Running sums per round, school, audience and group, kept in the answer's transaction,
    so that results read a few rows per school whatever the number of answers. The "all" row
    also counts the codes issued."""

    __tablename__ = "survey_tally"
    __table_args__ = (
        UniqueConstraint("round_id", "school_id", "audience", "grp", name="uq_survey_tally"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(20))
    grp: Mapped[str] = mapped_column(String(20))
    issued: Mapped[int] = mapped_column(default=0)
    responses: Mapped[int] = mapped_column(default=0)
    # For each item: n (non-null answers), agree (4-5), disagree (1-2), total (sum of values).
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
