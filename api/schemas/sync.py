"""Sync schemas: the push envelope, per-mutation results, and the pull feed."""

from marshmallow import Schema, fields, pre_load, validate

from api.errors import PayloadTooLarge
from api.schemas.activity import ActivitySchema, ActivityUpdateSchema, ErrorObjectSchema
from api.schemas.common import StrictSchema, UtcDateTime

MAX_MUTATIONS = 500
MAX_PULL = 500
DEFAULT_PULL = 100
OPS = ("upsert", "delete")


class PerItem(fields.Nested):
    """Documented as the nested schema, loaded as sent (null too): the service judges each
    item alone, so a malformed one is its own `rejected` result, not a 422 for the push."""

    def deserialize(self, value, *args, **kwargs):
        return value if value is None else super().deserialize(value, *args, **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return value


class MutationSchema(StrictSchema):
    """One change an officer made on a device."""

    mutation_id = fields.UUID(
        required=True,
        metadata={"description": "Client-chosen UUID; a retry must reuse it (idempotency key)"},
    )
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    activity_id = fields.UUID(required=True)
    base_version = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The server version the change was made on; null when new"},
    )
    data = PerItem(
        ActivityUpdateSchema,
        load_default=None,
        allow_none=True,
        metadata={
            "one_of": ("ActivityUpdate",),
            "description": "upsert: the activity's content fields. A new activity "
            "(base_version null) needs school_id, category, started_at and duration_minutes; "
            "an edit sends the fields it changes. delete: null or absent.",
        },
    )
    client_time = UtcDateTime(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When the officer made the change, by the device clock "
            "(recorded in the history and audit log only; never used for ordering)"
        },
    )


class PushSchema(StrictSchema):
    device_id = fields.UUID(required=True)
    # Items are taken as sent and judged one by one: a malformed item is that item's
    # `rejected` result, never a 422 for the push, so the document does not constrain them.
    mutations = fields.List(
        PerItem(MutationSchema),
        required=True,
        metadata={
            "maxItems": MAX_MUTATIONS,
            "description": f"At most {MAX_MUTATIONS} (more: 413), applied in order; each a "
            "Mutation. An item that is not a valid Mutation gets a "
            "`rejected` result of its own and does not affect the others.",
        },
    )

    @pre_load
    def _at_most_max(self, data, **kwargs):
        if isinstance(data, dict):
            mutations = data.get("mutations")
            if isinstance(mutations, list) and len(mutations) > MAX_MUTATIONS:
                raise PayloadTooLarge(
                    f"At most {MAX_MUTATIONS} mutations a push; split the outbox into batches.",
                    details={"mutations": [f"{len(mutations)} sent, at most {MAX_MUTATIONS}."]},
                )
        return data


class SyncActivitySchema(ActivitySchema):
    """An activity, or the tombstone of a deleted one: `{id, deleted: true, version}`."""

    deleted = fields.Boolean(metadata={"description": "Present (true) only on tombstones"})


class TombstoneSchema(Schema):
    """A deleted activity, as devices see it: drop the local copy."""

    id = fields.UUID(required=True)
    deleted = fields.Boolean(required=True, metadata={"description": "Always true"})
    version = fields.Integer(required=True)


class ActivityOrTombstone(fields.Field):
    """An activity, or the tombstone of a deleted one; documented as a `oneOf` of the two."""

    def __init__(self, **kwargs):
        metadata = {"one_of": ("Activity", "Tombstone"), **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dict):
            return TombstoneSchema().dump(value) if value.get("deleted") else value
        return SyncActivitySchema().dump(value)


class MutationResultSchema(Schema):
    mutation_id = fields.UUID(
        required=True,
        allow_none=True,
        metadata={"description": "Null only when the one sent was not a UUID"},
    )
    status = fields.String(
        required=True, validate=validate.OneOf(["applied", "duplicate", "conflict", "rejected"])
    )
    activity = ActivityOrTombstone(
        metadata={"description": "applied/duplicate: the result; conflict: the server copy"},
    )
    error = fields.Nested(ErrorObjectSchema, metadata={"description": "rejected: why"})


class PushResultSchema(Schema):
    results = fields.List(
        fields.Nested(MutationResultSchema),
        required=True,
        metadata={"description": "One a mutation, in the order sent"},
    )
    server_time = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "When the server received the push (RFC 3339, UTC). A client "
            "compares it with its own clock to tell the officer when the device's clock is "
            "far off (its times would land on the wrong day, or be refused as in the future)."
        },
    )


class PullQuerySchema(Schema):
    since = fields.String(
        load_default=None,
        validate=validate.Length(max=512),
        metadata={"description": "The cursor of the previous pull; absent to start over"},
    )
    limit = fields.Integer(
        load_default=DEFAULT_PULL,
        validate=validate.Range(min=1, max=MAX_PULL),
        metadata={"description": f"1–{MAX_PULL}, default {DEFAULT_PULL}"},
    )


class PullPageSchema(Schema):
    """Changes after the cursor, in commit order."""

    changes = fields.List(ActivityOrTombstone(), required=True)
    cursor = fields.String(
        required=True, metadata={"description": "Opaque; send it as `since` next time"}
    )
    has_more = fields.Boolean(required=True, metadata={"description": "true: pull again now"})


class PullResetSchema(Schema):
    """The cursor is too old or the caller's scope changed: drop it and pull from the start."""

    reset = fields.Boolean(required=True, metadata={"description": "Always true"})
