"""An in-memory MongoDB (mongomock-motor) for the demo, the benchmarks and the tests.

Like a real server, it does its work outside the event loop: every operation
runs on one dedicated thread (so it is also serialised, as mongomock needs),
and cursors fetch documents from it in batches. Without this, mongomock's
synchronous work would stall the event loop for tens of milliseconds at a
time, which a real MongoDB never does, and bunch up sends.

Three narrow fixes to mongomock 4.3, applied once when this module is imported:
- pymongo >= 4.11 passes ``sort`` to the bulk builder, which mongomock does not
  accept, so ``bulk_write([UpdateOne(...)])`` fails; the argument is dropped
  (it only matters for ``updateOne`` with a sort, which we never send).
- mongomock scans every document for every query. A query that names its
  ``_id`` (equality or ``$in``) now looks those documents up directly and then
  applies the whole filter as before, so results are identical; ledger claims
  and settlements stop costing a scan of the whole collection.
- documents keep their own copy of their strings, as a real server does, so
  a caller's objects are not pinned by the database (this matters to the
  memory benchmark, which counts what our code keeps alive).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mongomock.collection
import mongomock_motor
from mongomock.filtering import filter_applies
from mongomock_motor import AsyncMongoMockClient

from bot.storage.mongo import Database

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


_original_insert = _Collection._insert


def _own(value: Any) -> Any:
    # A copy of a string, so the database holds its own text (deepcopy shares strings):
    # a real server keeps its own bytes and never pins the caller's objects.
    return "".join([value[:1], value[1:]]) if type(value) is str and len(value) > 1 else value


def _insert(self: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(data, dict):
        data.update({key: _own(value) for key, value in data.items()})
    return _original_insert(self, data, *args, **kwargs)


_Builder.add_update = _add_update
_Builder.add_replace = _add_replace
_Collection._iter_documents = _iter_documents
_Collection._insert = _insert

_DB_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="in-memory-mongodb")
_CURSOR_BATCH = 1000
_OFFLOADED = [
    "bulk_write",
    "count_documents",
    "create_index",
    "create_indexes",
    "delete_many",
    "delete_one",
    "drop",
    "find_one",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "insert_many",
    "insert_one",
    "replace_one",
    "update_many",
    "update_one",
    "distinct",
    "index_information",
]


def _drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run one of mongomock-motor's coroutines, which never suspend, to completion."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("an in-memory database call tried to suspend")


def _offload(method: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
    async def in_db_thread(self: Any, *args: Any, **kwargs: Any) -> Any:
        # The coroutine is made in the thread, so a caller cancelled first leaves none unawaited.
        def call() -> Any:
            return _drive(method(self, *args, **kwargs))

        return await asyncio.get_running_loop().run_in_executor(_DB_THREAD, call)

    return in_db_thread


def _take(iterator: Iterator[Any], count: int) -> list[Any]:
    chunk = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) >= count:
            break
    return chunk


class _BatchedCursor:
    """Async iteration over a mongomock cursor, fetched from the database thread in batches."""

    def __init__(self, open_cursor: Callable[[], Iterator[Any]]) -> None:
        self._open = open_cursor
        self._cursor: Iterator[Any] | None = None
        self._buffer: deque[Any] = deque()
        self._done = False

    def __aiter__(self) -> _BatchedCursor:
        return self

    async def __anext__(self) -> Any:
        if not self._buffer and not self._done:
            loop = asyncio.get_running_loop()
            chunk = await loop.run_in_executor(_DB_THREAD, self._fetch)
            self._buffer.extend(chunk)
            self._done = len(chunk) < _CURSOR_BATCH
        if not self._buffer:
            raise StopAsyncIteration
        return self._buffer.popleft()

    def _fetch(self) -> list[Any]:
        if self._cursor is None:
            self._cursor = iter(self._open())
        return _take(self._cursor, _CURSOR_BATCH)

    async def to_list(self, length: int | None = None) -> list[Any]:
        """Every remaining document (``length`` is ignored, as mongomock-motor does)."""
        return [doc async for doc in self]


def _async_cursor_next(self: Any) -> Any:
    batched = self.__dict__.get("_batched")
    if batched is None:
        inner = self._AsyncCursor__cursor
        batched = self.__dict__["_batched"] = _BatchedCursor(lambda: inner)
    return batched.__anext__()


def _aggregate(self: Any, pipeline: list[dict[str, Any]], **kwargs: Any) -> _BatchedCursor:
    collection = self._AsyncMongoMockCollection__collection
    return _BatchedCursor(lambda: iter(collection.aggregate(pipeline, **kwargs)))


_AsyncCollection: Any = mongomock_motor.AsyncMongoMockCollection
_AsyncCursor: Any = mongomock_motor.AsyncCursor
for _name in _OFFLOADED:
    setattr(_AsyncCollection, _name, _offload(getattr(_AsyncCollection, _name)))
_AsyncCollection.aggregate = _aggregate
_AsyncCursor.next = _AsyncCursor.__anext__ = _async_cursor_next


def in_memory_database(name: str = "broadcast_manager") -> Database:
    """A fresh, empty in-memory database (motor API)."""
    return AsyncMongoMockClient()[name]
