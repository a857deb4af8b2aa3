"""Report schemas: the query parameters and the tables that come back."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from api.models.activity import CATEGORIES, OUTCOMES, REFERRALS, STATUSES
from api.models.school import SCHOOL_LEVELS
from api.schemas.common import CalendarDate
from api.services.reports import GROUP_KEYS

# What group_by may hold, for the document (repeats are refused by the validator).
_KEY = "({})".format("|".join(GROUP_KEYS))
GROUP_BY_PATTERN = rf"^ *{_KEY} *(, *{_KEY} *)*$"

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
MAX_RANGE_DAYS = 3653  # ten years
DATE_RANGE = validate.Range(min=EARLIEST_DAY, max=LATEST_DAY)


class ReportRangeSchema(Schema):
    from_ = CalendarDate(
        data_key="from",
        validate=DATE_RANGE,
        metadata={
            "description": "First day, YYYY-MM-DD, inclusive: the date of started_at in the "
            "program's time zone (PROGRAM_TIMEZONE), not UTC"
        },
    )
    to = CalendarDate(
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
            "pattern": GROUP_BY_PATTERN,
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


class ActivityMixCsvQuerySchema(ActivityMixQuerySchema):
    """The activity mix's filters; the format is CSV."""

    class Meta:
        exclude = ("format",)


class MixRowSchema(Schema):
    """One group. Only the keys named in group_by are present, with the numbers."""

    category = fields.String(validate=validate.OneOf(list(CATEGORIES)))
    school_id = fields.Integer()
    school_name = fields.String()
    school_level = fields.String(validate=validate.OneOf(SCHOOL_LEVELS))
    officer_id = fields.Integer()
    officer_name = fields.String()
    month = fields.String(
        metadata={"description": "YYYY-MM, in the program's time zone", "example": "2026-09"}
    )
    outcome = fields.String(
        allow_none=True,
        validate=validate.OneOf(OUTCOMES),
        metadata={"description": "null: no outcome recorded"},
    )
    referral_to = fields.String(
        allow_none=True,
        validate=validate.OneOf(REFERRALS),
        metadata={"description": "null: not a referral"},
    )
    count = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null when suppressed"}
    )
    minutes = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null when suppressed"}
    )
    share_of_count = fields.Float(
        required=True, allow_none=True, metadata={"description": "count / total"}
    )
    share_of_minutes = fields.Float(
        required=True, allow_none=True, metadata={"description": "minutes / total"}
    )
    suppressed = fields.Boolean(metadata={"description": "Present with public or suppress_below"})


class MixTotalsSchema(Schema):
    count = fields.Integer(required=True, allow_none=True)
    minutes = fields.Integer(required=True, allow_none=True)
    suppressed = fields.Boolean(
        metadata={"description": "true only when the total is itself a small cell"}
    )


class MixFiltersSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", required=True, allow_none=True)
    to = fields.String(required=True, allow_none=True)
    group_by = fields.List(fields.String(), required=True)
    status = fields.String(required=True, allow_none=True)
    school_id = fields.Integer(required=True, allow_none=True)
    public = fields.Boolean(required=True)
    suppress_below = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The threshold applied; null: raw counts"},
    )


class ActivityMixSchema(Schema):
    rows = fields.List(fields.Nested(MixRowSchema), required=True)
    totals = fields.Nested(MixTotalsSchema, required=True)
    filters = fields.Nested(MixFiltersSchema, required=True)


class ConfirmationQuerySchema(ReportRangeSchema):
    pass


class ReviewCountsSchema(Schema):
    total = fields.Integer(required=True)
    submitted = fields.Integer(required=True, metadata={"description": "Awaiting review"})
    confirmed = fields.Integer(required=True)
    disputed = fields.Integer(required=True)
    overdue = fields.Integer(
        required=True,
        metadata={"description": "Submitted more than REVIEW_OVERDUE_DAYS ago, still unreviewed"},
    )
    confirmation_rate = fields.Float(
        required=True, allow_none=True, metadata={"description": "confirmed/total"}
    )
    median_hours_to_review = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "From submitted_at to reviewed_at, reviewed ones"},
    )


class ConfirmationRowSchema(ReviewCountsSchema):
    school_id = fields.Integer(required=True)
    school_name = fields.String(required=True)
    school_level = fields.String(required=True, validate=validate.OneOf(SCHOOL_LEVELS))


class ConfirmationFiltersSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", required=True, allow_none=True)
    to = fields.String(required=True, allow_none=True)
    overdue_days = fields.Integer(required=True)


class ConfirmationSchema(Schema):
    rows = fields.List(fields.Nested(ConfirmationRowSchema), required=True)
    totals = fields.Nested(ReviewCountsSchema, required=True)
    filters = fields.Nested(ConfirmationFiltersSchema, required=True)
