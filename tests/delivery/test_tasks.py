"""stop_task: the stopped task's cancellation is swallowed, the caller's is not."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.tasks import stop_task


async def _forever() -> None:
    await asyncio.Event().wait()


async def _slow_to_stop(stopping: asyncio.Event) -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        stopping.set()
        await asyncio.sleep(0.05)  # cleans up for a while
        raise


async def test_a_task_is_cancelled_and_awaited() -> None:
    task = asyncio.create_task(_forever())
    await asyncio.sleep(0)
    await stop_task(task)
    assert task.cancelled()
    await stop_task(None)


async def test_the_caller_cancelled_while_it_waits_is_cancelled() -> None:
    stopping = asyncio.Event()
    inner = asyncio.create_task(_slow_to_stop(stopping))
    await asyncio.sleep(0)
    caller = asyncio.create_task(stop_task(inner))
    await stopping.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert inner.done()


async def test_a_caller_already_being_cancelled_still_stops_every_task() -> None:
    first, second = (asyncio.create_task(_forever()) for _ in range(2))

    async def cleanup_after_a_cancel() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await stop_task(first)
            await stop_task(second)

    caller = asyncio.create_task(cleanup_after_a_cancel())
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert first.cancelled()
    assert second.cancelled()
