"""Activities an officer logs, and every version of them."""

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Uuid,
    and_,
    case,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from api.extensions import db
from api.models.types import UTCDateTime, utcnow

CATEGORIES = {
    "education": (
        "Education",
        "Presentations to classes on safety, online safety and law-related topics.",
    ),
    "counselling": (
        "Counselling",
        "Law-related counselling of a student or family; relationship building.",
    ),
    "mediation": ("Mediation", "Mediation and restorative practices between students."),
    "emergency_response": (
        "Emergency response",
        "Immediate response to a threat or emergency; emergency preparedness (drills, plans).",
    ),
    "community_referral": (
        "Community referral",
        "Helping a student or family reach a community resource "
        "(mental health, youth services, housing, addictions).",
    ),
}
AUDIENCES = ("students", "staff", "families", "community")
REFERRAL_CATEGORY = "community_referral"  # the category that needs referral_to
REFERRALS = (
    "mental_health",
    "youth_services",
    "family_services",
    "addictions",
    "housing",
    "victim_services",
    "other",
)
OUTCOMES = ("none", "follow_up", "referral_made", "alternative_measures", "charge_laid")
STATUSES = ("submitted", "confirmed", "disputed")
CONTENT_FIELDS = (
    "school_id",
    "category",
    "started_at",
    "duration_minutes",
    "audience",
    "participant_count",
    "summary",
    "referral_to",
    "outcome",
)


def one_of(column: str, values) -> str:
    """SQL that is true when the column holds one of the values, as a chain of comparisons.

    Not ``column IN (...)``: for a list of more than two constants SQLite builds a lookup
    table each time the expression runs, which in a CHECK is every row written. Four such
    checks were a third of an activity insert's cost; these chains cost next to nothing
    (migration 0003)."""
    return "(" + " OR ".join(f"{column} = '{value}'" for value in values) + ")"


class Activity(db.Model):
    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint(one_of("category", CATEGORIES), name="ck_activity_category"),
        CheckConstraint(one_of("status", STATUSES), name="ck_activity_status"),
        CheckConstraint(
            f"outcome IS NULL OR {one_of('outcome', OUTCOMES)}", name="ck_activity_outcome"
        ),
        CheckConstraint(
            f"referral_to IS NULL OR {one_of('referral_to', REFERRALS)}",
            name="ck_activity_referral",
        ),
        CheckConstraint(
            f"category <> '{REFERRAL_CATEGORY}' OR referral_to IS NOT NULL",
            name="ck_activity_referral_required",
        ),
        CheckConstraint("duration_minutes BETWEEN 1 AND 720", name="ck_activity_duration"),
        CheckConstraint("participant_count BETWEEN 0 AND 5000", name="ck_activity_participants"),
        CheckConstraint("version >= 1", name="ck_activity_version"),
        Index("ix_activity_started", "started_at", "id"),
        Index("ix_activity_officer_started", "officer_id", "started_at", "id"),
        Index("ix_activity_school_started", "school_id", "started_at", "id"),
        Index("ix_activity_officer_seq", "officer_id", "change_seq"),
        Index("ix_activity_school_seq", "school_id", "change_seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    officer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    officer = relationship("User", foreign_keys=[officer_id], lazy="selectin", viewonly=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    category: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int]
    audience: Mapped[list] = mapped_column(JSON, default=list)
    participant_count: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str | None] = mapped_column(String(500))
    referral_to: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    review_note: Mapped[str | None] = mapped_column(String(500))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)
    # The version at which content last changed; later versions were reviews only.
    content_version: Mapped[int] = mapped_column(default=1)
    # Position in the change feed that devices pull; taken inside the writing transaction.
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the activity last went to the school for review: when it was logged, or when an
    # edit sent a reviewed activity back (activities.edition). Overdue counts and hours to
    # review are measured from here, not from created_at.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def officer_name(self) -> str | None:
        return self.officer.display_name if self.officer is not None else None

    def content(self) -> dict:
        """The client-owned fields, in a canonical comparable form."""
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


class ActivityRevision(db.Model):
    """One row per version of an activity: who did what, when, and what changed."""

    __tablename__ = "activity_revision"
    __table_args__ = (
        db.UniqueConstraint("activity_id", "version", name="uq_revision_activity_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("activity.id", ondelete="CASCADE")
    )
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    actor = relationship("User", foreign_keys=[actor_id], lazy="selectin", viewonly=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    @property
    def actor_name(self) -> str | None:
        return self.actor.display_name if self.actor is not None else None


class ActivityDeparture(db.Model):
    """An activity moved away from a school (an edit of its school_id), at its place in the
    change feed: the leaders of that school no longer see it, and their next pull says so
    (a tombstone), so that no copy of it stays on their devices."""

    __tablename__ = "activity_departure"

    change_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))

    __table_args__ = (Index("ix_departure_school_seq", "school_id", "change_seq"),)


# The review an officer's edit sent back: for a submitted activity that the school had
# confirmed or disputed before its content changed, the newest of those reviews, as the status
# it gave ("confirmed" or "disputed"); otherwise None. Read from the history in the same query
# as the row, and only for rows that are submitted and were edited after they were logged
# (content_version > 1), so a never-edited activity costs nothing. Not a column: the services
# that change status keep the loaded value right (activities.edit, review.review).
_LAST_REVIEW = (
    select(case((ActivityRevision.action == "confirm", "confirmed"), else_="disputed"))
    .where(
        ActivityRevision.activity_id == Activity.id,
        ActivityRevision.action.in_(("confirm", "dispute")),
    )
    .order_by(ActivityRevision.version.desc())
    .limit(1)
    .correlate_except(ActivityRevision)
    .scalar_subquery()
)
Activity.reopened_from = column_property(
    case((and_(Activity.status == "submitted", Activity.content_version > 1), _LAST_REVIEW))
)
