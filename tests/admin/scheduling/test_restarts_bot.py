"""Scheduled broadcasts across restarts (in time, late, too late), two instances and their
leader, jobs rebuilt at start, and a job store that is down."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.admin.install import BroadcastBot
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from scheduler.runtime import SchedulerRuntime
from tests.admin.conftest import Start
from tests.admin.scheduling.kit import USERS, copies, due_time, jobs_of, schedule
from tests.botkit import (
    ADMIN,
    FAST,
    ShiftedClock,
    broadcast_id,
    eventually,
    last,
    press,
    send_now,
    texts,
    wait_status,
)
from tests.support import seed


async def test_a_restart_before_the_time_keeps_the_schedule(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    first = await start("a")
    bid = await schedule(sim, "/broadcast --at 'in 1 hour' Kept")
    await first.stop()

    second = await start("b")
    assert second.scheduler is not None
    await eventually(lambda: _has_job(second, bid))
    clock.advance(timedelta(hours=1, seconds=1))

    await wait_status(db, bid, "completed")
    assert copies(sim, "Kept") == dict.fromkeys(USERS, 1)


async def _has_job(bot: BroadcastBot, bid: str) -> bool:
    jobs = bot.scheduler.jobs if bot.scheduler else None
    return jobs is not None and bid in await jobs.jobs()


async def test_a_restart_30_minutes_late_runs_it_at_once(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    first = await start("a")
    bid = await schedule(sim, "/broadcast --at 'in 1 hour' Late")
    await first.stop()
    clock.advance(timedelta(hours=1, minutes=30))

    await start("b")

    await wait_status(db, bid, "completed")
    assert copies(sim, "Late") == dict.fromkeys(USERS, 1)


async def test_a_restart_2_hours_late_marks_it_missed_and_tells_the_admin(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    first = await start("a")
    bid = await schedule(sim, "/broadcast --at 'in 1 hour' Too late")
    await first.stop()
    clock.advance(timedelta(hours=3))

    await start("b")

    await wait_status(db, bid, "missed")
    await eventually(lambda: _said(sim, f"⌛ Scheduled broadcast {bid} was missed"))
    assert copies(sim, "Too late") == dict.fromkeys(USERS, 0)
    await sim.feed_message(ADMIN, f"/broadcast_reschedule {bid} in 10 minutes")
    assert f"🗓 {bid} moved to" in texts(sim)[-1]
    assert (await db["broadcasts"].find_one({"_id": bid}))["status"] == "scheduled"


async def _said(sim: TelegramSimulator, fragment: str) -> bool:
    return any(fragment in text for text in texts(sim))


async def test_two_instances_send_once_and_the_standby_takes_over(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    leader = await start("a")
    standby = await start("b")
    assert leader.scheduler is not None
    assert standby.scheduler is not None
    assert leader.scheduler.is_leader
    assert not standby.scheduler.is_leader
    first = await schedule(sim, "/broadcast --at 'in 1 hour' First")
    clock.advance(timedelta(hours=1, seconds=1))
    await wait_status(db, first, "completed")

    await leader.scheduler.abandon()  # a crash: the lease is not released
    await eventually(lambda: _leads(standby))
    second = await schedule(sim, "/broadcast --at 'in 1 hour' Second")
    clock.advance(timedelta(hours=1, seconds=1))
    await wait_status(db, second, "completed")

    assert copies(sim, "First") == dict.fromkeys(USERS, 1)
    assert copies(sim, "Second") == dict.fromkeys(USERS, 1)
    lease = await db["broadcast_leases"].find_one({"_id": "scheduler"})
    assert lease["holder"] == "b"


async def _leads(bot: BroadcastBot) -> bool:
    return bot.scheduler is not None and bot.scheduler.is_leader


async def test_only_the_leader_sends_and_the_next_leader_resumes_its_broadcast(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    crowd = await seed(db, sim, range(6100, 6160))
    leader = await start("a", rate=30)
    standby = await start("b", rate=30)
    await sim.feed_message(ADMIN, "/broadcast Handed over")
    await press(sim, last(sim), "Send now")
    bid = broadcast_id(last(sim, ADMIN))
    await eventually(lambda: _sent_some(sim, crowd, "Handed over"))
    assert standby.queue.current is None  # the standby never sends

    assert leader.scheduler is not None
    await leader.scheduler.abandon()  # the leader dies mid-broadcast

    doc = await wait_status(db, bid, "completed")
    assert standby.queue.current is None
    got = [texts(sim, uid).count("Handed over") for uid in [*USERS, *crowd]]
    assert max(got) == 1  # nobody twice
    unknown = doc.get("unknown_count", 0)  # in flight when the leader died: never re-sent
    assert doc["sent_count"] + doc["failed_count"] + unknown == len(got)
    assert unknown <= FAST.concurrency


async def _sent_some(sim: TelegramSimulator, users: list[int], text: str) -> bool:
    return sum(text in texts(sim, uid) for uid in users) >= 10


async def test_at_start_jobs_follow_the_broadcasts_collection(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    first = await start("a")
    kept = await schedule(sim, "/broadcast --at 'in 2 hours' Kept")
    old_jobs = await jobs_of(first)
    await eventually(lambda: _has_job(first, kept))
    orphan = "bc_20261129_000000_dead"  # a job whose broadcast is gone
    await old_jobs.put_once(orphan, clock() + timedelta(hours=1))
    await old_jobs.remove(kept)  # a broadcast whose job is gone
    await first.stop()

    second = await start("b")

    runtime = second.scheduler
    assert runtime is not None
    await eventually(lambda: _synced(runtime, orphan, kept))  # the first sweep, at once
    assert runtime.jobs is not None
    assert (await runtime.jobs.jobs())[kept] == await due_time(db, kept)


async def _synced(runtime: SchedulerRuntime, gone: str, kept: str) -> bool:
    if runtime.jobs is None:
        return False
    jobs = await runtime.jobs.jobs()
    return gone not in jobs and kept in jobs


async def test_without_a_job_store_the_sweep_still_sends_what_is_due(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    def unreachable() -> Any:
        raise ConnectionError("the job store's MongoDB is down")

    bot = await start(jobs=unreachable)
    now_bid = await send_now(sim, db, "/broadcast Right away")
    later = await schedule(sim, "/broadcast --at 'in 1 hour' Later")
    clock.advance(timedelta(hours=1, seconds=1))

    await wait_status(db, later, "completed")
    assert bot.scheduler is not None
    assert bot.scheduler.is_leader
    assert bot.scheduler.jobs is None
    assert copies(sim, "Right away") == copies(sim, "Later") == dict.fromkeys(USERS, 1)
    assert now_bid != later
