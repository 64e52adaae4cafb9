"""One Telegram request, hydrogram's exceptions in, ours out.

:func:`telegram_call` is the only place that reads hydrogram's exceptions:
:class:`~bot.delivery.errors.FloodWaitError` for flood control,
:class:`~bot.delivery.errors.SendError` with a category for everything else, including
the ``AttributeError`` that hydrogram 0.2.0 raises for some error codes it does not
know, and the timeouts and resets of a lost answer (transient: ask again, with the
same ``random_id``). Our own :class:`~bot.delivery.errors.StorageUnavailableError`
(the peer storage on MongoDB cannot be read now) passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import hydrogram
from hydrogram.errors import Flood, RPCError
from hydrogram.raw.core import TLObject

from bot.delivery.errors import (
    ContentError,
    ErrorCategory,
    FloodWaitError,
    SendError,
    StorageUnavailableError,
    classify_exception,
    classify_rpc_error,
)

T = TypeVar("T")

#: Telegram's answer to a ``random_id`` it has seen: that message was already delivered.
RANDOM_ID_DUPLICATE = "RANDOM_ID_DUPLICATE"


async def telegram_call(call: Callable[[], Awaitable[T]]) -> T:
    """Run one Telegram request, translating whatever it raises into our errors."""
    try:
        return await call()
    except Flood as flood:
        raise FloodWaitError(float(flood.value if isinstance(flood.value, int) else 1)) from flood
    except RPCError as error:
        code = rpc_error_id(error)
        raise SendError(classify_rpc_error(code, int(error.CODE or 0)), code) from error
    except StorageUnavailableError:
        raise  # hydrogram's peer storage (ours) is down, not Telegram: the caller waits it out
    except Exception as error:
        raise SendError(classify_exception(error), f"{type(error).__name__}: {error}") from error


async def invoke_once(client: hydrogram.Client, request: TLObject) -> Any:
    """Send one raw request once: no retry, no sleep through a FloodWait, no bookkeeping.

    hydrogram's ``Client.invoke`` retries failed requests itself, sleeps through short
    FloodWaits and caches the reply's peers in its storage afterwards; for a send,
    each of those belongs to the pipeline (which retries with the same ``random_id``
    and must see every FloodWait), and a storage error after Telegram answered must
    not turn a delivered message into a failure.
    """
    if not client.is_connected:
        raise ConnectionError("the client is not connected")
    return await client.session.invoke(request, retries=1, sleep_threshold=0)


def rpc_error_id(error: RPCError) -> str:
    """Telegram's error id; for ids hydrogram does not know, it is only in the value text."""
    if error.ID:
        return str(error.ID)
    unknown = re.fullmatch(r"\[-?\d+ (\w+)\]", str(error.value))
    return unknown[1] if unknown else str(error.NAME or type(error).__name__)


async def read_call(call: Callable[[], Awaitable[T]], what: str) -> T:
    """A request made while preparing content (reading the message to broadcast).

    Flood waits and transient failures are raised as they are, for the caller to
    retry; anything else means the message cannot be read: a ContentError.
    """
    try:
        return await telegram_call(call)
    except SendError as error:
        if error.category is ErrorCategory.TRANSIENT:
            raise
        raise ContentError(f"could not read {what}: {error}") from error
