"""Schemas for sign-in, users, schools and categories."""

from flask import current_app
from marshmallow import Schema, fields, validate

from api import dates
from api.models.activity import CATEGORIES
from api.models.school import SCHOOL_LEVELS
from api.models.user import ROLES
from api.schemas.common import StrictSchema
from api.services.passwords import MAX_LENGTH, MIN_LENGTH

ID_RANGE = validate.Range(min=1, max=2**31 - 1)


def new_password(description: str) -> fields.String:
    """A password being set. The policy (api.services.passwords) judges it after the schema,
    naming every reason at once; the document states its rules."""
    rules = (
        f"{MIN_LENGTH} to {MAX_LENGTH} characters, no composition rules; common passwords "
        "are refused (422, saying why)."
    )
    return fields.String(
        load_only=True,
        validate=validate.Length(max=MAX_LENGTH),
        metadata={"minLength": MIN_LENGTH, "description": f"{rules} {description}"},
    )


class LoginSchema(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_LENGTH)
    )


class SchoolRefSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(SCHOOL_LEVELS))


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    active = fields.Boolean(required=True)
    school_ids = fields.List(fields.Integer(), required=True)
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class ProgramZoneField(fields.String):
    """The program's time zone (PROGRAM_TIMEZONE), whatever is being dumped."""

    def get_value(self, obj, attr, accessor=None, default=None):
        return current_app.config["PROGRAM_TIMEZONE"]


class ProgramTodayField(fields.Date):
    """Today's date in the program's time zone, whatever is being dumped."""

    def get_value(self, obj, attr, accessor=None, default=None):
        return dates.today()


class OverdueDaysField(fields.Integer):
    """After how many program days an unreviewed activity is overdue (REVIEW_OVERDUE_DAYS)."""

    def get_value(self, obj, attr, accessor=None, default=None):
        return current_app.config["REVIEW_OVERDUE_DAYS"]


class MeSchema(UserSchema):
    schools = fields.List(fields.Nested(SchoolRefSchema), required=True)
    program_timezone = ProgramZoneField(
        required=True,
        dump_only=True,
        metadata={
            "description": "The program's time zone (IANA name, e.g. America/Edmonton). "
            "Calendar dates (report days and months, `from`/`to` filters, overdue days) "
            "are dates in this zone, not UTC.",
            "example": dates.DEFAULT_ZONE,
        },
    )
    program_today = ProgramTodayField(
        required=True,
        dump_only=True,
        metadata={"description": "Today's date in the program's time zone (YYYY-MM-DD)."},
    )
    review_overdue_days = OverdueDaysField(
        required=True,
        dump_only=True,
        metadata={
            "description": "An activity still submitted (not reviewed) is overdue once it was "
            "submitted more than this many calendar days ago in the program's time zone, as "
            "the confirmation report and the review reminders count it."
        },
    )
    email_reminders = fields.Boolean(required=True)


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Integer(
        required=True, metadata={"description": "Access token lifetime in seconds"}
    )
    user = fields.Nested(MeSchema, required=True)


class UserCreateSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    active = fields.Boolean(load_default=True)
    school_ids = fields.List(
        fields.Integer(strict=True, validate=ID_RANGE),
        load_default=list,
        validate=validate.Length(max=500),
    )
    password = new_password(
        "Leave out for a user who signs in only through an identity provider (allowed when "
        "one is configured)."
    )


class UserUpdateSchema(StrictSchema):
    email = fields.Email(validate=validate.Length(max=254))
    display_name = fields.String(validate=validate.Length(min=1, max=120))
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    school_ids = fields.List(
        fields.Integer(strict=True, validate=ID_RANGE), validate=validate.Length(max=500)
    )
    password = new_password("Sets a new password (an admin's reset).")


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class SchoolSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(SCHOOL_LEVELS))
    active = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class SchoolCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=32), validate.Regexp(r"^[A-Za-z0-9_.-]+$")],
        metadata={
            "description": "Unique short code whatever its case (RJH and rjh are one): "
            "letters, digits, . _ -"
        },
    )
    level = fields.String(required=True, validate=validate.OneOf(SCHOOL_LEVELS))
    active = fields.Boolean(load_default=True)


class SchoolUpdateSchema(SchoolCreateSchema):
    """Each field optional and without a default: a field left out keeps its value."""

    active = fields.Boolean()

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class SchoolPageSchema(Schema):
    items = fields.List(fields.Nested(SchoolSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class CategorySchema(Schema):
    key = fields.String(required=True, validate=validate.OneOf(list(CATEGORIES)))
    label = fields.String(required=True)
    description = fields.String(required=True)


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategorySchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
