"""The pipeline's promises when hydrogram's peer storage fails: a new session that must
look its recipients up (``TelegramSimulator(cold=True)``), with the storage the standalone
bot uses (peers in MongoDB) behind the database fault injector, or a storage that breaks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hydrogram.raw.core import TLObject

from bot.delivery.content import CopyContent
from bot.delivery.outage import OutagePolicy
from bot.demo.simulator import TelegramSimulator
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from bot.telegram.session import PEERS_COLLECTION, session_storage
from tests.support import ADMIN, ProgressLog, create_running, make_core, receipts, seed

#: Short backoff, so the outages below are waited out in a fraction of a second.
QUICK = OutagePolicy(first_delay_s=0.01, max_delay_s=0.05)


class OutageMidway(TelegramSimulator):
    """Starts a planned outage once ``after`` messages were delivered: mid-broadcast, not by
    the clock."""

    def __init__(self, plan: FaultPlan, after: int, **options: Any) -> None:
        super().__init__(**options)
        self.plan, self.after, self.outage_started = plan, after, False

    async def answer(self, query: TLObject) -> Any:
        reply = await super().answer(query)
        if not self.outage_started and self.sent_total >= self.after:
            self.outage_started = True
            # Look-ups only: the peers' background writes retry on their own.
            self.plan.outage(count=3, collections=[PEERS_COLLECTION], operations=["find"])
        return reply


async def test_an_outage_of_the_peer_store_is_waited_out(db: Database, tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    plan = FaultPlan(clock=loop.time)
    fdb = FaultyDatabase(db, plan)
    sim = OutageMidway(plan, 150, telegram_limit=1000, chat_burst=1000, clock=loop.time, cold=True)
    sim.storage = session_storage("sim", fdb, session_dir=tmp_path)  # type: ignore[assignment]
    await sim.start()
    try:
        sim.add_user(ADMIN, first_name="Admin")
        users = await seed(db, sim, range(100, 700))
        core = make_core(fdb, sim, snapshot_batch=100, outage=QUICK, progress_min_interval_s=0.0)
        progress = ProgressLog()
        bid = await create_running(core)
        summary = await asyncio.wait_for(core.service.run(bid, progress), 30)
    finally:
        await sim.stop()

    assert sim.outage_started
    assert plan.record.by_operation["find"] == 3  # the recipients' look-ups failed, three times
    assert (summary.status, summary.sent, summary.failed, summary.unknown) == (
        "completed",
        len(users),
        0,
        0,
    )
    assert set(receipts(sim, users).values()) == {1}
    assert any(s.db_down_since is not None for s in progress.snaps)  # shown as an outage


async def test_reading_the_source_through_an_outage_of_the_peer_store(
    db: Database, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    plan = FaultPlan(clock=loop.time)
    fdb = FaultyDatabase(db, plan)
    sim = TelegramSimulator(telegram_limit=1000, chat_burst=1000, clock=loop.time, cold=True)
    sim.storage = session_storage("sim", fdb, session_dir=tmp_path)  # type: ignore[assignment]
    await sim.start()
    try:
        sim.add_user(ADMIN, first_name="Admin")
        users = await seed(db, sim, range(100, 120))
        source = await sim.seed_message(ADMIN, media="photo", caption="Sale")
        core = make_core(fdb, sim, outage=QUICK)
        bid = await create_running(core, CopyContent(ADMIN, (source,)))
        # Reading the message resolves its chat: hydrogram asks the peer store first.
        plan.outage(count=2, collections=[PEERS_COLLECTION], operations=["find_one"])
        summary = await asyncio.wait_for(core.service.run(bid), 30)
    finally:
        await sim.stop()

    assert plan.record.by_operation["find_one"] == 2
    assert (summary.status, summary.sent, summary.stop_reason) == ("completed", len(users), None)
    assert set(receipts(sim, users).values()) == {1}
