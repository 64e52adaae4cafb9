"""Cancel and pause act at once while a new session (``TelegramSimulator(cold=True)``)
waits out a long FloodWait that Telegram answered to a look-up of users
(``users.GetUsers``): while the message to broadcast is read (its chat resolved), and
while recipients are resolved."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hydrogram import raw
from hydrogram.raw.core import TLObject

from bot.delivery.content import Content, CopyContent
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.support import ADMIN, create_running, make_core, receipts, seed

#: Minutes, as Telegram may ask: the run must not wait it out to see a cancel.
FLOOD_WAIT_S = 300
#: The bound on how long a cancel takes to act (the status is read every 0.5 s).
ACTS_WITHIN_S = 2.0


class ColdSession(TelegramSimulator):
    """A new session that tells when Telegram has answered a look-up of users."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cold=True, **options)
        self.looked_up = asyncio.Event()

    async def answer(self, query: TLObject) -> Any:
        try:
            return await super().answer(query)
        finally:
            if isinstance(query, raw.functions.users.GetUsers):
                self.looked_up.set()


@pytest.fixture
async def cold() -> AsyncIterator[ColdSession]:
    loop = asyncio.get_running_loop()
    sim = ColdSession(telegram_limit=1000, chat_burst=1000, clock=loop.time)
    await sim.start()
    sim.add_user(ADMIN, first_name="Admin")
    yield sim
    await sim.stop()


async def cancel_and_time(
    sim: ColdSession, db: Database, content: Content | None = None, *, pause: bool = False
) -> float:
    """Run a broadcast into the FloodWait, cancel (or pause) it; return the loop's seconds
    until its run ended."""
    loop = asyncio.get_running_loop()
    core = make_core(db, sim, snapshot_batch=100)
    bid = await create_running(core, content)
    sim.fail_next_request("users.GetUsers", error_message=f"FLOOD_WAIT_{FLOOD_WAIT_S}")
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.wait_for(sim.looked_up.wait(), 10)  # answered with the FloodWait
    await asyncio.sleep(0.05)  # the run is now waiting it out

    stopped_at = loop.time()
    act = core.service.pause if pause else core.service.cancel
    assert await act(bid, by=ADMIN)
    summary = await asyncio.wait_for(run, 10)  # far less than the FloodWait's 300 s
    elapsed = loop.time() - stopped_at

    expected = "paused" if pause else "cancelled"  # paused: the sender goes to the next one
    assert (summary.status, summary.sent) == (expected, 0)
    assert (await db["broadcasts"].find_one({"_id": bid}))["status"] == expected
    return elapsed


async def test_cancel_acts_during_a_flood_wait_while_reading_the_source(
    db: Database, cold: ColdSession
) -> None:
    users = await seed(db, cold, range(100, 120))
    source = await cold.seed_message(ADMIN, media="photo", caption="Sale")

    elapsed = await cancel_and_time(cold, db, CopyContent(ADMIN, (source,)))

    assert elapsed < ACTS_WITHIN_S
    assert sum(receipts(cold, users).values()) == 0


async def test_cancel_acts_during_a_flood_wait_while_resolving_recipients(
    db: Database, cold: ColdSession
) -> None:
    users = await seed(db, cold, range(100, 350))

    elapsed = await cancel_and_time(cold, db)

    assert elapsed < ACTS_WITHIN_S
    assert sum(receipts(cold, users).values()) == 0
    assert await db["deliveries"].count_documents({"status": {"$ne": "pending"}}) == 0


async def test_pause_acts_during_a_flood_wait_while_reading_the_source(
    db: Database, cold: ColdSession
) -> None:
    users = await seed(db, cold, range(100, 120))
    source = await cold.seed_message(ADMIN, media="photo", caption="Sale")

    elapsed = await cancel_and_time(cold, db, CopyContent(ADMIN, (source,)), pause=True)

    assert elapsed < ACTS_WITHIN_S
    assert sum(receipts(cold, users).values()) == 0
