"""Schemas shared by every resource: the error shape, pagination, versions."""

import re
from datetime import UTC

from marshmallow import RAISE, Schema, fields, validate


class StrictSchema(Schema):
    """Body schema that refuses keys it does not know (an allow-list). ``BODY_OPTIONAL``:
    the request may have no body at all, which is read as ``{}`` (and documented so)."""

    BODY_OPTIONAL = False

    class Meta:
        unknown = RAISE


class ErrorBodySchema(Schema):
    code = fields.String(
        required=True, metadata={"description": "Stable machine code, e.g. validation_error"}
    )
    message = fields.String(required=True, metadata={"description": "Human sentence"})
    details = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": "Field name → list of messages for invalid input; else empty"},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class PageQuerySchema(Schema):
    limit = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=500), metadata={"description": "1–500"}
    )
    cursor = fields.String(
        load_default=None, validate=validate.Length(max=512), metadata={"description": "Opaque"}
    )


class UtcDateTime(fields.AwareDateTime):
    """An RFC 3339 time with an offset, loaded in UTC. A time UTC cannot hold (year 9999
    with a negative offset, year 1 with a positive one) is invalid input, not a 500."""

    default_error_messages = {"out_of_range": "Must be a time between the years 1 and 9999 UTC."}

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise self.make_error("out_of_range") from error


class CalendarDate(fields.Date):
    """A calendar date written YYYY-MM-DD (RFC 3339's full-date) and nothing else: Python's
    date.fromisoformat, under marshmallow's Date, also takes 20261031 and 2026-W44-6."""

    FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self.FULL_DATE.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)
