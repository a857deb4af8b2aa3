"""The common case, quickly: a plainly valid create, checked without marshmallow.

Most of an outbox is new activities with well-formed content. Such an item is checked here
field by field against the rules of MutationSchema and ActivityContentSchema. Anything not
recognised as plainly valid (a wrong type, an unknown key, another timestamp format, a value
out of range, any rule failing) gets None, and the item goes through the schemas, which decide
it and word any error. Property tests hold this to the schemas' result for every input.
"""

import hashlib
import re
import uuid
from datetime import UTC, datetime

import orjson

from api.models.activity import AUDIENCES, CATEGORIES, CONTENT_FIELDS, OUTCOMES, REFERRALS
from api.schemas.activity import EARLIEST, FUTURE_SLACK
from api.services.privacy import identifier_problems
from api.services.sync.envelope import Mutation

ENVELOPE_KEYS = frozenset(("mutation_id", "op", "activity_id", "base_version", "data"))
TIMED_ENVELOPE_KEYS = ENVELOPE_KEYS | {"client_time"}
CONTENT_KEYS = frozenset(CONTENT_FIELDS)
REQUIRED_KEYS = frozenset(("school_id", "category", "started_at", "duration_minutes"))
# RFC 3339 with an offset, the shape clients send; datetime.fromisoformat (what the schema
# uses) reads it the same way. Other shapes it accepts are left to the schema.
PLAIN_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")
_CATEGORIES = frozenset(CATEGORIES)
_REFERRALS = frozenset((None, *REFERRALS))
_OUTCOMES = frozenset((None, *OUTCOMES))
MAX_SCHOOL_ID = 2**31 - 1


def plain_create(item: object, now: datetime) -> Mutation | None:
    """A plainly valid create as a Mutation with its normalised ``content``; else None."""
    if type(item) is not dict or not item.keys() <= TIMED_ENVELOPE_KEYS:
        return None
    if item.get("op") != "upsert" or item.get("base_version") is not None:
        return None
    data = item.get("data")
    client_time = _time(item.get("client_time")) if "client_time" in item else None
    if client_time is False:
        return None
    content = plain_content(data, now)
    if content is None:
        return None
    mutation_id = _canonical_uuid(item.get("mutation_id"))
    activity_id = _canonical_uuid(item.get("activity_id"))
    if mutation_id is None or activity_id is None:
        return None
    canonical = {"op": "upsert", "activity_id": str(activity_id), "base_version": None}
    canonical["data"] = data
    return Mutation(
        mutation_id=mutation_id,
        op="upsert",
        activity_id=activity_id,
        base_version=None,
        data=data,
        client_time=client_time,
        request_hash=plain_request_hash(canonical),
        content=content,
    )


def plain_request_hash(canonical: dict) -> str:
    """envelope.request_hash, for content of JSON strings, integers, lists and nulls only,
    where orjson's sorted compact output is byte for byte the standard library's."""
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def plain_content(data: object, now: datetime) -> dict | None:
    """normalise_content(load_content(data)) for plainly valid content; else None."""
    if type(data) is not dict:
        return None
    keys = data.keys()
    if not (keys <= CONTENT_KEYS and keys >= REQUIRED_KEYS):
        return None
    school_id = data["school_id"]
    category = data["category"]
    duration = data["duration_minutes"]
    if not (
        type(school_id) is int
        and 1 <= school_id <= MAX_SCHOOL_ID
        and type(category) is str
        and category in _CATEGORIES
        and type(duration) is int
        and 1 <= duration <= 720
    ):
        return None
    started = _time(data["started_at"])
    if not started or not EARLIEST <= started <= now + FUTURE_SLACK:
        return None
    participants = data.get("participant_count", 0)
    if type(participants) is not int or not 0 <= participants <= 5000:
        return None
    referral, outcome = data.get("referral_to"), data.get("outcome")
    if not (_one_of(referral, _REFERRALS) and _one_of(outcome, _OUTCOMES)):
        return None
    if category == "community_referral" and not referral:
        return None
    audience = _audience(data.get("audience", ()))
    summary = _summary(data.get("summary"))
    if audience is None or summary is False:
        return None
    return {
        "school_id": school_id,
        "category": category,
        "started_at": started,
        "duration_minutes": duration,
        "audience": audience,
        "participant_count": participants,
        "summary": summary,
        "referral_to": referral,
        "outcome": outcome,
    }


class TextUUID(uuid.UUID):
    """A UUID read from its canonical text (lowercase, hyphenated), which it keeps: str()
    and .hex need no formatting. Equal to, and hashed as, the plain UUID."""

    __slots__ = ("_text",)

    def __init__(self, text: str):
        if _SET_DIRECTLY:
            # What UUID.__init__ stores for such text, without its checks for the other
            # spellings and arguments (two thirds of its time).
            _set(self, "int", int(text.replace("-", ""), 16))
            _set(self, "is_safe", _UNKNOWN)
        else:
            super().__init__(text)
        _set(self, "_text", text)

    def __reduce__(self):  # copies and pickles keep the text
        return type(self), (self._text,)

    def __str__(self) -> str:
        return self._text

    @property
    def hex(self) -> str:
        return self._text.replace("-", "")


_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown
_SET_DIRECTLY = False


def _sets_what_uuid_does() -> bool:
    """Whether a TextUUID built by setting UUID's fields directly is the UUID that
    UUID.__init__ reads (it would not be should a Python release store them otherwise)."""
    global _SET_DIRECTLY
    text = "0f8fad5b-d9cb-469f-a165-70867728950e"
    expected = uuid.UUID(text)
    _SET_DIRECTLY = True
    try:
        quick = TextUUID(text)
        same = all(
            getattr(quick, name) == getattr(expected, name)
            for name in ("int", "is_safe", "bytes", "fields", "version", "variant", "urn")
        ) and (quick == expected and hash(quick) == hash(expected) and str(quick) == text)
    except (AttributeError, TypeError):
        same = False
    _SET_DIRECTLY = same
    return same


_sets_what_uuid_does()

CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _canonical_uuid(value: object) -> TextUUID | None:
    """The UUID in canonical text; None for anything else (the schema reads the rest)."""
    if type(value) is not str or not CANONICAL_UUID.fullmatch(value):
        return None
    return TextUUID(value)


def _one_of(value: object, choices: frozenset) -> bool:
    return (value is None or type(value) is str) and value in choices


def _time(value: object) -> datetime | None | bool:
    """An RFC 3339 time in UTC; None for null; False when not plainly one."""
    if value is None:
        return None
    if type(value) is not str or not PLAIN_TIME.fullmatch(value):
        return False
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):  # the schema words it
        return False


def _audience(value: object) -> list[str] | None:
    """The audience in canonical order; None unless a list of distinct known audiences."""
    if type(value) is tuple:  # absent
        return []
    if type(value) is not list or not all(type(a) is str for a in value):
        return None
    ordered = _IN_ORDER.get(frozenset(value))
    if ordered is None or len(ordered) != len(value):  # unknown, or named twice
        return None
    return list(ordered)


# Every set of known audiences, in canonical order (16 of them).
_IN_ORDER = {
    frozenset(chosen): chosen
    for chosen in (
        tuple(a for n, a in enumerate(AUDIENCES) if mask >> n & 1)
        for mask in range(2 ** len(AUDIENCES))
    )
}


def _summary(value: object) -> str | None | bool:
    """The trimmed summary (None when empty); False unless plainly acceptable text."""
    if value is None:
        return None
    if type(value) is not str or len(value) > 500 or "\x00" in value:
        return False
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            return False
    if identifier_problems(value):
        return False
    return value.strip() or None
