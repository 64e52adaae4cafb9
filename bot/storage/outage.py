"""The driver's "cannot reach the database now" errors, as our StorageUnavailableError.

A primary stepping down, a reset connection, a server that cannot be selected, a
cursor the server killed (idle for 10 minutes, or lost in a failover: PyMongo
retries reads and writes once, never a ``getMore``): the pipeline waits these out
and goes on where it stood, so the adapters raise one error of ours for all of
them and let every other error (a bug, a permission) through unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from pymongo.errors import (
    ConnectionFailure,
    CursorNotFound,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    WTimeoutError,
)

from bot.delivery.errors import StorageUnavailableError

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", bound=type)

#: Server error codes of a failover, a shutdown or a network fault (MongoDB's error codes).
TRANSIENT_CODES = frozenset(
    {6, 7, 43, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}
)


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached now (try again later)."""
    if isinstance(error, ConnectionFailure | CursorNotFound | ExecutionTimeout | WTimeoutError):
        return True
    if not isinstance(error, PyMongoError):
        return False
    if error.has_error_label("RetryableWriteError"):
        return True
    return isinstance(error, OperationFailure) and error.code in TRANSIENT_CODES


def _translated(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except PyMongoError as error:
            if is_unavailable(error):
                raise StorageUnavailableError(f"{type(error).__name__}: {error}") from error
            raise

    return call


def _translated_stream(method: Callable[P, AsyncIterator[T]]) -> Callable[P, AsyncIterator[T]]:
    @functools.wraps(method)
    async def stream(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        try:
            async for item in method(*args, **kwargs):
                yield item
        except PyMongoError as error:
            if is_unavailable(error):
                raise StorageUnavailableError(f"{type(error).__name__}: {error}") from error
            raise

    return stream


def outages_translated(cls: C) -> C:
    """Class decorator: every public async method raises StorageUnavailableError for an outage."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        wrapped: Any
        if inspect.isasyncgenfunction(member):
            wrapped = _translated_stream(member)
        elif inspect.iscoroutinefunction(member):
            wrapped = _translated(member)
        else:
            continue
        setattr(cls, name, wrapped)
    return cls
