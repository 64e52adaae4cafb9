"""An in-memory MongoDB (mongomock-motor) for the demo, the benchmarks and the tests.

Like a real server, it does its work outside the event loop, on one database
thread (:mod:`.motor`), and it uses indexes: mongomock alone examines every
document for every query, so a broadcast to N users would cost N per message.
Here each collection keeps the indexes declared with ``create_index`` (and
``_id``) up to date on every write (:mod:`.store`, :mod:`.index`), and a query
reads its candidates off the best of them (:mod:`.planner`) before mongomock
applies its own filter, sort and projection to them (:mod:`.patches`). What no
index serves is scanned, as before.

Results are mongomock's (tests/storage compares them call by call with plain
mongomock, ``in_memory_database(indexed=False)``). Two limits: a malformed filter
raises only if a candidate reaches its bad part (mongomock raises at the first
document that does), and a cursor without a limit is computed whole at its first
batch, as mongomock does, so a query that reads a whole collection costs that much
before its first document. :func:`query_stats` counts what queries examined.

A change here: how the in-memory database stores, finds or orders documents.

May import: :mod:`bot.storage`, mongomock, mongomock-motor, sortedcontainers.
"""

from __future__ import annotations

from typing import Any

from mongomock_motor import AsyncMongoMockClient

from bot.storage.inmemory import motor, patches
from bot.storage.inmemory.store import IndexedCollectionStore, IndexedServerStore, QueryStats
from bot.storage.mongo import Collection, Database

__all__ = ["QueryStats", "in_memory_database", "query_stats"]

patches.apply()
motor.apply()


def in_memory_database(name: str = "broadcast_manager", *, indexed: bool = True) -> Database:
    """A fresh, empty in-memory database (motor API); ``indexed=False``: plain mongomock."""
    store: Any = IndexedServerStore() if indexed else None  # None: mongomock's own
    return AsyncMongoMockClient(_store=store)[name]


def query_stats(collection: Collection) -> QueryStats:
    """How many documents the queries on ``collection`` examined so far (indexed only).

    Raises:
        TypeError: The collection is not of an indexed in-memory database.
    """
    store = collection._store
    if not isinstance(store, IndexedCollectionStore):
        raise TypeError(f"{collection!r} is not an indexed in-memory collection")
    return store.stats
