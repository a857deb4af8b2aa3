"""The quick check of plainly valid creates must agree with the schemas on every input: it
may pass an item to the schemas (None), but whatever it accepts, the schemas accept the same
way, with the same normalised content, request hash and audit hash."""

import functools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from api import fastjson
from api.models.activity import AUDIENCES, CATEGORIES, CONTENT_FIELDS, OUTCOMES, REFERRALS
from api.services import activities, audit
from api.services.sync import load_content, parse_mutation, plain_content, plain_create

NOW = datetime.now(UTC)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- what clients might send ------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
odd_values = st.one_of(json_scalars, st.lists(json_scalars, max_size=3))
times = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
offsets = st.sampled_from(["Z", "+00:00", "-05:00", "+05:30", "+14:00", "-12:00"])


@st.composite
def time_texts(draw) -> str:
    """Times as clients write them, in RFC 3339 and in the other shapes fromisoformat takes."""
    moment = draw(st.one_of(times, st.just(NOW - timedelta(days=1)), st.just(NOW)))
    moment = moment + draw(st.sampled_from([timedelta(0), timedelta(days=2, seconds=-5)]))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    style = draw(st.integers(0, 7))
    if style == 1:
        text += "." + str(moment.microsecond).zfill(6)[: draw(st.integers(1, 6))]
    elif style == 2:
        text = text.replace("T", " ")
    elif style == 3:
        text = text[:16]
    elif style == 4:
        text += ".1234567"
    elif style == 5:
        return text  # no offset
    elif style == 6:
        text = text.replace("-", "", 2)
    suffix = draw(offsets)
    if style == 7:
        suffix = draw(st.sampled_from(["+0000", "+05", "+24:00", "z", "+00:00:30"]))
    return text + suffix


summaries = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=480, max_size=520),
    st.sampled_from(
        [
            "",
            "   ",
            "  Trimmed summary.  ",
            "Call 780-555-0134 later.",
            "Student 123 456 789 spoke.",
            "Email kid@example.org.",
            "Grade 7 class, 30 minutes.",
            "Café visit ✓",
            "NUL \x00 inside",
            "lone \ud800 surrogate",
            "tab\tand\nnewline\x7f\x1f",
        ]
    ),
)


def field_values(name: str):
    """Valid values for the field, and a spread of invalid ones."""
    valid = {
        "school_id": st.integers(1, 2**31 - 1),
        "category": st.sampled_from(list(CATEGORIES)),
        "started_at": time_texts(),
        "duration_minutes": st.integers(1, 720),
        "audience": st.lists(st.sampled_from(AUDIENCES), max_size=5),
        "participant_count": st.integers(0, 5000),
        "summary": summaries,
        "referral_to": st.sampled_from([None, *REFERRALS]),
        "outcome": st.sampled_from([None, *OUTCOMES]),
    }[name]
    edges = {
        "school_id": st.sampled_from([0, -1, 2**31, True, 1.0, "1"]),
        "duration_minutes": st.sampled_from([0, 721, True, 30.0, "30"]),
        "participant_count": st.sampled_from([-1, 5001, None, False, "3"]),
        "audience": st.sampled_from([None, "students", [1], ["students", "students"]]),
    }.get(name, st.nothing())
    return st.one_of(valid, valid, valid, edges, odd_values)


@st.composite
def valid_contents(draw) -> dict:
    """Content the schemas accept, in the shape the PWA sends."""
    category = draw(st.sampled_from(list(CATEGORIES)))
    started = draw(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2026, 1, 1)))
    data = {
        "school_id": draw(st.integers(1, 10**6)),
        "category": category,
        "started_at": started.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
        "duration_minutes": draw(st.integers(1, 720)),
        "audience": draw(st.lists(st.sampled_from(AUDIENCES), unique=True)),
        "participant_count": draw(st.integers(0, 5000)),
        "summary": draw(st.sampled_from([None, "Talk on online safety.", " Café ✓ "])),
        "referral_to": draw(st.sampled_from(REFERRALS))
        if category == "community_referral"
        else None,
        "outcome": draw(st.sampled_from([None, *OUTCOMES])),
    }
    return data


@st.composite
def contents(draw) -> dict:
    """Content near the valid kind: a valid one with a few fields changed, dropped or added."""
    data = draw(valid_contents())
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(CONTENT_FIELDS))
        if draw(st.integers(0, 4)) == 0:
            data.pop(name, None)
        else:
            data[name] = draw(field_values(name))
    if draw(st.integers(0, 19)) == 0:
        data[draw(st.sampled_from(["status", "officer_id", "version", "colour"]))] = 1
    return data


def schema_content(data: object) -> dict | None:
    """What the schemas make of the content; None when they refuse it."""
    try:
        content = activities.normalise_content(load_content(data, partial=False))
    except ValidationError:
        return None
    return {name: content.get(name) for name in CONTENT_FIELDS}


# --- content ----------------------------------------------------------------------------


@SETTINGS
@given(contents())
@example(
    {"school_id": 1, "category": "education", "started_at": "2026-01-05", "duration_minutes": 5}
)
@example(
    {"school_id": 1, "category": "community_referral", "started_at": "2026-01-05T09:00:00Z"}
    | {"duration_minutes": 5, "referral_to": None}
)
def test_plain_content_never_accepts_what_the_schemas_refuse_or_read_otherwise(data):
    quick = plain_content(data, NOW)
    event("taken quickly" if quick is not None else "left to the schema")
    if quick is not None:
        assert quick == schema_content(data)
        assert list(quick) == list(CONTENT_FIELDS)


@SETTINGS
@given(valid_contents())
def test_plain_content_accepts_the_content_clients_send(data):
    expected = schema_content(data)
    assert expected is not None
    assert plain_content(data, NOW) == expected


def test_plain_content_leaves_identifiers_to_the_schema_for_wording():
    data = {"school_id": 1, "category": "education", "started_at": "2026-01-05T09:00:00Z"}
    data |= {"duration_minutes": 30, "summary": "Call 780-555-0134."}
    assert plain_content(data, NOW) is None
    assert schema_content(data) is None


# --- the envelope and its hash ----------------------------------------------------------


@st.composite
def envelopes(draw) -> dict:
    plain = draw(st.integers(0, 2)) > 0
    item = {
        "mutation_id": str(uuid.uuid4())
        if plain
        else draw(st.one_of(st.uuids().map(str), st.just("not-a-uuid"), odd_values)),
        "op": "upsert" if plain else draw(st.sampled_from(["upsert", "delete", "UPSERT", None])),
        "activity_id": draw(st.one_of(st.uuids().map(str), st.uuids().map(lambda u: u.hex))),
        "data": draw(contents()),
    }
    if draw(st.booleans()):
        item["base_version"] = draw(st.sampled_from([None, 1, 0, "1", True]))
    if draw(st.booleans()):
        item["client_time"] = draw(st.one_of(st.none(), time_texts(), odd_values))
    if not plain and draw(st.booleans()):
        item[draw(st.sampled_from(["device_id", "extra"]))] = "x"
    if not plain and draw(st.booleans()):
        del item[draw(st.sampled_from(sorted(item)))]
    return item


PLAIN_TIME_TEXT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)"


def _canonical_uuid_text(value: object) -> bool:
    try:
        return type(value) is str and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _plain_time_text(value: object) -> bool:
    if type(value) is not str or not re.fullmatch(PLAIN_TIME_TEXT, value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _not_plain(item: dict) -> bool:
    """True when an envelope is outside what the quick path promises to take: a key beyond
    the envelope's, not a new create, an id not in canonical text, another time shape, or
    content that plain_content itself declines."""
    keys = {"mutation_id", "op", "activity_id", "base_version", "data", "client_time"}
    return (
        not item.keys() <= keys
        or item.get("op") != "upsert"
        or item.get("base_version") is not None
        or not _canonical_uuid_text(item.get("mutation_id"))
        or not _canonical_uuid_text(item.get("activity_id"))
        or (item.get("client_time") is not None and not _plain_time_text(item["client_time"]))
        or plain_content(item.get("data"), NOW) is None
    )


@SETTINGS
@given(envelopes())
def test_plain_create_agrees_with_the_schemas_on_the_whole_item(item):
    quick = plain_create(item, NOW)
    event("taken quickly" if quick is not None else "left to the schema")
    if quick is None:
        # Left to the schemas: fine, but only for something not plainly valid.
        assert _not_plain(item), item
        return
    slow = parse_mutation(item)
    assert slow.error is None
    for name in ("mutation_id", "op", "activity_id", "base_version", "client_time"):
        assert getattr(quick, name) == getattr(slow, name), name
    assert quick.request_hash == slow.request_hash
    assert quick.content == schema_content(item["data"])


@SETTINGS
@given(valid_contents(), st.one_of(st.none(), time_texts()))
def test_plain_create_takes_the_items_the_pwa_sends(data, client_time):
    item = {
        "mutation_id": str(uuid.uuid4()),
        "op": "upsert",
        "activity_id": str(uuid.uuid4()),
        "base_version": None,
        "data": data,
        "client_time": client_time,
    }
    if client_time is not None and plain_create(item, NOW) is None:
        item["client_time"] = None  # only odd time shapes go to the schema
    assert plain_create(item, NOW) is not None


# --- the audit chain --------------------------------------------------------------------

json_without_floats = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@SETTINGS
@given(
    json_without_floats,
    st.text(max_size=40),
    st.one_of(st.none(), times),
    st.integers(1, 2**40),
)
@example({"fields": ["summary"], "seq": None}, '"seq":null', None, 7)
def test_audit_hash_from_content_around_seq_is_chain_hash(changes, target, client_time, seq):
    event = SimpleNamespace(
        seq=None,
        at=NOW.replace(microsecond=0),
        client_time=client_time,
        actor_id=3,
        action="activity_create",
        target_type="activity",
        target_id=target,
        changes=changes,
    )
    around = audit.content_around_seq(event)
    event.seq = seq
    assert audit.seq_hash("a" * 64, around, seq) == audit.chain_hash("a" * 64, event)


# --- JSON -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [{"a": [1, None, "é\u2028"]}, {"big": 2**70}, {1: "non-string key"}, [True, 0.5, "x"]],
)
def test_fastjson_dumps_stores_what_the_standard_library_reads_back(value):
    assert json.loads(fastjson.dumps(value)) == json.loads(json.dumps(value))


def test_fastjson_dumps_refuses_what_the_standard_library_refuses():
    with pytest.raises(TypeError):
        fastjson.dumps({"when": NOW})


# --- quick converters -------------------------------------------------------------------


@SETTINGS
@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.builds(
            lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-1439, 1439)
        ),
    )
)
def test_quick_sqlite_timestamp_is_what_sqlalchemy_binds(value):
    from sqlalchemy.dialects import sqlite

    from api.models.types import UTCDateTime
    from api.services.sync.rows import sqlite_utc_text

    dialect = sqlite.dialect()
    column_type = UTCDateTime()
    sqlalchemy_binds = column_type.dialect_impl(dialect).bind_processor(dialect)
    assert sqlite_utc_text(value) == sqlalchemy_binds(value)


@SETTINGS
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
@example(datetime(2026, 1, 5, 9, 30))  # no fraction: isoformat leaves it out
@example(datetime(2026, 1, 5, 9, 30, 0, 1))
def test_sqlite_text_sliced_from_iso_is_what_sqlalchemy_binds(value):
    from sqlalchemy.dialects import sqlite

    from api.models.types import UTCDateTime
    from api.services.sync.rows import sqlite_utc_text_of_iso

    value = value.replace(tzinfo=UTC)
    dialect = sqlite.dialect()
    sqlalchemy_binds = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert sqlite_utc_text_of_iso(value.isoformat()) == sqlalchemy_binds(value)


@functools.cache
def _app_sqlite_dialect():
    """The dialect of the app's own SQLite engine (configured with its JSON serializer)."""
    from api import create_app
    from api.extensions import db
    from tests.conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        return db.engine.dialect


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(JSON_VALUES)
def test_quick_sqlite_json_is_what_sqlalchemy_binds(value):
    """The prepared rows' JSON columns on SQLite (changes, results, audience) are converted
    by the engine's serializer directly: the same text as SQLAlchemy's bind processor."""
    from api.models import ActivityRevision
    from api.services.sync.prepared import Tables

    dialect = _app_sqlite_dialect()
    quick = Tables(dialect).revision.out["changes"]
    column_type = ActivityRevision.__table__.c.changes.type
    sqlalchemy_binds = column_type.dialect_impl(dialect).bind_processor(dialect)
    assert quick is dialect._json_serializer  # the probe values matched
    assert quick(value) == sqlalchemy_binds(value)


def test_text_uuid_sets_the_fields_directly_on_this_python():
    """The probe found that setting UUID's fields directly builds what UUID.__init__ does;
    should a Python release change that, TextUUID falls back to UUID.__init__ (still
    correct: the property test above runs either way) and this test says so."""
    from api.services.sync import plain

    assert plain._SET_DIRECTLY


def test_quick_sqlite_timestamp_refuses_naive_times_as_sqlalchemy_does():
    from api.services.sync.rows import sqlite_utc_text

    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 1, 1, 9, 0))
    assert sqlite_utc_text(None) is None


@SETTINGS
@given(st.uuids())
def test_text_uuid_is_the_uuid_it_reads(value):
    import copy
    import pickle

    from api.services.sync.plain import TextUUID

    text = str(value)
    read = TextUUID(text)
    assert read == value and hash(read) == hash(value) and read in {value}
    assert str(read) == text and read.hex == value.hex
    for again in (copy.copy(read), copy.deepcopy(read), pickle.loads(pickle.dumps(read))):
        assert again == value and str(again) == text


@pytest.mark.parametrize(
    "text",
    ["0F8FAD5B-D9CB-469F-A165-70867728950E", "{0f8fad5b-d9cb-469f-a165-70867728950e}", "0" * 32],
)
def test_plain_create_leaves_other_uuid_spellings_to_the_schema(text):
    mutation = {
        "mutation_id": text,
        "op": "upsert",
        "activity_id": str(uuid.uuid4()),
        "base_version": None,
        "data": {
            "school_id": 1,
            "category": "education",
            "duration_minutes": 30,
            "started_at": "2026-01-05T09:30:00Z",
        },
    }
    assert plain_create(mutation, NOW) is None
    assert parse_mutation(mutation).mutation_id == uuid.UUID(text)
