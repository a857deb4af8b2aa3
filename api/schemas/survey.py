"""Community voice schemas: rounds, codes, answering and results (voice.md)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.models.survey import AUDIENCES, IDENTITY_KEYS, ITEM_KEYS, PREFER_NOT
from api.schemas.common import StrictSchema
from api.schemas.report import DATE_RANGE
from api.services.surveys import status_of

ID = validate.Range(min=1, max=2**31 - 1)
IDENTITY_CHOICES = (*IDENTITY_KEYS, PREFER_NOT)
STATUSES = ("scheduled", "open", "closed")


class BilingualSchema(Schema):
    en = fields.String()
    fr = fields.String()


class RoundCreateSchema(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    opens_on = fields.Date(required=True, validate=DATE_RANGE)
    closes_on = fields.Date(required=True, validate=DATE_RANGE)
    school_ids = fields.List(
        fields.Integer(validate=ID), required=True, validate=validate.Length(min=1, max=1000)
    )
    audiences = fields.List(
        fields.String(validate=validate.OneOf(AUDIENCES)),
        required=True,
        validate=validate.Length(min=1, max=len(AUDIENCES)),
    )

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        first, last = data.get("opens_on"), data.get("closes_on")
        if first and last and last < first:
            raise ValidationError("Must be on or after opens_on.", field_name="closes_on")


class RoundUpdateSchema(StrictSchema):
    title = fields.String(validate=validate.Length(min=1, max=200))
    opens_on = fields.Date(validate=DATE_RANGE)
    closes_on = fields.Date(validate=DATE_RANGE)


class RoundSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    instrument = fields.String()
    opens_on = fields.Date()
    closes_on = fields.Date()
    school_ids = fields.List(fields.Integer())
    audiences = fields.List(fields.String())
    status = fields.Function(
        lambda survey: status_of(survey),
        metadata={"type": "string", "enum": list(STATUSES), "description": "By today's date"},
    )
    version = fields.Integer()


class RoundPageSchema(Schema):
    items = fields.List(fields.Nested(RoundSchema))
    next_cursor = fields.String(allow_none=True)


class CodesRequestSchema(StrictSchema):
    school_id = fields.Integer(required=True, validate=ID)
    audience = fields.String(required=True, validate=validate.OneOf(AUDIENCES))
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))


class SlipSchema(Schema):
    code = fields.String()
    url = fields.String(metadata={"description": "The survey address with the code after #"})
    qr = fields.String(metadata={"description": "A QR code of `url`, as an SVG data: URI"})


class CodesSchema(Schema):
    school_id = fields.Integer()
    audience = fields.String()
    codes = fields.List(fields.String(), metadata={"description": "Shown once, never again"})
    address = fields.String(metadata={"description": "The survey page's address"})
    slips = fields.List(fields.Nested(SlipSchema))


class CodeSchema(StrictSchema):
    code = fields.String(
        required=True,
        # Bounded, but generously: anything that is not a code is a 404 `not_found`.
        validate=validate.Length(max=10_000),
        metadata={"description": "Case, spaces and dashes ignored", "example": "K7QMX-4PAB9"},
    )


class ItemValue(fields.Integer):
    """An answer: a whole number 1-5 (a JSON number, not a string or a boolean) or null."""

    def __init__(self, **kwargs):
        super().__init__(
            strict=True, allow_none=True, validate=validate.Range(min=1, max=5), **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ResponseSchema(CodeSchema):
    language = fields.String(required=True, validate=validate.OneOf(("en", "fr")))
    answers = fields.Dict(
        keys=fields.String(validate=validate.OneOf(ITEM_KEYS)),
        values=ItemValue(),
        required=True,
        metadata={"description": "Item key → 1-5, or null when skipped"},
    )
    identity = fields.List(
        fields.String(validate=validate.OneOf(IDENTITY_CHOICES)),
        load_default=list,
        validate=validate.Length(max=len(IDENTITY_CHOICES)),
    )

    @validates_schema
    def _prefer_not_alone(self, data, **kwargs):
        identity = data.get("identity") or []
        if PREFER_NOT in identity and len(set(identity)) > 1:
            raise ValidationError(
                "prefer_not_to_say cannot be combined with another answer.", field_name="identity"
            )


class ReceivedSchema(Schema):
    received = fields.Boolean()


class KeyTextSchema(Schema):
    key = fields.String()
    text = fields.Nested(BilingualSchema)


class ScaleStepSchema(Schema):
    value = fields.Integer()
    text = fields.Nested(BilingualSchema)


class CheckSurveySchema(Schema):
    title = fields.String()
    closes_on = fields.Date()


class CheckSchema(Schema):
    survey = fields.Nested(CheckSurveySchema)
    audience = fields.String()
    school_name = fields.String()
    instrument = fields.String()
    items = fields.List(fields.Nested(KeyTextSchema))
    scale = fields.List(fields.Nested(ScaleStepSchema))
    identity_options = fields.List(fields.Nested(KeyTextSchema))


class ResultsQuerySchema(Schema):
    school_id = fields.Integer(validate=ID)
    audience = fields.String(validate=validate.OneOf(AUDIENCES))
    group_by = fields.String(
        load_default="identity",
        validate=validate.OneOf(("identity", "audience", "school_level", "school")),
    )
    format = fields.String(validate=validate.OneOf(("json", "csv")))


class FiguresSchema(Schema):
    n = fields.Integer(allow_none=True)
    agree_pct = fields.Float(allow_none=True)
    disagree_pct = fields.Float(allow_none=True)
    mean = fields.Float(allow_none=True)


class GroupFiguresSchema(FiguresSchema):
    group = fields.Raw(metadata={"description": "Group key, audience, level or school id"})
    gap_pts = fields.Float(allow_none=True)
    suppressed = fields.Boolean()


class ItemResultSchema(Schema):
    key = fields.String()
    text = fields.Nested(BilingualSchema)
    overall = fields.Nested(FiguresSchema)
    groups = fields.List(fields.Nested(GroupFiguresSchema))


class ParticipationSchema(Schema):
    school_id = fields.Integer()
    audience = fields.String()
    issued = fields.Integer()
    responses = fields.Integer()
    response_rate = fields.Float(allow_none=True)


class ResultsSchema(Schema):
    survey_id = fields.Integer()
    responses = fields.Integer()
    suppress_below = fields.Integer()
    group_by = fields.String()
    participation = fields.List(fields.Nested(ParticipationSchema))
    items = fields.List(fields.Nested(ItemResultSchema))
