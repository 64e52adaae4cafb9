"""What the admin is told while a broadcast runs is true: shares, time, waits."""

from __future__ import annotations

import asyncio

from bot.delivery.policy import ProgressSnapshot
from bot.delivery.report import progress_text
from bot.demo.simulator import TelegramSimulator
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from tests.support import ADMIN, create_running, make_core, seed

USERS = 5000


async def test_the_share_shown_never_runs_ahead_of_the_share_sent(
    db: Database, sim: TelegramSimulator
) -> None:
    await seed(db, sim, range(100, 100 + USERS))
    plan = FaultPlan(clock=asyncio.get_running_loop().time)
    plan.slow(0.02, collections=["users"], operations=["find"])  # a slow snapshot: ~1 s
    core = make_core(
        FaultyDatabase(db, plan),
        sim,
        rate=1000,
        concurrency=32,
        snapshot_batch=100,
        progress_min_interval_s=0.0,
    )
    snaps: list[ProgressSnapshot] = []

    async def progress(snap: ProgressSnapshot) -> None:
        snaps.append(snap)

    bid = await create_running(core)
    summary = await core.service.run(bid, progress)

    assert summary.total == USERS
    shown = [s for s in snaps if s.total_known]
    assert len(shown) > 10
    for snap in shown:  # the percentage shown, against the share of the whole audience
        assert snap.done / snap.total <= snap.done / USERS + 0.01, snap
    early = [s for s in shown if s.done < USERS / 2]
    assert early, "no report while the snapshot was still being written"
    assert all(s.total == USERS for s in early)  # counted when sending started
    assert all(s.eta_s is not None for s in early[1:])


async def test_flood_waits_and_pauses_are_shown_and_left_out_of_rate_and_time(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 400))
    sim.fail_next(users[10], error_message="FLOOD_WAIT_1", error_code=420)
    core = make_core(db, sim, rate=300, control_poll_s=0.05, progress_min_interval_s=0.0)
    snaps: list[ProgressSnapshot] = []

    async def progress(snap: ProgressSnapshot) -> None:
        snaps.append(snap)

    loop = asyncio.get_running_loop()
    started = loop.time()
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid, progress))
    await asyncio.sleep(1.2)  # into the FloodWait and out of it
    assert await core.service.pause(bid, by=ADMIN)
    assert (await asyncio.wait_for(run, 2)).status == "paused"
    await asyncio.sleep(0.5)  # paused: not sending time
    assert await core.service.resume(bid, by=ADMIN)
    summary = await asyncio.wait_for(core.service.run(bid, progress), 10)
    wall = loop.time() - started

    waiting = [s for s in snaps if s.flood_wait_s > 0]
    assert waiting, "the FloodWait was never shown"
    assert "Telegram asked to wait 1 s" in progress_text(waiting[0])
    assert summary.flood_wait_s >= 0.9
    # Sending time: the wall time without the FloodWait and the pause (and start-up).
    assert summary.duration_s <= wall - summary.flood_wait_s - 0.5 + 0.2
    assert summary.sent == len(users)
    doc = await core.store.get(bid)
    assert doc["flood_wait_seconds"] >= 0.9
    assert doc["duration_seconds"] == doc["active_seconds"]
    assert f"🆔 {bid}" in progress_text(snaps[-1])
