"""Canonical JSON: one byte-for-byte spelling of a value, so its hash can be recomputed anywhere.

The spelling follows RFC 8785 for the data the audit trail holds (strings, integers, booleans,
null, objects and arrays): keys sorted, no insignificant whitespace, UTF-8 rather than escapes.
Python sorts keys by code point where RFC 8785 sorts by UTF-16 unit; the two differ only for keys
mixing characters beyond U+FFFF with ones above U+E000, which our field names never do.

Values that JSON has no word for are turned into strings first, the same way every time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Set
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]


def canonical_json(value: JSONValue) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC to the microsecond, e.g. ``2026-11-23T09:30:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Values of exactly these types are JSON data as they are (a subclass, such as a StrEnum,
# takes the long way through _plain_other). Every audited write spells its changes with this,
# so the common types are told apart by one lookup rather than a chain of isinstance checks.
_AS_IS = frozenset({str, int, bool, float, type(None)})


def plain(value: Any) -> JSONValue:
    """``value`` as JSON data; raises TypeError for anything without one stable spelling."""
    kind = type(value)
    if kind in _AS_IS:
        return value  # type: ignore[no-any-return]
    if kind is dict:
        return {key if type(key) is str else _key(key): plain(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [plain(item) for item in value]
    return _plain_other(value)


def _plain_other(value: Any) -> JSONValue:
    # Enums first: a StrEnum is also a str, and its value is what the register means.
    if isinstance(value, Enum):
        return plain(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        # A naive time has no zone to convert from; its own spelling is the only stable one.
        return utc_iso(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {_key(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Set):
        return sorted((plain(item) for item in value), key=canonical_json)
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def _key(key: Any) -> str:
    spelled = plain(key)
    if isinstance(spelled, str):
        return spelled
    if isinstance(spelled, int) and not isinstance(spelled, bool):
        return str(spelled)
    raise TypeError(f"a {type(key).__name__} cannot be a JSON object key")
