"""HTTP helpers the resources share: ETags, If-Match, id-ordered pages."""

import re

from flask import request
from sqlalchemy import Select

from api.errors import PreconditionFailed
from api.extensions import db
from api.services.activities import decode_cursor, encode_cursor, invalid_cursor

IF_MATCH_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": False,
            "schema": {"type": "string"},
            "description": 'The ETag (version) you last read, e.g. "3"; 412 when stale',
        }
    ]
}


ETAG_HEADERS = {
    "ETag": {
        "description": 'The record\'s version as a strong ETag, e.g. "3"; send it back as '
        "If-Match to edit or delete only that version",
        "required": True,
        "schema": {"type": "string"},
    }
}


def etag(version: int) -> dict:
    return {"ETag": f'"{version}"'}


# A strong ETag naming a version: "3", or 3 bare. ASCII digits only: str.isdigit() also
# takes "²", which int() refuses.
_VERSION_TAG = re.compile(r'"([0-9]+)"|([0-9]+)')


def if_match_versions() -> set[str] | None:
    """The versions If-Match names (a list of tags: any one may match, RFC 9110), each as
    its digits without leading zeros; None when absent or '*'. Kept as text: a tag of
    thousands of digits is a stale version, not a number for Python to convert."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tags = [_VERSION_TAG.fullmatch(value.strip()) for value in header.split(",")]
    versions = {(tag.group(1) or tag.group(2)).lstrip("0") or "0" for tag in tags if tag}
    if not versions:
        raise PreconditionFailed('If-Match must be a strong ETag such as "3".')
    return versions


def check_if_match(current_version: int) -> None:
    expected = if_match_versions()
    if expected is not None and str(current_version) not in expected:
        raise PreconditionFailed(
            f"The record has changed (now version {current_version}); reload and try again.",
            details={"version": [f"Current version is {current_version}."]},
        )


def list_page(items: list[dict], key: str, limit: int, cursor: str | None) -> dict:
    """A page of a short fixed list, in its order, the cursor naming the last key shown."""
    keys = [item[key] for item in items]
    start = 0
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if last not in keys:
            raise invalid_cursor()
        start = keys.index(last) + 1
    page = items[start : start + limit]
    more = start + limit < len(items)
    return {"items": page, "next_cursor": encode_cursor([page[-1][key]]) if more else None}


def id_page(query: Select, model, limit: int, cursor: str | None) -> dict:
    """A page of records ordered by id, with an opaque cursor for the next."""
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        if type(last_id) is not int or not 0 <= last_id < 2**31:
            raise invalid_cursor()
        query = query.where(model.id > last_id)
    items = list(db.session.scalars(query.order_by(None).order_by(model.id).limit(limit + 1)))
    next_cursor = encode_cursor([items[limit - 1].id]) if len(items) > limit else None
    return {"items": items[:limit], "next_cursor": next_cursor}
