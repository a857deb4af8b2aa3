"""Schemas for sign-in, users, schools and categories."""

from marshmallow import Schema, fields, validate

from api.models.school import SCHOOL_LEVELS
from api.models.user import ROLES
from api.schemas.common import StrictSchema
from api.services.passwords import MAX_LENGTH

ID_RANGE = validate.Range(min=1, max=2**31 - 1)


class LoginSchema(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_LENGTH)
    )


class SchoolRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    code = fields.String()
    level = fields.String()


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    school_ids = fields.List(fields.Integer())
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class MeSchema(UserSchema):
    schools = fields.List(fields.Nested(SchoolRefSchema))
    email_reminders = fields.Boolean()


class TokenSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.Constant("Bearer")
    expires_in = fields.Integer(metadata={"description": "Access token lifetime in seconds"})
    user = fields.Nested(MeSchema)


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
    password = fields.String(
        load_only=True,
        validate=validate.Length(min=1, max=MAX_LENGTH),
        metadata={
            "description": "Leave out for a user who signs in only through an identity "
            "provider (allowed when one is configured)"
        },
    )


class UserUpdateSchema(StrictSchema):
    email = fields.Email(validate=validate.Length(max=254))
    display_name = fields.String(validate=validate.Length(min=1, max=120))
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    school_ids = fields.List(
        fields.Integer(strict=True, validate=ID_RANGE), validate=validate.Length(max=500)
    )
    password = fields.String(load_only=True, validate=validate.Length(min=1, max=MAX_LENGTH))


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserSchema))
    next_cursor = fields.String(allow_none=True)


class SchoolSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    code = fields.String()
    level = fields.String(validate=validate.OneOf(SCHOOL_LEVELS))
    active = fields.Boolean()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class SchoolCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=32), validate.Regexp(r"^[A-Za-z0-9_.-]+$")],
        metadata={"description": "Unique short code: letters, digits, . _ -"},
    )
    level = fields.String(required=True, validate=validate.OneOf(SCHOOL_LEVELS))
    active = fields.Boolean(load_default=True)


class SchoolUpdateSchema(SchoolCreateSchema):
    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class SchoolPageSchema(Schema):
    items = fields.List(fields.Nested(SchoolSchema))
    next_cursor = fields.String(allow_none=True)


class CategorySchema(Schema):
    key = fields.String()
    label = fields.String()
    description = fields.String()


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategorySchema))
    next_cursor = fields.String(allow_none=True)
