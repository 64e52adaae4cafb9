"""The pipeline's promises under the faults production brings, one test per fault.

Each injects the fault it is about (a lost answer, a database outage, a killed
cursor, a long FloodWait...) through the simulator or the database fault
injector, and checks what the users got and what MongoDB holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from bson.int64 import Int64
from hydrogram import raw
from hydrogram.raw.core import TLObject
from pymongo.errors import CursorNotFound

from bot.delivery.content import CopyContent
from bot.delivery.outage import OutagePolicy, OutageTooLongError
from bot.delivery.policy import ProgressSnapshot, RetryPolicy
from bot.demo.simulator import TelegramSimulator, UserState
from bot.demo.simulator.client import raise_rpc
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from tests.support import (
    ADMIN,
    ProgressLog,
    broadcast,
    create_running,
    make_core,
    receipts,
    seed,
)

MakeSim = Callable[..., Awaitable[TelegramSimulator]]


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    """Simulators with faults; each started, and stopped at the end."""
    made: list[TelegramSimulator] = []

    async def make(cls: type[TelegramSimulator] = TelegramSimulator, **options: Any) -> Any:
        options = {"telegram_limit": 1000, "chat_burst": 1000, **options}
        sim = cls(clock=asyncio.get_running_loop().time, **options)
        await sim.start()
        sim.add_user(ADMIN, first_name="Admin")
        made.append(sim)
        return sim

    yield make
    for sim in made:
        await sim.stop()


def faulty(db: Database, **options: Any) -> tuple[FaultyDatabase, FaultPlan]:
    plan = FaultPlan(clock=asyncio.get_running_loop().time, **options)
    return FaultyDatabase(db, plan), plan


async def test_a_lost_answer_never_makes_a_second_copy(db: Database, make_sim: MakeSim) -> None:
    sim = await make_sim(lost_answer_rate=0.3, seed=3)
    users = await seed(db, sim, range(100, 400))
    core = make_core(db, sim, retry=RetryPolicy(base_delay_s=0.02))

    bid, summary = await broadcast(core)

    assert set(receipts(sim, users).values()) == {1}, "a lost answer led to a second copy"
    assert (summary.sent, summary.failed, summary.unknown) == (300, 0, 0)
    assert sim.lost_answers > 50
    assert sim.duplicates_refused == sim.lost_answers  # each retry was refused, not delivered
    doubled = await db["deliveries"].count_documents({"broadcast_id": bid, "duplicate": True})
    assert doubled == sim.lost_answers


async def test_a_send_accepted_without_a_message_id_is_sent_not_failed(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 110))
    for uid in users[:3]:  # Telegram delivers, then answers updatesTooLong
        sim.answer_too_long(uid)

    bid, summary = await broadcast(make_core(db, sim))

    assert (summary.sent, summary.failed, summary.unknown) == (10, 0, 0)
    assert set(receipts(sim, users).values()) == {1}
    rows = {r["user_id"]: r async for r in db["deliveries"].find({"broadcast_id": bid})}
    assert {rows[uid]["status"] for uid in users} == {"sent"}
    assert all(rows[uid]["message_id"] is None for uid in users[:3])
    assert all(rows[uid]["message_id"] for uid in users[3:])


async def test_a_failed_status_read_does_not_end_pause_and_cancel(
    db: Database, sim: TelegramSimulator
) -> None:
    await seed(db, sim, range(100, 400))
    fdb, plan = faulty(db)
    core = make_core(fdb, sim, rate=100, control_poll_s=0.05)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(0.2)
    plan.outage(count=2, collections=["broadcasts"], operations=["find_one"])
    await asyncio.sleep(0.3)  # the watcher's reads fail, then (after 0.25 + 0.5 s) succeed again

    assert await core.service.cancel(bid, by=ADMIN)
    summary = await asyncio.wait_for(run, 3)

    assert plan.record.faults == 2
    assert summary.status == "cancelled"
    assert (await core.store.get(bid))["status"] == "cancelled"
    assert sim.sent_total == summary.sent < 300


async def test_idle_and_killed_cursors_never_fail_a_broadcast(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 1300))
    fdb, plan = faulty(db, cursor_idle_timeout=0.05)
    # Pages of 300 need a getMore after the first batch of 101: a failover kills five.
    plan.outage(errors=CursorNotFound, operations=["getMore"], count=5)
    core = make_core(fdb, sim, rate=500, snapshot_batch=300, control_poll_s=0.05)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(0.4)
    assert await core.service.pause(bid, by=ADMIN)
    assert (await asyncio.wait_for(run, 2)).status == "paused"
    await asyncio.sleep(0.3)  # longer than a cursor may stay idle
    assert await core.service.resume(bid, by=ADMIN)
    summary = await asyncio.wait_for(core.service.run(bid), 30)

    assert (summary.status, summary.sent, summary.unknown) == ("completed", len(users), 0)
    assert set(receipts(sim, users).values()) == {1}
    assert plan.record.by_kind["CursorNotFound"] >= 5  # (and any idle kill on a busy machine)


class FlakySource(TelegramSimulator):
    """Answers the first ``failures`` reads of a message with 500 RPC_CALL_FAIL."""

    failures = 2

    async def answer(self, query: TLObject) -> Any:
        if isinstance(query, raw.functions.messages.GetMessages) and self.failures:
            self.failures -= 1
            raise_rpc(500, "RPC_CALL_FAIL", query)
        return await super().answer(query)


async def test_a_transient_error_reading_the_source_is_retried(
    db: Database, make_sim: MakeSim
) -> None:
    sim = await make_sim(FlakySource)
    assert isinstance(sim, FlakySource)
    users = await seed(db, sim, range(100, 110))
    source = await sim.seed_message(ADMIN, media="photo", caption="Sale")
    sim.failures = 2
    core = make_core(db, sim)

    _, summary = await broadcast(core, CopyContent(ADMIN, (source,)))

    assert (summary.status, summary.sent) == ("completed", len(users))
    assert sim.failures == 0


async def test_a_database_blip_is_waited_out_and_shown(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 500))
    fdb, plan = faulty(db)
    log = ProgressLog()
    core = make_core(fdb, sim, rate=300, progress_every=1, progress_min_interval_s=0.0)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid, log))
    await asyncio.sleep(0.3)
    plan.outage()  # every collection, every operation
    await asyncio.sleep(1.0)
    sent_during = sim.sent_total
    await asyncio.sleep(0.3)
    assert sim.sent_total == sent_during, "sent while the database was down"
    plan.heal()
    summary = await asyncio.wait_for(run, 10)

    assert (summary.status, summary.sent, summary.unknown) == ("completed", len(users), 0)
    assert set(receipts(sim, users).values()) == {1}
    assert plan.record.faults > 0
    assert any(s.db_down_since is not None for s in log.snaps)
    assert log.snaps[-1].db_down_since is None
    assert await db["deliveries"].count_documents({"broadcast_id": bid, "status": "sending"}) == 0


async def test_an_outage_past_the_limit_stops_the_run_resumably(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 400))
    fdb, plan = faulty(db)
    limit = OutagePolicy(limit_s=0.3, first_delay_s=0.05, max_delay_s=0.1)
    core = make_core(fdb, sim, rate=200, outage=limit, stop_grace_s=0.2)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(0.3)
    plan.outage()

    with pytest.raises(OutageTooLongError):
        await asyncio.wait_for(run, 5)
    assert (await db["broadcasts"].find_one({"_id": bid}))["status"] == "running"  # for the next
    plan.heal()
    summary = await asyncio.wait_for(core.service.run(bid), 10)

    assert (summary.status, summary.sent) == ("completed", len(users))
    assert set(receipts(sim, users).values()) == {1}


async def test_cancel_acts_during_a_long_flood_wait(db: Database, sim: TelegramSimulator) -> None:
    users = await seed(db, sim, range(100, 200))
    sim.fail_next(100, error_message="FLOOD_WAIT_120", error_code=420)
    core = make_core(db, sim, rate=50, control_poll_s=0.05)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(0.3)
    assert core.throttle.limiter.paused_until() > asyncio.get_running_loop().time() + 60

    assert await core.service.cancel(bid, by=ADMIN)
    summary = await asyncio.wait_for(run, 5)  # not the 120 s Telegram asked for

    assert summary.status == "cancelled"
    assert sum(receipts(sim, users).values()) == summary.sent


async def test_user_ids_stored_as_text_or_floats_are_sent_the_rest_skipped_with_a_reason(
    db: Database, sim: TelegramSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim.add_users([101, 102, 103, 104])
    sim.add_user(105, UserState.BLOCKED)
    await db["users"].insert_many(
        [
            {"user_id": 101},
            {"user_id": "102"},
            {"user_id": "105"},
            {"user_id": 103.0},
            {"user_id": Int64(104)},
            {"user_id": "alice"},
            {"user_id": 1.5},
            {"name": "no id at all"},
            {"user_id": True},
        ]
    )
    core = make_core(db, sim)
    caplog.set_level(logging.INFO, logger="bot.delivery.run")

    bid, summary = await broadcast(core)

    assert receipts(sim, [101, 102, 103, 104]) == dict.fromkeys([101, 102, 103, 104], 1)
    assert (summary.total, summary.sent, summary.failed, summary.skipped) == (9, 4, 1, 4)
    assert summary.sent + summary.failed + summary.skipped == summary.total
    assert summary.skipped_reasons == {
        "text that is not a user id": 1,
        "a fraction, not a user id": 1,
        "no user id": 1,
        "a boolean, not a user id": 1,
    }
    doc = await core.store.get(bid)
    assert doc["skipped"]["count"] == doc["skipped_count"] == 4
    assert "'alice'" in doc["skipped"]["examples"]
    [finished] = [r for r in caplog.records if getattr(r, "event", None) == "run.finished"]
    assert getattr(finished, "skipped_reasons", None) == summary.skipped_reasons  # in the log
    # The blocked mark finds the user however the id is stored.
    assert (await db["users"].find_one({"user_id": "105"}))["bot_blocked_at"] is not None


async def test_progress_shows_the_outage_since_when(db: Database, sim: TelegramSimulator) -> None:
    await seed(db, sim, range(100, 300))
    fdb, plan = faulty(db)
    snaps: list[ProgressSnapshot] = []

    async def progress(snap: ProgressSnapshot) -> None:
        snaps.append(snap)

    core = make_core(fdb, sim, rate=200, progress_every=1, progress_min_interval_s=0.0)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid, progress))
    await asyncio.sleep(0.2)
    plan.outage(collections=["deliveries"])
    await asyncio.sleep(0.5)
    plan.heal()
    await asyncio.wait_for(run, 10)

    down = [s.db_down_since for s in snaps if s.db_down_since is not None]
    assert down, "the admin was never shown the outage"
    assert len(set(down)) == 1  # one outage, one start time


async def test_writes_whose_answer_is_lost_strand_nobody(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 300))
    fdb, plan = faulty(db)
    # The claim, an insert of the snapshot and a settlement reach MongoDB; their answers do not.
    for operation in ("update_many", "insert_many", "bulk_write"):
        plan.outage(count=1, after=True, collections=["deliveries"], operations=[operation])
    core = make_core(fdb, sim, rate=500)

    bid, summary = await broadcast(core)

    assert plan.record.faults == 3
    assert (summary.status, summary.sent, summary.total, summary.unknown) == (
        "completed",
        len(users),
        len(users),
        0,
    )
    assert set(receipts(sim, users).values()) == {1}
    assert await db["deliveries"].count_documents({"broadcast_id": bid, "status": "sent"}) == 200


async def test_a_stop_during_a_claim_gives_its_rows_back(
    db: Database, sim: TelegramSimulator
) -> None:
    await seed(db, sim, range(100, 300))
    fdb, plan = faulty(db)
    core = make_core(fdb, sim, rate=300)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(0.3)
    # The next claim is written but its answer is lost: the run waits to ask again...
    plan.outage(count=1, after=True, collections=["deliveries"], operations=["update_many"])
    await asyncio.sleep(0.1)
    run.cancel()  # ...when a deploy stops it
    with pytest.raises(asyncio.CancelledError):
        await run

    assert plan.record.by_operation["update_many"] == 1
    assert await db["deliveries"].count_documents({"broadcast_id": bid, "status": "sending"}) == 0
