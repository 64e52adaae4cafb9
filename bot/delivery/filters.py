"""A users filter as text, to store on a broadcast document and read back unchanged.

A compiled audience filter is stored on the broadcast when sending starts, so a
resumed run reads the same audience. Its ``$and``/``$gte`` keys cannot be field
names of a stored document, so it is kept as JSON text, dates tagged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

_DATE_KEY = "$$date"


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return {_DATE_KEY: aware.astimezone(UTC).isoformat()}
    raise TypeError(f"cannot store {type(value).__name__} in a filter")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _DATE_KEY in obj:
        return datetime.fromisoformat(obj[_DATE_KEY])
    return obj


def dump_filter(query: dict[str, Any]) -> str:
    """A filter as JSON text (dates tagged), to store on a document.

    A filter's ``$and``/``$gte`` keys cannot be stored as field names by an update,
    so a compiled audience is kept as text; :func:`load_filter` reads it back
    with its dates intact (Extended JSON would turn ``$regex`` into a BSON Regex).
    """
    return json.dumps(query, default=_encode, ensure_ascii=False)


def load_filter(text: str) -> dict[str, Any]:
    """The filter :func:`dump_filter` stored, datetimes as UTC-aware values."""
    query: dict[str, Any] = json.loads(text, object_hook=_decode)
    return query
