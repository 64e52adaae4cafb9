"""The pipeline's promises when hydrogram's peer storage fails: a new session that must
look its recipients up (``TelegramSimulator(cold=True)``), with the storage the standalone
bot uses (peers in MongoDB) behind the database fault injector, or a storage that breaks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hydrogram.raw.core import TLObject
from pymongo.errors import AutoReconnect, OperationFailure

from bot.delivery.content import CopyContent, TextContent
from bot.delivery.errors import StorageUnavailableError
from bot.delivery.outage import OutagePolicy
from bot.demo.simulator import TelegramSimulator
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from bot.telegram.peer_cache import PeerRow
from bot.telegram.sender import HydrogramSender
from bot.telegram.session import PEERS_COLLECTION, MongoSessionStorage
from tests.delivery.peer_store_kit import faulty, on_peer_store
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
    plan, fdb = faulty(db)
    sim = OutageMidway(plan, 150, telegram_limit=1000, chat_burst=1000, clock=loop.time, cold=True)
    async with on_peer_store(sim, fdb, tmp_path):
        users = await seed(db, sim, range(100, 700))
        core = make_core(fdb, sim, snapshot_batch=100, outage=QUICK, progress_min_interval_s=0.0)
        progress = ProgressLog()
        bid = await create_running(core)
        summary = await asyncio.wait_for(core.service.run(bid, progress), 30)

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
    plan, fdb = faulty(db)
    sim = TelegramSimulator(telegram_limit=1000, chat_burst=1000, clock=loop.time, cold=True)
    async with on_peer_store(sim, fdb, tmp_path):
        users = await seed(db, sim, range(100, 120))
        source = await sim.seed_message(ADMIN, media="photo", caption="Sale")
        core = make_core(fdb, sim, outage=QUICK)
        bid = await create_running(core, CopyContent(ADMIN, (source,)))
        # Reading the message resolves its chat: hydrogram asks the peer store first.
        plan.outage(count=2, collections=[PEERS_COLLECTION], operations=["find_one"])
        summary = await asyncio.wait_for(core.service.run(bid), 30)

    assert plan.record.by_operation["find_one"] == 2
    assert (summary.status, summary.sent, summary.stop_reason) == ("completed", len(users), None)
    assert set(receipts(sim, users).values()) == {1}


class FailingPeerWrites(MongoSessionStorage):
    """The standalone bot's storage, except that recording peers fails once ``failing`` is set
    (a storage that writes synchronously, during a MongoDB outage)."""

    failing = False
    failed_writes = 0

    async def update_peers(self, peers: Sequence[PeerRow]) -> None:
        if self.failing and peers:
            self.failed_writes += 1
            raise AutoReconnect("connection closed during update (injected)")
        await super().update_peers(peers)


async def test_a_peer_store_failing_after_telegram_answered_loses_no_recipient(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.get_running_loop()
    sim = TelegramSimulator(telegram_limit=1000, chat_burst=1000, clock=loop.time, cold=True)
    storage = FailingPeerWrites("sim", db[PEERS_COLLECTION], session_dir=tmp_path)
    sim.storage = storage  # type: ignore[assignment]
    await sim.start()
    try:
        sim.add_user(ADMIN, first_name="Admin")
        users = await seed(db, sim, range(100, 350))
        storage.failing = True  # from now on: the users Telegram tells us of cannot be stored
        core = make_core(db, sim, snapshot_batch=100)
        bid = await create_running(core)
        with caplog.at_level(logging.WARNING, logger="bot.telegram.peers"):
            summary = await asyncio.wait_for(core.service.run(bid), 30)
    finally:
        await sim.stop()

    # Telegram was asked once per 100 unknown users; each answer could not be stored.
    assert sim.request_counts["users.GetUsers"] == storage.failed_writes == 3
    assert "could not store 100 peers learned from Telegram" in caplog.text
    assert (summary.status, summary.sent, summary.failed, summary.unknown) == (
        "completed",
        len(users),
        0,
        0,
    )
    assert set(receipts(sim, users).values()) == {1}
    rows = [r async for r in db["deliveries"].find({"broadcast_id": bid})]
    assert sorted(r["user_id"] for r in rows) == users
    assert {r["status"] for r in rows} == {"sent"}
    assert all(r["message_id"] for r in rows)
    assert await db[PEERS_COLLECTION].count_documents({"_id": {"$in": users}}) == 0


async def test_a_broken_peer_store_stops_the_run_with_a_reason_an_admin_can_read(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.get_running_loop()
    plan, fdb = faulty(db)
    sim = TelegramSimulator(telegram_limit=1000, chat_burst=1000, clock=loop.time, cold=True)
    async with on_peer_store(sim, fdb, tmp_path):
        users = await seed(db, sim, range(100, 120))
        core = make_core(fdb, sim)
        bid = await create_running(core)
        # Not an outage (a permission, a bug): waiting would not help.
        plan.outage(errors=OperationFailure, collections=[PEERS_COLLECTION], operations=["find"])
        with caplog.at_level(logging.ERROR, logger="bot.delivery.run"):
            summary = await asyncio.wait_for(core.service.run(bid), 30)

    reason = "the audience could not be read: an unexpected error (details in the log)"
    assert (summary.status, summary.stop_reason) == ("failed", reason)
    assert (await db["broadcasts"].find_one({"_id": bid}))["stop_reason"] == reason
    assert "OperationFailure during find on telegram_peers" in caplog.text
    assert sum(receipts(sim, users).values()) == summary.sent == 0
    rows = [r async for r in db["deliveries"].find({"broadcast_id": bid})]
    assert {r["status"] for r in rows} == {"pending"}  # for a rerun once the store is fixed


async def test_a_send_that_must_read_its_peer_during_an_outage_is_retried_unsent(
    db: Database, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    plan, fdb = faulty(db)
    sim = TelegramSimulator(clock=loop.time, cold=True)
    async with on_peer_store(sim, fdb, tmp_path):
        users = await seed(db, sim, [101])
        prepared = await HydrogramSender(sim).prepare(TextContent("Hi"))
        # Not resolved in a batch (the feed gave up): the send reads its recipient's peer.
        plan.outage(collections=[PEERS_COLLECTION], operations=["find_one"])
        with pytest.raises(StorageUnavailableError):  # the pipeline waits it out
            await prepared.send(101, "bc_1")
        assert receipts(sim, users) == {101: 0}
        plan.heal()
        receipt = await prepared.send(101, "bc_1")

    assert receipt.message_ids
    assert receipts(sim, users) == {101: 1}
