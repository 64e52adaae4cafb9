"""The run's outage guard, on a clock the test moves: how long it waits, for whom."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.errors import StorageUnavailableError
from bot.delivery.outage import OutageGuard, OutagePolicy, OutageTooLongError


class Moved:
    """A clock that only the guard's sleeps move; each sleep lets a healthy operation run."""

    def __init__(self) -> None:
        self.now = 0.0
        self.guard: OutageGuard | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        assert self.guard is not None
        await self.guard(healthy)  # the watcher's status read, answered meanwhile


async def healthy() -> str:
    return "read"


async def always_down() -> str:
    raise StorageUnavailableError("AutoReconnect (injected)")


async def test_an_operation_failing_alone_gives_up_at_the_limit_while_others_succeed() -> None:
    moved = Moved()
    policy = OutagePolicy(limit_s=10, first_delay_s=0.5, max_delay_s=0.5)
    moved.guard = OutageGuard(policy, moved.clock, moved.sleep, lambda: None)

    with pytest.raises(OutageTooLongError):
        async with asyncio.timeout(5):  # without its own count it would wait for ever
            await moved.guard(always_down)

    # Each healthy read ended the shared outage; this operation's own wait still counted.
    assert 10 <= moved.now <= 10.5
