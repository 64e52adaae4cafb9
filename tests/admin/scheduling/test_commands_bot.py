"""The scheduling commands end to end: the confirmation, a reply as the message, cancel and
reschedule, what is refused, the time in the admin's zone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.conftest import Start
from tests.admin.scheduling.kit import USERS, copies, due_time, jobs_of, schedule
from tests.botkit import (
    ADMIN,
    ShiftedClock,
    broadcast_id,
    last,
    press,
    send_now,
    texts,
    wait_status,
)


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
