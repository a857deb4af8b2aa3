"""A pushed item read with the schemas, on its own, so that a bad item fails alone."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from marshmallow import ValidationError

from api.errors import ApiError, Invalid, flatten_messages
from api.parsing import json_type_problems, unstorable_text
from api.schemas.activity import ActivityContentSchema
from api.schemas.sync import MutationSchema
from api.services.activities import normalise_content

_mutation = MutationSchema()
_content = {False: ActivityContentSchema(), True: ActivityContentSchema(partial=True)}


@dataclass
class Item:
    """One pushed change. ``error``: it could not be read at all; ``content_error``: its data
    is not valid content (it matters only where the content is used: a retry of an applied
    mutation is still a duplicate, an edit of an unknown activity still not found)."""

    mutation_id: uuid.UUID | None
    op: str = ""
    activity_id: uuid.UUID | None = None
    base_version: int | None = None
    client_time: datetime | None = None
    request_hash: str = ""
    content: dict | None = None  # an upsert's, loaded and normalised (partial for an edit)
    error: ApiError | None = None
    content_error: ApiError | None = None


def parse(raw: object) -> Item:
    """The item as sent, validated by MutationSchema and ActivityContentSchema."""
    mutation_id = _uuid_or_none(raw.get("mutation_id") if isinstance(raw, dict) else None)
    if unstorable_text(raw):  # checked per item, so that it fails this mutation only
        details = {"_mutation": ["Remove NUL characters and unpaired surrogates."]}
        message = "Text must be valid Unicode without NUL (\\u0000) characters."
        return Item(mutation_id, error=Invalid(message, details=details))
    try:
        loaded = _load(_mutation, raw)
    except ValidationError as error:
        details = flatten_messages(error.messages)
        message = f"Invalid mutation: {', '.join(sorted(details))}."
        return Item(mutation_id, error=Invalid(message, details=details))
    try:
        hashed = request_hash(loaded, raw.get("data"))
    except RecursionError:  # JSON nested deeper than any content field goes: not content
        details = {"data": ["Nested too deeply; send the activity's content fields."]}
        return Item(mutation_id, error=Invalid("Invalid mutation: data.", details=details))
    item = Item(
        loaded["mutation_id"],
        loaded["op"],
        loaded["activity_id"],
        loaded["base_version"],
        loaded["client_time"],
        hashed,
    )
    if item.op == "upsert":
        try:
            item.content = _upsert_content(raw.get("data"), partial=item.base_version is not None)
        except Invalid as error:
            item.content_error = error
    return item


def _upsert_content(data: object, *, partial: bool) -> dict:
    if data is None:
        raise Invalid("An upsert needs its data.", details={"data": ["Missing data."]})
    try:
        return normalise_content(_load(_content[partial], data))
    except ValidationError as error:
        details = flatten_messages(error.messages, "data")
        message = f"Invalid input in: {', '.join(sorted(details))}."
        raise Invalid(message, details=details) from error


def _load(schema, data: object) -> dict:
    """Load as the REST endpoints do: JSON types as documented, then the schema
    (marshmallow alone would take "45" for 45)."""
    problems = json_type_problems(schema, data)
    if problems:
        raise ValidationError(problems)
    return schema.load(data)


def request_hash(loaded: dict, data: object) -> str:
    """What the mutation asks for (not when the device says it did it), hashed: a retry
    of its mutation_id must ask the same."""
    content = {
        "op": loaded["op"],
        "activity_id": str(loaded["activity_id"]),
        "base_version": loaded["base_version"],
        "data": data,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None
