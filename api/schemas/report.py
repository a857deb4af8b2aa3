"""Report schemas: the query parameters and the tables that come back."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from api.models.activity import CATEGORIES, OUTCOMES, REFERRALS, STATUSES
from api.models.school import SCHOOL_LEVELS
from api.services.reports import GROUP_KEYS

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
MAX_RANGE_DAYS = 3653  # ten years
DATE_RANGE = validate.Range(min=EARLIEST_DAY, max=LATEST_DAY)


class ReportRangeSchema(Schema):
    from_ = fields.Date(
        data_key="from",
        validate=DATE_RANGE,
        metadata={
            "description": "First day, YYYY-MM-DD, inclusive: the date of started_at in the "
            "program's time zone (PROGRAM_TIMEZONE), not UTC"
        },
    )
    to = fields.Date(
        validate=DATE_RANGE,
        metadata={"description": "Last day, inclusive; at most ten years after `from`"},
    )

    @validates_schema
    def _bounded(self, data, **kwargs):
        first, last = data.get("from_"), data.get("to")
        if first and last and last < first:
            raise ValidationError("Must not be before 'from'.", field_name="to")
        if first and last and (last - first).days > MAX_RANGE_DAYS:
            raise ValidationError("The range may span at most ten years.", field_name="to")

    @post_load
    def _rename(self, data, **kwargs):
        data["from"] = data.pop("from_", None)
        data.setdefault("to", None)
        return data


class ActivityMixQuerySchema(ReportRangeSchema):
    group_by = fields.String(
        load_default="category",
        validate=validate.Length(min=1, max=120),
        metadata={
            "description": "Comma-separated, each at most once, from: " + ", ".join(GROUP_KEYS),
            "example": "category,month",
        },
    )
    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={"description": "Only this review state (default: all but deleted)"},
    )
    school_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    public = fields.Boolean(
        load_default=False,
        metadata={"description": "Suppress small cells with the configured SUPPRESS_BELOW"},
    )
    suppress_below = fields.Integer(
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "Suppress counts below this (implies suppression)"},
    )
    format = fields.String(
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv: same as `Accept: text/csv`"},
    )

    @post_load
    def _group_keys(self, data, **kwargs):
        keys = [key.strip() for key in data["group_by"].split(",")]
        unknown = [key for key in keys if key not in GROUP_KEYS]
        if unknown:
            raise ValidationError(
                f"Unknown group key(s): {', '.join(repr(k) for k in unknown)}. "
                f"Use: {', '.join(GROUP_KEYS)}.",
                field_name="group_by",
            )
        if len(set(keys)) != len(keys):
            raise ValidationError("Name each group key once.", field_name="group_by")
        data["group_by"] = keys
        return data


class MixRowSchema(Schema):
    category = fields.String(metadata={"enum": list(CATEGORIES)})
    school_id = fields.Integer()
    school_name = fields.String()
    school_level = fields.String(metadata={"enum": list(SCHOOL_LEVELS)})
    officer_id = fields.Integer()
    officer_name = fields.String()
    month = fields.String(metadata={"description": "YYYY-MM (UTC)", "example": "2026-09"})
    outcome = fields.String(
        allow_none=True,
        metadata={"enum": list(OUTCOMES), "description": "null: no outcome recorded"},
    )
    referral_to = fields.String(
        allow_none=True,
        metadata={"enum": list(REFERRALS), "description": "null: not a referral"},
    )
    count = fields.Integer(allow_none=True, metadata={"description": "null when suppressed"})
    minutes = fields.Integer(allow_none=True, metadata={"description": "null when suppressed"})
    share_of_count = fields.Float(allow_none=True, metadata={"description": "count / total"})
    share_of_minutes = fields.Float(allow_none=True, metadata={"description": "minutes / total"})
    suppressed = fields.Boolean(metadata={"description": "Present with public or suppress_below"})


class MixTotalsSchema(Schema):
    count = fields.Integer(allow_none=True)
    minutes = fields.Integer(allow_none=True)
    suppressed = fields.Boolean(
        metadata={"description": "true only when the total is itself a small cell"}
    )


class MixFiltersSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(allow_none=True)
    group_by = fields.List(fields.String())
    status = fields.String(allow_none=True)
    school_id = fields.Integer(allow_none=True)
    public = fields.Boolean()
    suppress_below = fields.Integer(
        allow_none=True, metadata={"description": "The threshold applied; null: raw counts"}
    )


class ActivityMixSchema(Schema):
    rows = fields.List(fields.Nested(MixRowSchema))
    totals = fields.Nested(MixTotalsSchema)
    filters = fields.Nested(MixFiltersSchema)


class ConfirmationQuerySchema(ReportRangeSchema):
    pass


class ReviewCountsSchema(Schema):
    total = fields.Integer()
    submitted = fields.Integer(metadata={"description": "Awaiting review"})
    confirmed = fields.Integer()
    disputed = fields.Integer()
    overdue = fields.Integer(
        metadata={"description": "Submitted more than REVIEW_OVERDUE_DAYS ago, still unreviewed"}
    )
    confirmation_rate = fields.Float(allow_none=True, metadata={"description": "confirmed/total"})
    median_hours_to_review = fields.Float(
        allow_none=True, metadata={"description": "From created_at to reviewed_at, reviewed ones"}
    )


class ConfirmationRowSchema(ReviewCountsSchema):
    school_id = fields.Integer()
    school_name = fields.String()
    school_level = fields.String()


class ConfirmationFiltersSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(allow_none=True)
    overdue_days = fields.Integer()


class ConfirmationSchema(Schema):
    rows = fields.List(fields.Nested(ConfirmationRowSchema))
    totals = fields.Nested(ReviewCountsSchema)
    filters = fields.Nested(ConfirmationFiltersSchema)
