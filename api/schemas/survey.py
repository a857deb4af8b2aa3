"""Community voice schemas: rounds, codes, answering and results (voice.md)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.models.survey import AUDIENCES, IDENTITY_KEYS, ITEM_KEYS, PREFER_NOT
from api.schemas.common import CalendarDate, StrictSchema
from api.schemas.report import DATE_RANGE
from api.services.surveys import status_of

ID = validate.Range(min=1, max=2**31 - 1)
IDENTITY_CHOICES = (*IDENTITY_KEYS, PREFER_NOT)
STATUSES = ("scheduled", "open", "closed")
GROUPINGS = ("identity", "audience", "school_level", "school")
AUDIENCE = validate.OneOf(AUDIENCES)
# Response schemas mark every field required: each is always present (null where allowed).


class BilingualSchema(Schema):
    en = fields.String(required=True)
    fr = fields.String(required=True)


class RoundCreateSchema(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    opens_on = CalendarDate(required=True, validate=DATE_RANGE)
    closes_on = CalendarDate(required=True, validate=DATE_RANGE)
    school_ids = fields.List(
        fields.Integer(validate=ID), required=True, validate=validate.Length(min=1, max=1000)
    )
    audiences = fields.List(
        fields.String(validate=AUDIENCE),
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
    opens_on = CalendarDate(validate=DATE_RANGE)
    closes_on = CalendarDate(validate=DATE_RANGE)


class RoundSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    instrument = fields.String(required=True)
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True)
    school_ids = fields.List(fields.Integer(), required=True)
    audiences = fields.List(fields.String(validate=AUDIENCE), required=True)
    status = fields.Function(
        lambda survey: status_of(survey),
        required=True,
        metadata={"type": "string", "enum": list(STATUSES), "description": "By today's date"},
    )
    version = fields.Integer(required=True)


class RoundPageSchema(Schema):
    items = fields.List(fields.Nested(RoundSchema), required=True)
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )


class CodesRequestSchema(StrictSchema):
    school_id = fields.Integer(required=True, validate=ID)
    audience = fields.String(required=True, validate=AUDIENCE)
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))


class SlipSchema(Schema):
    code = fields.String(required=True)
    url = fields.String(
        required=True, metadata={"description": "The survey address with the code after #"}
    )
    qr = fields.String(
        required=True, metadata={"description": "A QR code of `url`, as an SVG data: URI"}
    )


class CodesSchema(Schema):
    school_id = fields.Integer(required=True)
    audience = fields.String(required=True, validate=AUDIENCE)
    codes = fields.List(
        fields.String(), required=True, metadata={"description": "Shown once, never again"}
    )
    address = fields.String(required=True, metadata={"description": "The survey page's address"})
    slips = fields.List(fields.Nested(SlipSchema), required=True)


class TypedCode(fields.String):
    """A code as typed: any text, and text longer than any code could be typed is read as
    no code at all, so that it is a 404 `not_found` like every malformed code (the
    contract's "unknown or malformed") while the schema still states its bound."""

    MAX_LENGTH = 1000

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return text if len(text) <= self.MAX_LENGTH else ""


class CodeSchema(StrictSchema):
    code = TypedCode(
        required=True,
        metadata={
            "description": "Case, spaces and dashes ignored; anything else is an unknown code",
            "example": "K7QMX-4PAB9",
            "maxLength": TypedCode.MAX_LENGTH,
        },
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


# One field an item of the instrument: a generated client gets each typed, and a key that is
# not an item is refused (unknown = RAISE).
AnswersSchema = StrictSchema.from_dict(
    {key: ItemValue() for key in ITEM_KEYS}, name="AnswersSchema"
)


class ResponseSchema(CodeSchema):
    language = fields.String(required=True, validate=validate.OneOf(("en", "fr")))
    answers = fields.Nested(
        AnswersSchema,
        required=True,
        metadata={"description": "Each item's answer, 1-5, or null (or left out) when skipped"},
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
    received = fields.Boolean(required=True)


class KeyTextSchema(Schema):
    key = fields.String(required=True)
    text = fields.Nested(BilingualSchema, required=True)


class ScaleStepSchema(Schema):
    value = fields.Integer(required=True)
    text = fields.Nested(BilingualSchema, required=True)


class CheckSurveySchema(Schema):
    title = fields.String(required=True)
    closes_on = fields.Date(required=True)


class CheckSchema(Schema):
    survey = fields.Nested(CheckSurveySchema, required=True)
    audience = fields.String(required=True, validate=AUDIENCE)
    school_name = fields.String(required=True)
    instrument = fields.String(required=True)
    items = fields.List(fields.Nested(KeyTextSchema), required=True)
    scale = fields.List(fields.Nested(ScaleStepSchema), required=True)
    identity_options = fields.List(fields.Nested(KeyTextSchema), required=True)


class ResultsCsvQuerySchema(Schema):
    """The results' filters; `format` belongs to the JSON operation only."""

    school_id = fields.Integer(validate=ID)
    audience = fields.String(validate=AUDIENCE)
    group_by = fields.String(
        load_default="identity",
        validate=validate.OneOf(GROUPINGS),
        metadata={"description": "identity when left out"},
    )


class ResultsQuerySchema(ResultsCsvQuerySchema):
    format = fields.String(
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "csv: the same as getSurveyResultsCsv"},
    )


class FiguresSchema(Schema):
    n = fields.Integer(required=True, allow_none=True)
    agree_pct = fields.Float(required=True, allow_none=True)
    disagree_pct = fields.Float(required=True, allow_none=True)
    mean = fields.Float(required=True, allow_none=True)


class GroupFiguresSchema(FiguresSchema):
    group = fields.Raw(
        required=True, metadata={"description": "Group key, audience, level or school id"}
    )
    gap_pts = fields.Float(required=True, allow_none=True)
    suppressed = fields.Boolean(required=True)


class ItemResultSchema(Schema):
    key = fields.String(required=True)
    text = fields.Nested(BilingualSchema, required=True)
    overall = fields.Nested(FiguresSchema, required=True)
    groups = fields.List(fields.Nested(GroupFiguresSchema), required=True)


class ParticipationSchema(Schema):
    school_id = fields.Integer(required=True)
    audience = fields.String(required=True, validate=AUDIENCE)
    issued = fields.Integer(required=True)
    responses = fields.Integer(required=True)
    response_rate = fields.Float(required=True, allow_none=True)


class ResultsSchema(Schema):
    survey_id = fields.Integer(required=True)
    responses = fields.Integer(required=True)
    suppress_below = fields.Integer(required=True)
    group_by = fields.String(required=True, validate=validate.OneOf(GROUPINGS))
    participation = fields.List(fields.Nested(ParticipationSchema), required=True)
    items = fields.List(fields.Nested(ItemResultSchema), required=True)
