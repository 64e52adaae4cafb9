"""Small helpers over the two MongoDB drivers we accept.

Production uses PyMongo's ``AsyncMongoClient``; host bots (and the tests, via
mongomock-motor) hand us a motor database. Their APIs match except that
PyMongo's ``aggregate`` must be awaited to get the cursor.
"""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime
from typing import Any

# Either a pymongo AsyncDatabase or a motor AsyncIOMotorDatabase (and their collections).
Database = Any
Collection = Any


async def aggregate(collection: Collection, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``pipeline`` and return every result document, on either driver."""
    cursor = collection.aggregate(pipeline)
    if inspect.isawaitable(cursor):
        cursor = await cursor
    return [doc async for doc in cursor]


def is_duplicate_key_only(error: Exception) -> bool:
    """Whether a bulk insert failed only because some documents already existed."""
    details = getattr(error, "details", None) or {}
    write_errors = details.get("writeErrors", [])
    other = details.get("writeConcernErrors", [])
    return bool(write_errors) and not other and all(e.get("code") == 11000 for e in write_errors)


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


def as_utc(value: Any) -> datetime | None:
    """A stored datetime as UTC-aware (mongomock and tz-naive clients return naive ones)."""
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
