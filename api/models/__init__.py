"""All models, imported so Alembic and the app see the whole metadata."""

from api.models.activity import Activity, ActivityDeparture, ActivityRevision
from api.models.audit import AuditEvent
from api.models.counter import SequenceCounter
from api.models.identity import OidcLogin, ReminderSent, SignInGrant
from api.models.rollup import ActivityRollup
from api.models.school import School, school_assignment
from api.models.survey import SurveyCode, SurveyResponse, SurveyRound, SurveyTally
from api.models.sync import SyncMutation
from api.models.user import LoginAttempt, RevokedToken, TokenFamily, User

__all__ = [
    "Activity",
    "ActivityDeparture",
    "ActivityRevision",
    "ActivityRollup",
    "AuditEvent",
    "LoginAttempt",
    "OidcLogin",
    "ReminderSent",
    "RevokedToken",
    "School",
    "SequenceCounter",
    "SurveyCode",
    "SurveyResponse",
    "SurveyRound",
    "SurveyTally",
    "SignInGrant",
    "SyncMutation",
    "TokenFamily",
    "User",
    "school_assignment",
]
