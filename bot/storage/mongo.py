"""Small helpers over the two MongoDB drivers we accept.

Production uses PyMongo's ``AsyncMongoClient``; host bots (and the tests, via
mongomock-motor) hand us a motor database. Their APIs match except that
PyMongo's ``aggregate`` must be awaited to get the cursor.
"""

from __future__ import annotations

import inspect
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
