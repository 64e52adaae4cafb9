"""mongomock-motor's API, with the work done on one database thread, as a server would.

Every operation runs on one dedicated thread (so it is also serialised, as
mongomock needs), and cursors fetch documents from it in batches. Without this,
mongomock's synchronous work would stall the event loop for tens of
milliseconds at a time, which a real MongoDB never does, and bunch up sends.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mongomock_motor

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
    "drop_index",
    "drop_indexes",
    "estimated_document_count",
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


def apply() -> None:
    """Move mongomock-motor's work to the database thread (call once)."""
    collection: Any = mongomock_motor.AsyncMongoMockCollection
    cursor: Any = mongomock_motor.AsyncCursor
    for name in _OFFLOADED:
        setattr(collection, name, _offload(getattr(collection, name)))
    collection.aggregate = _aggregate
    cursor.next = cursor.__anext__ = _async_cursor_next
