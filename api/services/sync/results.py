"""What a device is told about each mutation it pushed: applied, duplicate, conflict or
rejected; and what is kept to answer a retry the same way."""

from dataclasses import dataclass

from api.errors import ApiError, Conflict
from api.models import SyncMutation
from api.services.sync.envelope import Mutation
from api.services.sync.feed import APPLIED


@dataclass
class StoredResult:
    """What a retry of an applied mutation is answered with (a SyncMutation's fields)."""

    user_id: int
    request_hash: str
    result: dict


def outcome(mutation: Mutation, status: str, payload: dict) -> dict:
    """An applied mutation's result, or a version conflict's with the server copy."""
    result = {"mutation_id": str(mutation.mutation_id), "status": status, "activity": payload}
    if status != APPLIED:
        result["error"] = {
            "code": "version_conflict",
            "message": "The activity changed on the server since this change was made; "
            "the server copy is attached.",
        }
    return result


def replayed(mutation: Mutation, previous: StoredResult | SyncMutation, officer_id: int) -> dict:
    """A mutation_id seen before: its stored result, or refused if it asked otherwise."""
    if previous.user_id == officer_id and (previous.request_hash == mutation.request_hash):
        return {"mutation_id": str(mutation.mutation_id), "status": "duplicate", **previous.result}
    return rejected(
        mutation,
        Conflict(
            "This mutation_id was already used for a different change; "
            "give every new change a new mutation_id.",
            code="mutation_id_reused",
        ),
    )


def broke_a_rule(mutation: Mutation) -> dict:
    """The result of a change the database refused (a constraint it broke)."""
    return rejected(
        mutation,
        Conflict("The change breaks a data rule and was not stored.", code="integrity_error"),
    )


def rejected(mutation: Mutation, error: ApiError) -> dict:
    """A mutation's result when it was refused, with the error in the usual shape."""
    mutation_id = str(mutation.mutation_id) if mutation.mutation_id else None
    return {"mutation_id": mutation_id, "status": "rejected", "error": error.to_dict()}
