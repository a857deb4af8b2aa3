"""Activity schemas: what clients send, what they get back."""

from datetime import UTC, date, datetime, timedelta

from flask import g
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_dump,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from api.models.activity import (
    AUDIENCES,
    CATEGORIES,
    OUTCOMES,
    REFERRAL_CATEGORY,
    REFERRALS,
    STATUSES,
)
from api.schemas.common import (
    CalendarDate,
    ErrorBodySchema,
    PageQuerySchema,
    StrictSchema,
    UtcDateTime,
)
from api.services.privacy import identifier_problems

SERVER_OWNED = (
    "officer_id",
    "status",
    "review_note",
    "reviewed_by",
    "reviewed_at",
    "version",
    "created_at",
    "updated_at",
    "submitted_at",
    "deleted",
    "deleted_at",
)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=2)
# Filter dates stay inside what date arithmetic and the databases handle.
DATE_RANGE = validate.Range(min=date(1900, 1, 1), max=date(2999, 12, 31))
FREE_TEXT_HIDDEN_FROM = ("program_manager",)


def refuse_server_owned(data):
    """Name each server-owned key a client sent; they are never silently applied."""
    if isinstance(data, dict):
        sent = [key for key in SERVER_OWNED if key in data]
        if sent:
            raise ValidationError({key: ["Set by the server; do not send it."] for key in sent})
    return data


class ActivityContentSchema(StrictSchema):
    """The fields an officer owns."""

    # strict: 45.5 or "45" is a 422, never silently truncated or converted.
    school_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    category = fields.String(required=True, validate=validate.OneOf(list(CATEGORIES)))
    started_at = UtcDateTime(
        required=True,
        metadata={"description": "RFC 3339 with offset; from 2000-01-01 to at most two days ahead"},
    )
    duration_minutes = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=720)
    )
    audience = fields.List(
        fields.String(validate=validate.OneOf(AUDIENCES)),
        load_default=list,
        validate=validate.Length(max=len(AUDIENCES)),
        metadata={"uniqueItems": True},
    )
    participant_count = fields.Integer(
        load_default=0, strict=True, validate=validate.Range(min=0, max=5000)
    )
    summary = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "At most 500 characters; must not identify anyone"},
    )
    referral_to = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(REFERRALS),
        # The form reads the rule from the document (x-required-when); the activity rules
        # apply it to the content as stored, an edit merged with the stored copy.
        metadata={
            "description": f"Required when category is {REFERRAL_CATEGORY}",
            "x-required-when": {"category": REFERRAL_CATEGORY},
        },
    )
    outcome = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(OUTCOMES))

    @pre_load
    def _server_owned(self, data, **kwargs):
        return refuse_server_owned(data)

    @validates("started_at")
    def _started_at_plausible(self, value, **kwargs):
        if value < EARLIEST or value > datetime.now(UTC) + FUTURE_SLACK:
            raise ValidationError("Must be a real time, not far in the past or future.")

    @validates("summary")
    def _no_identifiers(self, value, **kwargs):
        problems = identifier_problems(value)
        if problems:
            raise ValidationError(problems)

    @validates("audience")
    def _unique_audience(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ValidationError("List each audience once.")


class ActivityCreateSchema(ActivityContentSchema):
    id = fields.UUID(load_default=None, metadata={"description": "Client-chosen UUID (optional)"})


class ActivityUpdateSchema(ActivityContentSchema):
    """Content fields only, each optional and without a default: a field left out keeps its
    value, so a generated client that sets one field sends (and changes) only that field."""

    audience = fields.List(
        fields.String(validate=validate.OneOf(AUDIENCES)),
        validate=validate.Length(max=len(AUDIENCES)),
        metadata={"uniqueItems": True},
    )
    participant_count = fields.Integer(strict=True, validate=validate.Range(min=0, max=5000))
    summary = fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "At most 500 characters; must not identify anyone"},
    )
    referral_to = fields.String(allow_none=True, validate=validate.OneOf(REFERRALS))
    outcome = fields.String(allow_none=True, validate=validate.OneOf(OUTCOMES))

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class ActivitySchema(Schema):
    # Every field is always present except summary and review_note (absent for managers).
    id = fields.UUID(required=True)
    officer_id = fields.Integer(required=True)
    officer_name = fields.String(
        required=True, allow_none=True, metadata={"description": "The officer's display name"}
    )
    school_id = fields.Integer(required=True)
    category = fields.String(required=True, validate=validate.OneOf(list(CATEGORIES)))
    started_at = fields.AwareDateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    audience = fields.List(fields.String(validate=validate.OneOf(AUDIENCES)), required=True)
    participant_count = fields.Integer(required=True)
    summary = fields.String(
        allow_none=True, metadata={"description": "Absent for program managers"}
    )
    referral_to = fields.String(required=True, allow_none=True, validate=validate.OneOf(REFERRALS))
    outcome = fields.String(required=True, allow_none=True, validate=validate.OneOf(OUTCOMES))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    review_note = fields.String(
        allow_none=True, metadata={"description": "Absent for program managers"}
    )
    reviewed_by = fields.Integer(required=True, allow_none=True)
    reviewed_at = fields.AwareDateTime(required=True, allow_none=True)
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    submitted_at = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "When the activity last went to the school for review: when it "
            "was logged, or when an edit sent a reviewed activity back"
        },
    )
    reopened_from = fields.String(
        validate=validate.OneOf(["confirmed", "disputed"]),
        metadata={
            "description": "Present only while an activity the school had confirmed or "
            "disputed waits for review again because the officer changed it: the status the "
            "school had given it (the newest review before the change)"
        },
    )

    @post_dump
    def _reopened_only_when_set(self, data, **kwargs):
        if data.get("reopened_from", "") is None:
            del data["reopened_from"]
        return data

    @post_dump
    def _hide_free_text(self, data, **kwargs):
        viewer = g.get("viewer")
        if viewer is not None and viewer.role in FREE_TEXT_HIDDEN_FROM:
            data.pop("summary", None)
            data.pop("review_note", None)
        return data


class ActivityPageSchema(Schema):
    items = fields.List(fields.Nested(ActivitySchema), required=True)
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )


class ActivityQuerySchema(PageQuerySchema):
    school_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    officer_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    category = fields.String(validate=validate.OneOf(list(CATEGORIES)))
    status = fields.String(validate=validate.OneOf(STATUSES))
    from_ = CalendarDate(
        data_key="from",
        validate=DATE_RANGE,
        metadata={"description": "On or after this date of started_at, in the program's zone"},
    )
    to = CalendarDate(
        validate=DATE_RANGE,
        metadata={"description": "On or before this date of started_at, in the program's zone"},
    )

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must not be before 'from'.", field_name="to")


class ReviewSchema(StrictSchema):
    BODY_OPTIONAL = True  # the contract's {note?}
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class DisputeSchema(StrictSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Why the school disputes this activity"},
    )


class BulkReviewSchema(StrictSchema):
    ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=500))
    action = fields.String(required=True, validate=validate.OneOf(["confirm", "dispute"]))
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "A confirm's optional note; a dispute's reason (required)"},
    )


# A per-item error (bulk review, sync push) has the one error shape's body.
ErrorObjectSchema = ErrorBodySchema


class BulkReviewResultSchema(Schema):
    id = fields.UUID(required=True)
    ok = fields.Boolean(required=True)
    activity = fields.Nested(ActivitySchema)
    error = fields.Nested(ErrorObjectSchema)


class BulkReviewResponseSchema(Schema):
    results = fields.List(fields.Nested(BulkReviewResultSchema), required=True)


class RevisionSchema(Schema):
    version = fields.Integer(required=True)
    action = fields.String(required=True)
    actor_id = fields.Integer(required=True)
    actor_name = fields.String(required=True, allow_none=True)
    at = fields.AwareDateTime(required=True)
    client_time = fields.AwareDateTime(required=True, allow_none=True)
    changes = fields.Dict(required=True, metadata={"description": "field → {from, to}"})

    @post_dump
    def _hide_free_text(self, data, **kwargs):
        viewer = g.get("viewer")
        if viewer is not None and viewer.role in FREE_TEXT_HIDDEN_FROM:
            for key in ("summary", "review_note"):
                data["changes"].pop(key, None)
        return data


class HistorySchema(Schema):
    items = fields.List(fields.Nested(RevisionSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
