"""An in-memory MongoDB (mongomock-motor) for the demo, the benchmarks and the tests.

Two narrow fixes to mongomock 4.3, applied once when this module is imported:
- pymongo >= 4.11 passes ``sort`` to the bulk builder, which mongomock does not
  accept, so ``bulk_write([UpdateOne(...)])`` fails; the argument is dropped
  (it only matters for ``updateOne`` with a sort, which we never send).
- mongomock scans every document for every query. A query that names its
  ``_id`` (equality or ``$in``) now looks those documents up directly and then
  applies the whole filter as before, so results are identical; ledger claims
  and settlements stop costing a scan of the whole collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mongomock.collection
from mongomock.filtering import filter_applies
from mongomock_motor import AsyncMongoMockClient

from bot.mongo import Database

_Builder: Any = mongomock.collection.BulkOperationBuilder
_Collection: Any = mongomock.collection.Collection
_applies: Any = filter_applies
_original_iter = _Collection._iter_documents
_original_add_update = _Builder.add_update
_original_add_replace = _Builder.add_replace


def _add_update(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
    return _original_add_update(self, *args, **kwargs)


def _add_replace(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
    return _original_add_replace(self, *args, **kwargs)


def _ids_named(filter: Any) -> list[Any] | None:
    if not isinstance(filter, dict) or "_id" not in filter:
        return None
    wanted = filter["_id"]
    if isinstance(wanted, dict):
        if set(wanted) != {"$in"}:
            return None
        wanted = wanted["$in"]
    ids = list(wanted) if isinstance(wanted, list | tuple) else [wanted]
    # Only plain keys hash the way mongomock stores them; anything else scans.
    return ids if all(isinstance(i, str | int) for i in ids) else None


def _iter_documents(self: Any, filter: Any) -> Iterator[Any]:
    ids = _ids_named(filter)
    if ids is None:
        return _original_iter(self, filter)  # type: ignore[no-any-return]
    store = self._store
    found = [store[i] for i in dict.fromkeys(ids) if i in store]
    return (doc for doc in found if _applies(filter, doc))


_Builder.add_update = _add_update
_Builder.add_replace = _add_replace
_Collection._iter_documents = _iter_documents


def in_memory_database(name: str = "broadcast_manager") -> Database:
    """A fresh, empty in-memory database (motor API)."""
    return AsyncMongoMockClient()[name]
