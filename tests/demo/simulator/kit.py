"""What the simulator tests share: their users and channel, a clock moved by hand, a started
simulator, a single message."""

from __future__ import annotations

from typing import Any

from hydrogram.types import Message

from bot.demo.simulator import TelegramSimulator

ADMIN, ALICE, BOB, CAROL = 10, 11, 12, 13
CHANNEL = -1001234567890


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def started(clock: FakeClock, **options: Any) -> TelegramSimulator:
    sim = TelegramSimulator(clock=clock, date_origin=1_700_000_000.0, **options)
    sim.add_user(ADMIN, first_name="Admin", username="admin")
    sim.add_users([ALICE, BOB, CAROL])
    return await sim.start()


def message_of(result: Message | list[Message]) -> Message:
    assert isinstance(result, Message)
    return result
