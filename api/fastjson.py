"""JSON through orjson where its output is the standard library's, with the standard
library as the fallback for anything orjson declines."""

import json

import orjson

_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(value: object) -> str:
    """Compact JSON text: what JSON columns store. Values orjson does not take as plain JSON
    (integers beyond 64 bits, non-string keys, datetimes) go to json.dumps, which stores them
    or raises as it always has."""
    try:
        return orjson.dumps(value, option=_PASSTHROUGH).decode()
    except TypeError:
        return json.dumps(value)


def dumps_bytes(value: object) -> bytes:
    """Compact UTF-8 JSON for a response body (json.dumps with ensure_ascii=False, encoded)."""
    try:
        return orjson.dumps(value, option=_PASSTHROUGH)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> object:
    """Parse JSON; orjson.JSONDecodeError (a ValueError) when orjson declines it, the
    caller then asks the standard library, which words the error or accepts what orjson
    is stricter about (lone surrogates, numbers beyond 64 bits)."""
    return orjson.loads(data)
