"""Stopping a background task: cancel it and wait until it has ended."""

from __future__ import annotations

import asyncio
from typing import Any


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (None: nothing to stop) and wait for it to end.

    Its cancellation is swallowed; a cancellation of the caller that arrives while
    it waits is not (``contextlib.suppress(CancelledError)`` around the wait would
    swallow both). A caller already being cancelled (a ``finally`` cleaning up)
    still stops every task it asks to.
    """
    if task is None:
        return
    current = asyncio.current_task()
    cancels_before = current.cancelling() if current is not None else 0
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        if current is not None and current.cancelling() > cancels_before:
            raise
