"""Scheduled broadcasts firing: a one-off once at its time, a repeating one on each occurrence
until its end, and its runs in the history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.conftest import Start
from tests.admin.scheduling.kit import USERS, copies, jobs_of, schedule
from tests.botkit import (
    ADMIN,
    ShiftedClock,
    broadcast_id,
    eventually,
    last,
    press,
    summarised,
    texts,
    wait_status,
)


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
