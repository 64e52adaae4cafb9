"""What a broadcast leaves behind when it gives up the sender: a reminder to the admin
who paused it, and a FloodWait the next one in line must sit out too."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.queue_kit import SLOW, USERS, confirmed, copies, sent_some, status_of
from tests.botkit import ADMIN, ShiftedClock, as_awaitable, button, eventually, press, wait_status
from tests.conftest import Launch
from tests.support import seed

REMINDER = "has been paused for"
TWO_REFRESHES_S = 0.5  # refresh_s=0.2: a reminder due (or wrongly due) is sent by then


def reminders(sim: TelegramSimulator) -> list[str]:
    return [m.text or "" for m in sim.inbox(ADMIN) if REMINDER in (m.text or "")]


async def test_the_admin_who_paused_is_reminded_once_after_a_day(
    sim: TelegramSimulator, db: Database, launch: Launch, clock: ShiftedClock
) -> None:
    await seed(db, sim, USERS)
    await launch(rate=SLOW, refresh_s=0.2)  # PAUSE_REMINDER: the default, 24 h
    bid = await confirmed(sim, "/broadcast Held a day")
    await eventually(lambda: sent_some(sim, "Held a day"))
    assert await press(sim, await status_of(sim, db, bid), "Pause") == "⏸ Paused"
    await wait_status(db, bid, "paused")
    held = sum(copies(sim, "Held a day").values())

    clock.advance(timedelta(hours=23))
    await asyncio.sleep(TWO_REFRESHES_S)
    assert reminders(sim) == []  # not before the day is over
    clock.advance(timedelta(hours=1, seconds=1))
    await eventually(lambda: as_awaitable(len(reminders(sim)) == 1))

    (text,) = reminders(sim)
    assert f"⏸ Broadcast {bid} has been paused for 24 h" in text
    assert f"Sent so far: {held}" in text
    reminder = next(m for m in sim.inbox(ADMIN) if REMINDER in (m.text or ""))
    assert [label for row in reminder.buttons for label, _ in row] == ["▶️ Resume", "🛑 Cancel"]

    async def recorded() -> bool:  # after the send: it records the message Telegram returned
        doc = await db["broadcasts"].find_one({"_id": bid})
        where = {"chat_id": ADMIN, "message_id": reminder.message_id}
        return doc["pause_reminded_at"] is not None and doc.get("reminder_message") == where

    await eventually(recorded)

    clock.advance(timedelta(days=2))
    await asyncio.sleep(TWO_REFRESHES_S)
    assert len(reminders(sim)) == 1  # once per pause, however long it lasts
    await sim.feed_callback(ADMIN, reminder.message_id, button(reminder, "Resume"))
    assert sim.callback_answers[-1].text == "▶️ Resumed"
    await wait_status(db, bid, "completed")
    assert copies(sim, "Held a day") == dict.fromkeys(USERS, 1)


async def test_the_next_broadcast_sits_out_the_floodwait_the_paused_one_met(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    bot = await launch(rate=SLOW)
    limiter = bot.core.throttle.limiter
    loop = asyncio.get_running_loop()
    sim.fail_next(USERS[8], error_message="FLOOD_WAIT_2", error_code=420)
    first = await confirmed(sim, "/broadcast Flooded")
    second = await confirmed(sim, "/broadcast After it")
    await eventually(lambda: as_awaitable(limiter.paused_until() > loop.time()))
    flood_ends = limiter.paused_until()

    assert await press(sim, await status_of(sim, db, first), "Pause") == "⏸ Paused"
    await wait_status(db, second, "running")  # it has the sender, during the FloodWait
    while True:  # the FloodWait is real time: watch it pass (however slowly the test runs)
        sent = sum(copies(sim, "After it").values())
        if loop.time() >= flood_ends:  # read after the copies: a copy seen came before
            break
        assert sent == 0, "the next broadcast sent during the FloodWait"
        await asyncio.sleep(0.01)

    await wait_status(db, second, "completed")
    assert copies(sim, "After it") == dict.fromkeys(USERS, 1)
    assert (await db["broadcasts"].find_one({"_id": first}))["flood_waits"] == 1
