"""Scheduled broadcasts end to end: commands, firing, restarts, downtime and two instances.

The bot's wall clock is a :class:`ShiftedClock` that tests move forward by hours
or days; the sweep (every 0.5 s) sees the new time. APScheduler's own jobs run
on real time, so they fire only in the test that schedules a second ahead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.admin.install import BroadcastBot
from bot.delivery.model import as_utc
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from scheduler.jobs import JobScheduler
from scheduler.runtime import SchedulerRuntime
from tests.botkit import (
    ADMIN,
    FAST,
    ShiftedClock,
    as_awaitable,
    broadcast_id,
    eventually,
    last,
    press,
    send_now,
    summarised,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

USERS = [6001, 6002, 6003]

Start = Callable[..., Awaitable[BroadcastBot]]


@pytest.fixture
async def start(db: Database, sim: TelegramSimulator, launch: Launch) -> Start:
    """Start bot instances (holder "a", "b"...) on the shared database, job store and clock."""
    await seed(db, sim, USERS)

    async def start_bot(holder: str = "a", **options: Any) -> BroadcastBot:
        return await launch(holder=holder, **options)

    return start_bot


async def schedule(sim: TelegramSimulator, command: str) -> str:
    """Send a scheduling command, press Schedule, return the broadcast id."""
    await sim.feed_message(ADMIN, command)
    confirm = last(sim)
    assert (confirm.text or "").startswith("🗓 Ready to schedule"), confirm.text
    assert await press(sim, confirm, "Schedule") == "🗓 Scheduled"
    return broadcast_id(confirm)


def copies(sim: TelegramSimulator, text: str) -> dict[int, int]:
    return {uid: texts(sim, uid).count(text) for uid in USERS}


async def due_time(db: Database, bid: str) -> datetime:
    doc = await db["broadcasts"].find_one({"_id": bid})
    due = as_utc(doc["scheduled_for"])
    assert due is not None
    return due


async def test_confirmation_repeats_the_time_in_the_admins_zone(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    await start()
    clock.set(datetime(2026, 11, 29, 12, 46, tzinfo=UTC), freeze=True)  # 17:46 in Tashkent
    await sim.feed_message(ADMIN, "/broadcast_timezone Asia/Tashkent")
    assert "Asia/Tashkent" in texts(sim)[-1]

    await sim.feed_message(ADMIN, "/broadcast_schedule tomorrow 9am | Good morning")

    confirm = last(sim)
    text = confirm.text or ""
    assert "⏰ When: Mon 30 Nov 2026 09:00 Asia/Tashkent, in 15 h 14 m" in text
    assert await db["broadcasts"].count_documents({"status": "draft"}) == 1
    assert await db["broadcasts"].count_documents({"status": "scheduled"}) == 0
    await sim.feed_message(ADMIN, "/broadcast_history")
    assert texts(sim)[-1] == "No broadcasts yet."  # a draft is not history yet
    await press(sim, confirm, "Schedule")
    await sim.feed_message(ADMIN, "/broadcast_history")
    assert "2026-11-29 17:46 Asia/Tashkent" in texts(sim)[-1]  # history in the admin's zone


async def test_a_one_off_fires_once_at_its_time(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    bot = await start(sweep_every_s=60)  # only APScheduler's job can fire it in time
    bid = await schedule(sim, "/broadcast --at 'in 1 hour' Once")
    await jobs_of(bot)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    await db["broadcasts"].update_one({"_id": bid}, {"$set": {"scheduled_for": soon}})
    assert bot.scheduler is not None
    await bot.scheduler.changed()  # the job moves to the new time

    doc = await wait_status(db, bid, "completed")
    await asyncio.sleep(1.2)  # a second firing would have happened by now

    assert copies(sim, "Once") == dict.fromkeys(USERS, 1)
    assert [e["action"] for e in doc["audit"]].count("due") == 1
    assert doc["progress_message"]["chat_id"] == ADMIN  # live progress, then the summary
    await eventually(lambda: summarised(sim, db, bid))


async def test_a_repeating_broadcast_runs_on_each_occurrence_until_its_end(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    await start()
    day0 = (datetime.now(UTC) + timedelta(days=1)).replace(hour=7, minute=0, second=0)
    clock.set(day0)
    last_day = (day0 + timedelta(days=3)).date()
    bid = await schedule(
        sim, f"/broadcast --at 'tomorrow 9:00' --every 'day 09:00' --until {last_day} Tick"
    )

    for day in (1, 2, 3):
        clock.set(day0 + timedelta(days=day, hours=2, seconds=1))
        await eventually(lambda: _runs_completed(db, bid, day))  # noqa: B023 (awaited here)
    clock.set(day0 + timedelta(days=4, hours=2, seconds=1))
    await asyncio.sleep(0.6)  # a sweep passes: the end has come, no fourth run

    runs = await db["broadcasts"].find({"schedule_id": bid}).to_list(None)
    assert [r["occurrence_at"].day for r in sorted(runs, key=lambda r: r["occurrence_at"])] == [
        (day0 + timedelta(days=n)).day for n in (1, 2, 3)
    ]
    assert {r["status"] for r in runs} == {"completed"}
    assert copies(sim, "Tick") == dict.fromkeys(USERS, 3)
    template = await db["broadcasts"].find_one({"_id": bid})
    assert template["status"] == "completed"
    assert template["audit"][-1]["action"] == "ended"


async def test_the_runs_of_a_repeating_copy_show_what_they_copy(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    await start()
    day0 = (datetime.now(UTC) + timedelta(days=1)).replace(hour=7, minute=0, second=0)
    clock.set(day0)
    photo = await sim.feed_message(ADMIN, "Weekly sale", media="photo")
    command = "/broadcast --at 'tomorrow 9:00' --every 'day 09:00'"
    await sim.feed_message(ADMIN, command, reply_to_message_id=photo)
    confirm = last(sim)
    assert await press(sim, confirm, "Schedule") == "🗓 Scheduled"
    bid = broadcast_id(confirm)

    clock.set(day0 + timedelta(days=1, hours=2, seconds=1))
    await eventually(lambda: _runs_completed(db, bid, 1))
    await sim.feed_message(ADMIN, "/broadcast_history")

    assert texts(sim)[-1].count("💬 photo: Weekly sale") == 2  # the schedule and its run


async def _runs_completed(db: Database, bid: str, expected: int) -> bool:
    runs = await db["broadcasts"].find({"schedule_id": bid}).to_list(None)
    return len(runs) == expected and all(r["status"] == "completed" for r in runs)


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


async def test_cancel_and_reschedule_change_the_pending_jobs(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    bot = await start()
    dropped = await schedule(sim, "/broadcast --at 'in 1 hour' Dropped")
    moved = await schedule(sim, "/broadcast --at 'in 1 hour' Moved")
    start_time = await due_time(db, moved)

    await sim.feed_message(ADMIN, f"/broadcast_cancel {dropped}")
    await sim.feed_message(ADMIN, f"/broadcast_reschedule {moved} in 3 hours")

    jobs = await (await jobs_of(bot)).jobs()
    assert dropped not in jobs
    assert jobs[moved] == await due_time(db, moved) > start_time + timedelta(hours=1)
    await sim.feed_message(ADMIN, "/broadcast_scheduled")
    assert moved in texts(sim)[-1]
    assert dropped not in texts(sim)[-1]
    clock.advance(timedelta(hours=1, minutes=1))
    await asyncio.sleep(0.7)  # a sweep passes: nothing is due
    assert (await db["broadcasts"].find_one({"_id": moved}))["status"] == "scheduled"
    clock.advance(timedelta(hours=2))
    await wait_status(db, moved, "completed")
    assert copies(sim, "Moved") == dict.fromkeys(USERS, 1)
    assert copies(sim, "Dropped") == dict.fromkeys(USERS, 0)


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


async def test_a_reply_with_only_the_time_schedules_that_message(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    await start()
    photo = await sim.feed_message(ADMIN, "Our new office", media="photo")

    await sim.feed_message(ADMIN, "/broadcast_schedule in 2 hours", reply_to_message_id=photo)
    confirm = last(sim)
    assert "📝 Message: Copy of a photo: Our new office" in (confirm.text or "")
    await press(sim, confirm, "Schedule")
    await sim.feed_message(ADMIN, "/broadcast_schedule in 3 hours\n--silent Two lines\nof text")
    second = last(sim)
    await press(sim, second, "Schedule")
    clock.advance(timedelta(hours=2, seconds=1))
    await wait_status(db, broadcast_id(confirm), "completed")
    clock.advance(timedelta(hours=1))
    await wait_status(db, broadcast_id(second), "completed")

    assert all(sim.inbox(uid)[0].media == "photo" for uid in USERS)
    assert copies(sim, "Our new office") == dict.fromkeys(USERS, 1)
    assert copies(sim, "Two lines\nof text") == dict.fromkeys(USERS, 1)


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


async def jobs_of(bot: BroadcastBot) -> JobScheduler:
    """The bot's job scheduler, once its first sweep has started it."""
    runtime = bot.scheduler
    assert runtime is not None
    await eventually(lambda: as_awaitable(runtime.jobs is not None))
    assert runtime.jobs is not None
    return runtime.jobs


async def _synced(runtime: SchedulerRuntime, gone: str, kept: str) -> bool:
    if runtime.jobs is None:
        return False
    jobs = await runtime.jobs.jobs()
    return gone not in jobs and kept in jobs


async def test_a_repeating_broadcast_cannot_be_moved_past_its_end(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()
    bid = await schedule(
        sim, "/broadcast --at 'in 1 hour' --every 'hour :15' --until 'in 5 hours' Hourly"
    )
    before = await due_time(db, bid)

    await sim.feed_message(ADMIN, f"/broadcast_reschedule {bid} in 2 days")

    assert "is after the end of this repeating broadcast" in texts(sim)[-1]
    assert await due_time(db, bid) == before


async def test_every_week_without_a_time_says_how_to_give_one(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()

    await sim.feed_message(ADMIN, "/broadcast --every week Hi")

    assert '--every "week" needs a time' in texts(sim)[-1]
    assert await db["broadcasts"].count_documents({}) == 0


async def test_the_summary_shows_the_time_in_the_admins_zone(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()
    await sim.feed_message(ADMIN, "/broadcast_timezone Asia/Tashkent")

    bid = await send_now(sim, db, "/broadcast Local time")

    doc = await db["broadcasts"].find_one({"_id": bid})
    summary = next(
        m for m in sim.inbox(ADMIN) if m.message_id == doc["progress_message"]["message_id"]
    )
    assert "Asia/Tashkent" in (summary.text or "")


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
