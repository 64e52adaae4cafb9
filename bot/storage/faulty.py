"""A database that fails on a schedule: MongoDB's faults for tests and ``demo --chaos``.

mongomock never steps down, drops a connection or forgets a cursor, so the
promise that broadcasts survive those is tested through this proxy. It wraps
the database the bot is given (PyMongo's ``AsyncDatabase`` or a motor one,
including :mod:`bot.storage.inmemory`'s) and asks a
:class:`~bot.storage.faulty_plan.FaultPlan` before every operation whether to
delay it, fail it before it reaches the database, or fail it after (the write
happened, the answer was lost). Anything it does not wrap passes through.

Cursors are modelled as a server serves them: the query brings the first batch
(``batch_size`` documents, 101 by default), each later batch is a getMore
(``batch_size`` documents, or all the rest: the 16 MiB cap is not modelled).
Only a getMore can meet a removed cursor (idle longer than
``cursor_idle_timeout`` since its last batch, as the server counts it, or
killed by a failover) and raise ``CursorNotFound``; the cursor is dead after
any error, as PyMongo's is. A getMore is modelled only when documents remain
(as if the server had closed an exhausted cursor with its last batch).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from bot.storage.faulty_plan import GET_MORE, FaultPlan
from bot.storage.mongo import Collection, Database

#: What a server sends with the query when no batch size is given.
FIRST_BATCH = 101
#: The collection methods that run on the database (all awaited, on both drivers).
GUARDED = frozenset(
    {
        "bulk_write",
        "count_documents",
        "create_index",
        "create_indexes",
        "delete_many",
        "delete_one",
        "distinct",
        "drop",
        "drop_index",
        "drop_indexes",
        "estimated_document_count",
        "find_one",
        "find_one_and_delete",
        "find_one_and_replace",
        "find_one_and_update",
        "index_information",
        "insert_many",
        "insert_one",
        "replace_one",
        "update_many",
        "update_one",
    }
)


async def _guarded(
    plan: FaultPlan, collection: str, operation: str, call: Callable[[], Any]
) -> Any:
    fault = await plan.enter(collection, operation)
    try:
        result = await call()
    except Exception:
        if fault is None:
            raise
        # The answer, an error or not, was lost on the way back.
        raise fault.error from None
    if fault is not None:
        raise fault.error
    return result


class FaultyDatabase:
    """``database`` seen through ``plan``: its collections fail as the plan says.

    Args:
        database: a PyMongo ``AsyncDatabase`` or a motor ``AsyncIOMotorDatabase``.
        plan: the faults to inject, which the caller keeps changing.
    """

    def __init__(self, database: Database, plan: FaultPlan) -> None:
        self.unwrapped = database
        self.plan = plan
        self._collection_type = type(database["faulty_probe"])

    def __getitem__(self, name: str) -> FaultyCollection:
        return FaultyCollection(self.unwrapped[name], self.plan)

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> FaultyCollection:
        """The named collection, wrapped (options as the driver's ``get_collection``)."""
        return FaultyCollection(self.unwrapped.get_collection(name, *args, **kwargs), self.plan)

    def with_options(self, *args: Any, **kwargs: Any) -> FaultyDatabase:
        """The database with other options (the driver's ``with_options``), still wrapped."""
        return FaultyDatabase(self.unwrapped.with_options(*args, **kwargs), self.plan)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self.unwrapped, name)
        # db.users is a collection; db.name and db.client are not.
        if isinstance(value, self._collection_type):
            return FaultyCollection(value, self.plan)
        return value


class FaultyCollection:
    """A collection whose operations and cursors go through a :class:`FaultPlan`."""

    def __init__(self, collection: Collection, plan: FaultPlan) -> None:
        self.unwrapped = collection
        self.plan = plan
        self.name: str = collection.name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self.unwrapped, name)
        if name in GUARDED:

            def guarded(*args: Any, **kwargs: Any) -> Awaitable[Any]:
                return _guarded(self.plan, self.name, name, lambda: value(*args, **kwargs))

            return guarded
        if isinstance(value, type(self.unwrapped)):  # a sub-collection: db.users.archive
            return FaultyCollection(value, self.plan)
        return value

    def with_options(self, *args: Any, **kwargs: Any) -> FaultyCollection:
        """The collection with other options (the driver's ``with_options``), still wrapped."""
        return FaultyCollection(self.unwrapped.with_options(*args, **kwargs), self.plan)

    def find(self, *args: Any, **kwargs: Any) -> FaultyCursor:
        """A cursor over the query; the query runs (and may fail) on the first fetch."""
        cursor = self.unwrapped.find(*args, **kwargs)
        idle_expires = not kwargs.get("no_cursor_timeout", False)
        return FaultyCursor(
            cursor, self, "find", kwargs.get("batch_size"), idle_expires=idle_expires
        )

    def aggregate(self, pipeline: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        """As the driver's: awaited for the cursor on PyMongo, the cursor itself on motor."""
        batch = kwargs.get("batchSize")
        method = self.unwrapped.aggregate
        if not inspect.iscoroutinefunction(method):
            return FaultyCursor(method(pipeline, *args, **kwargs), self, "aggregate", batch)

        async def run() -> FaultyCursor:
            # PyMongo runs the command (and gets the first batch) when awaited.
            cursor = await _guarded(
                self.plan, self.name, "aggregate", lambda: method(pipeline, *args, **kwargs)
            )
            return FaultyCursor(cursor, self, "aggregate", batch, opened=True)

        return run()


class FaultyCursor:
    """A find or aggregate cursor that fails its query, or a getMore, as the plan says.

    Chaining (``sort``, ``limit``, ``skip``, ...) goes to the driver's cursor and
    returns this one; ``batch_size`` is also remembered, to tell batches apart.
    """

    def __init__(
        self,
        cursor: Any,
        collection: FaultyCollection,
        operation: str,
        batch_size: int | None = None,
        *,
        opened: bool = False,
        idle_expires: bool = True,
    ) -> None:
        self.unwrapped = cursor
        self._collection, self._operation = collection, operation
        self._plan = collection.plan
        self._batch = batch_size or None
        self._idle_expires = idle_expires
        self._served = 0
        self._dead = False
        self._generation = self._plan.generation
        # When the server last sent a batch; None until the query has run.
        self._last_batch_at: float | None = self._plan.now() if opened else None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self.unwrapped, name)
        if not callable(value):
            return value

        def chained(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            return self if result is self.unwrapped else result

        return chained

    def batch_size(self, batch_size: int) -> FaultyCursor:
        """Documents per batch (0: the server's default), as the driver's ``batch_size``."""
        self.unwrapped.batch_size(batch_size)
        self._batch = batch_size or None
        return self

    def __aiter__(self) -> FaultyCursor:
        return self

    async def __anext__(self) -> Any:
        if self._dead:
            raise StopAsyncIteration
        try:
            if self._last_batch_at is None:
                document = await self._query()
            else:
                document = await self.unwrapped.__anext__()
                if self._starts_batch():
                    await self._get_more(self._last_batch_at)
        except StopAsyncIteration:
            raise
        except Exception:
            self._dead = True
            raise
        self._served += 1
        return document

    async def next(self) -> Any:
        """The next document; ``StopAsyncIteration`` at the end (as the drivers' ``next``)."""
        return await self.__anext__()

    async def to_list(self, length: int | None = None) -> list[Any]:
        """The remaining documents, at most ``length`` of them."""
        documents: list[Any] = []
        while length is None or len(documents) < length:
            try:
                documents.append(await self.__anext__())
            except StopAsyncIteration:
                break
        return documents

    async def _query(self) -> Any:
        plan = self._plan
        fault = await plan.enter(self._collection.name, self._operation)
        self._last_batch_at, self._generation = plan.now(), plan.generation
        try:
            document = await self.unwrapped.__anext__()
        except StopAsyncIteration:
            if fault is None:
                raise
            document = None
        if fault is not None:
            raise fault.error
        return document

    def _starts_batch(self) -> bool:
        """Whether the document about to be served (the ``_served``-th) needs a getMore."""
        if self._batch is not None:
            return self._served > 0 and self._served % self._batch == 0
        return self._served == FIRST_BATCH

    async def _get_more(self, last_batch_at: float) -> None:
        plan = self._plan
        if plan.cursor_gone(
            last_batch_at=last_batch_at,
            generation=self._generation,
            idle_expires=self._idle_expires,
        ):
            raise plan.cursor_killed()
        fault = await plan.enter(self._collection.name, GET_MORE)
        if fault is not None:  # a lost getMore reply loses the batch: the same either way
            raise fault.error
        self._last_batch_at = plan.now()
