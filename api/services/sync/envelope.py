"""A push item's envelope, parsed and validated on its own so that a bad item fails alone."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from marshmallow import ValidationError

from api.errors import ApiError, Invalid, flatten_messages
from api.extensions import _unstorable_text as unstorable_text
from api.extensions import json_type_problems
from api.schemas.activity import ActivityContentSchema
from api.schemas.sync import MutationSchema

if TYPE_CHECKING:
    from api.services.sync.prepared import PreparedCreate

MAX_VERSION = 2**31 - 1

_mutation_schema = MutationSchema()
_full_content = ActivityContentSchema()
_partial_content = ActivityContentSchema(partial=True)
_ENVELOPE_KEYS = frozenset(("mutation_id", "op", "activity_id", "base_version", "data"))


@dataclass
class Mutation:
    """One parsed push item; ``error`` is set when it could not be parsed."""

    mutation_id: uuid.UUID | None
    op: str = ""
    activity_id: uuid.UUID | None = None
    base_version: int | None = None
    data: object = None
    client_time: datetime | None = None
    request_hash: str = ""
    error: ApiError | None = None
    content: dict | None = None  # a would-be create's content, validated and normalised
    create: "PreparedCreate | None" = None  # a would-be create, its rows built


def parse_mutation(item: object) -> Mutation:
    """Validate one push item's envelope; a failure becomes that item's rejection."""
    mutation_id = _uuid_or_none(item.get("mutation_id") if isinstance(item, dict) else None)
    if unstorable_text(item):
        # Checked here, not for the whole body, so that it fails this mutation only.
        return Mutation(mutation_id=mutation_id, error=_unstorable_error())
    fast = _parse_plain(item)
    if fast is not None:
        return fast
    return _parse_with_schema(item, mutation_id)


def _unstorable_error() -> Invalid:
    return Invalid(
        "Text must be valid Unicode without NUL (\\u0000) characters.",
        details={"_mutation": ["Remove NUL characters and unpaired surrogates."]},
    )


def _parse_plain(item: object) -> Mutation | None:
    """The common, plainly valid envelope without marshmallow's per-field machinery; anything
    else (None here) goes through MutationSchema, which also words the errors."""
    if not isinstance(item, dict) or not item.keys() <= _ENVELOPE_KEYS:
        return None
    op, base = item.get("op"), item.get("base_version")
    if op not in ("upsert", "delete") or not (base is None or type(base) is int):
        return None
    if base is not None and not 1 <= base <= MAX_VERSION:
        return None
    try:
        loaded = {
            "mutation_id": uuid.UUID(item["mutation_id"]),
            "op": op,
            "activity_id": uuid.UUID(item["activity_id"]),
            "base_version": base,
            "data": item.get("data"),
            "client_time": None,
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Mutation(**loaded, request_hash=request_hash(loaded, item))


def _parse_with_schema(item: object, mutation_id: uuid.UUID | None) -> Mutation:
    """Any other envelope, through MutationSchema: the mutation, or its worded rejection."""
    try:
        problems = json_type_problems(_mutation_schema, item)
        if problems:
            raise ValidationError(problems)
        loaded = _mutation_schema.load(item)
    except ValidationError as error:
        details = flatten_messages(error.messages)
        return Mutation(
            mutation_id=mutation_id,
            error=Invalid(f"Invalid mutation: {', '.join(sorted(details))}.", details=details),
        )
    if loaded["client_time"] is not None:
        loaded["client_time"] = loaded["client_time"].astimezone(UTC)
    return Mutation(**loaded, request_hash=request_hash(loaded, item))


def request_hash(loaded: dict, item: dict) -> str:
    """What the mutation asks for (not when the device says it did it), hashed."""
    content = {
        "op": loaded["op"],
        "activity_id": str(loaded["activity_id"]),
        "base_version": loaded["base_version"],
        "data": item.get("data"),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_content(data: object, *, partial: bool) -> dict:
    """Load content exactly as the REST endpoints do: JSON types as documented, then the
    schema (marshmallow alone would take "45" for 45)."""
    problems = json_type_problems(_full_content, data)
    if problems:
        raise ValidationError(problems)
    return (_partial_content if partial else _full_content).load(data)


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None
