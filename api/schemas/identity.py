"""Schemas for provider sign-in and the user's own settings."""

from marshmallow import Schema, fields, validate

from api.schemas.common import StrictSchema


class ProviderSchema(Schema):
    name = fields.String(required=True)
    label = fields.String(
        required=True, metadata={"description": 'Button text after "Sign in with "'}
    )
    start_url = fields.String(
        required=True, metadata={"description": "Where the sign-in button goes"}
    )


class GrantSchema(StrictSchema):
    grant = fields.String(required=True, validate=validate.Length(min=1, max=200))


class MeUpdateSchema(StrictSchema):
    email_reminders = fields.Boolean(
        required=True, metadata={"description": "Email me when activities wait for my review"}
    )
