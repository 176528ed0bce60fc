"""Keyset pagination: an opaque cursor holds the sort key of the last row of a page, and the next
page starts strictly after it, so a page costs the same however deep it is (no OFFSET scan)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from engine.errors import InvalidInputError, Problem

MAX_LIMIT = 200


def encode(*key: Any) -> str:
    """A cursor for a sort key of datetimes, ints and None."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, shape: tuple[type, ...], *, field: str = "after") -> tuple[Any, ...]:
    """The sort key in `cursor`; `shape` gives each part's type (datetime parts may be None)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(shape):
            raise ValueError("wrong shape")
        key: list[Any] = []
        for value, kind in zip(raw, shape, strict=True):
            if kind is datetime:
                parsed = None if value is None else datetime.fromisoformat(value)
                if parsed is not None and parsed.tzinfo is None:
                    raise ValueError("naive datetime")
                key.append(parsed)
            elif kind is int and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
                key.append(value)
            else:
                raise ValueError("wrong type")
        return tuple(key)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInputError("The cursor is not valid; use the one a previous page returned.",
                                problems=[Problem("Not a cursor this list returned.", field)]) from error
