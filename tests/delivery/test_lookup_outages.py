"""A send reads its recipient's peer just before its request when the batch's look-up
did not keep it: when the database cannot answer that look-up, nothing went out, and
the pipeline waits the outage out instead of spending the recipient's attempts on it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hydrogram.raw.core import TLObject

from bot.app import Core
from bot.delivery.outage import OutagePolicy, OutageTooLongError
from bot.delivery.policy import RetryPolicy
from bot.demo.simulator import TelegramSimulator
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from bot.telegram.sender import HydrogramSender
from bot.telegram.session import PEERS_COLLECTION
from tests.delivery.peer_store_kit import faulty, on_peer_store
from tests.support import create_running, make_core, receipts, seed

#: Attempts that would be spent in a few milliseconds if the outage counted against them.
QUICK_RETRIES = RetryPolicy(base_delay_s=0.005, max_delay_s=0.01)
QUICK_OUTAGES = OutagePolicy(first_delay_s=0.01, max_delay_s=0.05)
USERS = list(range(100, 400))


class PeersDownMidway(TelegramSimulator):
    """Makes single peer look-ups fail for ``seconds`` once ``after`` messages went out."""

    def __init__(self, plan: FaultPlan, after: int, seconds: float, **options: Any) -> None:
        super().__init__(**options)
        self.plan, self.after, self.seconds, self.started = plan, after, seconds, False

    async def answer(self, query: TLObject) -> Any:
        reply = await super().answer(query)
        if not self.started and self.sent_total >= self.after:
            self.started = True
            now = asyncio.get_running_loop().time()
            end = now + self.seconds
            self.plan.outage(collections=[PEERS_COLLECTION], operations=["find_one"], end=end)
        return reply


@asynccontextmanager
async def lone_look_ups(
    db: Database, tmp_path: Path, seconds: float, outage: OutagePolicy
) -> AsyncIterator[tuple[Core, str, FaultPlan, PeersDownMidway]]:
    """A broadcast to 300 whose sends each read their recipient's peer from MongoDB (one
    peer kept in memory), with those look-ups failing for ``seconds`` after 60 sends."""
    plan, fdb = faulty(db)
    sim = PeersDownMidway(
        plan, 60, seconds, clock=asyncio.get_running_loop().time, telegram_limit=1000
    )
    async with on_peer_store(sim, fdb, tmp_path, cache_size=1):
        await seed(db, sim, USERS)
        core = make_core(fdb, sim, rate=400, retry=QUICK_RETRIES, outage=outage)
        sender = core.pipeline.ports.sender
        assert isinstance(sender, HydrogramSender)
        sender.peers.capacity = 1  # the batch's look-up keeps one peer: the rest read alone
        yield core, await create_running(core), plan, sim


async def test_a_send_reading_its_peer_waits_out_an_outage_of_the_peer_store(
    db: Database, tmp_path: Path
) -> None:
    async with lone_look_ups(db, tmp_path, 0.5, QUICK_OUTAGES) as (core, bid, plan, sim):
        summary = await asyncio.wait_for(core.service.run(bid), 10)

    assert plan.record.by_operation["find_one"] > 0, "the outage met no look-up"
    assert (summary.status, summary.sent, summary.failed, summary.unknown) == (
        "completed",
        len(USERS),
        0,
        0,
    ), summary.errors
    assert set(receipts(sim, USERS).values()) == {1}


async def test_a_peer_store_outage_past_the_limit_stops_the_run_and_its_resume_sends_the_rest(
    db: Database, tmp_path: Path
) -> None:
    # Longer than the status poll (0.5 s): the run's healthy reads meanwhile must not
    # restart the count of the look-ups' own outage.
    limit = OutagePolicy(limit_s=1.2, first_delay_s=0.01, max_delay_s=0.05)
    async with lone_look_ups(db, tmp_path, math.inf, limit) as (core, bid, plan, sim):
        with pytest.raises(OutageTooLongError):
            await asyncio.wait_for(core.service.run(bid), 10)
        stopped = await db["broadcasts"].find_one({"_id": bid})
        plan.heal()
        summary = await asyncio.wait_for(core.service.run(bid), 10)

    assert stopped is not None
    assert stopped["status"] == "running"  # for the next run, which the queue starts
    assert (summary.status, summary.sent, summary.failed) == ("completed", len(USERS), 0)
    assert set(receipts(sim, USERS).values()) == {1}
