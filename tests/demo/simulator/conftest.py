"""The simulator tests' ``clock`` (moved by hand) and ``sim`` (started on it, users known)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.demo.simulator import TelegramSimulator
from tests.demo.simulator.kit import FakeClock, started


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[TelegramSimulator]:
    simulator = await started(clock)
    yield simulator
    await simulator.stop()
