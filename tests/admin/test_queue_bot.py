"""The queue as admins live it: a pause holds nothing back, waiting broadcasts say what
they wait for, a forgotten pause is recalled, and two instances agree without racing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hydrogram.raw.core import TLObject

from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.queue_kit import (
    SLOW,
    USERS,
    confirmed,
    copies,
    press_on,
    sent_some,
    status_of,
)
from tests.botkit import (
    ADMIN,
    ShiftedClock,
    broadcast_id,
    button,
    confirmation,
    eventually,
    last,
    press,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed


async def test_a_paused_broadcast_lets_the_next_one_run(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch(rate=SLOW)
    first = await confirmed(sim, "/broadcast One")
    await eventually(lambda: sent_some(sim, "One"))
    assert await press(sim, await status_of(sim, db, first), "Pause") == "⏸ Paused"
    await wait_status(db, first, "paused")

    offered = await confirmation(sim, "/broadcast Two")
    assert f"⏸ {first} is paused since" in (offered.text or "")  # and B will not wait
    assert await press(sim, offered, "Send now") == "🚀 Confirmed"
    second = broadcast_id(offered)
    await wait_status(db, second, "completed")  # B does not wait for the paused A
    await sim.feed_message(ADMIN, "/broadcast_history")
    listing = texts(sim)[-1]
    assert listing.index(first) < listing.index(second)  # the paused one comes first
    assert (await db["broadcasts"].find_one({"_id": first}))["status"] == "paused"
    held = sum(copies(sim, "One").values())
    assert 0 < held < len(USERS)

    assert await press(sim, await status_of(sim, db, first), "Resume") == "▶️ Resumed"
    await wait_status(db, first, "completed")
    assert copies(sim, "One") == copies(sim, "Two") == dict.fromkeys(USERS, 1)


async def test_a_schedule_due_while_one_is_paused_starts_on_time(
    sim: TelegramSimulator, db: Database, launch: Launch, clock: ShiftedClock
) -> None:
    await seed(db, sim, USERS)
    await launch(rate=SLOW)
    paused = await confirmed(sim, "/broadcast Paused one")
    await eventually(lambda: sent_some(sim, "Paused one"))
    await press(sim, await status_of(sim, db, paused), "Pause")
    await sim.feed_message(ADMIN, "/broadcast --at 'in 1 hour' Scheduled one")
    assert await press(sim, last(sim), "Schedule") == "🗓 Scheduled"
    scheduled = broadcast_id(last(sim))

    clock.advance(timedelta(hours=1, seconds=1))
    await wait_status(db, scheduled, "running", "completed")  # within the sweep, not after A
    await wait_status(db, scheduled, "completed")
    assert (await db["broadcasts"].find_one({"_id": paused}))["status"] == "paused"


async def test_resumed_continues_right_after_the_one_sending_with_its_flood_state(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    bot = await launch(rate=SLOW)
    first = await confirmed(sim, "/broadcast First")
    await eventually(lambda: sent_some(sim, "First"))
    await press(sim, await status_of(sim, db, first), "Pause")
    await wait_status(db, first, "paused")
    sim.fail_next(USERS[-1], error_message="FLOOD_WAIT_1", error_code=420)
    second = await confirmed(sim, "/broadcast Second")
    await eventually(lambda: sent_some(sim, "Second"))

    assert await press(sim, await status_of(sim, db, first), "Resume") == "▶️ Resumed"
    waiting = await status_of(sim, db, first)
    assert f"continues as soon as {second}" in (waiting.text or "")
    await wait_status(db, first, "completed")

    assert copies(sim, "First") == copies(sim, "Second") == dict.fromkeys(USERS, 1)
    got = [m for uid in USERS for m in sim.inbox(uid)]
    last_second = max(m.message_id for m in got if m.text == "Second")
    resumed = [m.message_id for m in got if m.text == "First" and m.message_id > last_second]
    assert resumed, "the resumed broadcast went on only after the one sending"
    assert (await db["broadcasts"].find_one({"_id": second}))["flood_waits"] == 1
    limiter = bot.core.throttle.limiter  # one limiter for the bot, not one per broadcast:
    assert limiter.rate < limiter.target  # the FloodWait of one still slows the other


async def test_a_restart_resumes_the_queued_one_not_the_paused_one(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    bot = await launch(rate=SLOW)
    paused = await confirmed(sim, "/broadcast Held")
    await eventually(lambda: sent_some(sim, "Held"))
    await press(sim, await status_of(sim, db, paused), "Pause")
    await wait_status(db, paused, "paused")
    await bot.stop_sending()  # nothing runs: the next one stays queued
    queued = await confirmed(sim, "/broadcast Waiting")
    held = sum(copies(sim, "Held").values())
    await bot.stop()

    await launch(rate=1000)
    await wait_status(db, queued, "completed")
    await asyncio.sleep(0.2)
    assert (await db["broadcasts"].find_one({"_id": paused}))["status"] == "paused"
    assert sum(copies(sim, "Held").values()) == held
    assert copies(sim, "Waiting") == dict.fromkeys(USERS, 1)


async def test_waiting_and_forgotten_broadcasts_say_so_with_their_buttons(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch(rate=SLOW / 2, refresh_s=0.2, pause_reminder_s=1)
    first = await confirmed(sim, "/broadcast Long one")
    second = await confirmed(sim, "/broadcast Next one")
    third = await confirmed(sim, "/broadcast Last one")

    async def told_its_place() -> bool:
        text = (await status_of(sim, db, third)).text or ""
        return "Queued: 2 ahead" in text and f"Now: {first}, sending" in text

    await eventually(told_its_place)
    waiting = await status_of(sim, db, third)
    assert second in (waiting.text or "")
    assert [label for row in waiting.buttons for label, _ in row] == ["🛑 Cancel"]

    assert await press(sim, await status_of(sim, db, first), "Pause") == "⏸ Paused"

    async def reminded() -> bool:
        return any("has been paused for" in t for t in texts(sim))

    await eventually(reminded, within_s=5)
    reminder = next(m for m in sim.inbox(ADMIN) if "has been paused for" in (m.text or ""))
    labels = [label for row in reminder.buttons for label, _ in row]
    assert labels == ["▶️ Resume", "🛑 Cancel"]
    await sim.feed_callback(ADMIN, reminder.message_id, button(reminder, "Resume"))
    assert sim.callback_answers[-1].text == "▶️ Resumed"
    await wait_status(db, first, "completed")
    await asyncio.sleep(1.2)  # another reminder period: reminded once only
    assert sum("has been paused for" in t for t in texts(sim)) == 1


class SlowReplies(TelegramSimulator):
    """The standby's connection: its requests take half a second."""

    async def answer(self, query: TLObject) -> Any:
        await asyncio.sleep(0.5)
        return await super().answer(query)


async def test_send_now_on_the_standby_never_errs_and_shows_progress(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch(holder="a", rate=SLOW)
    standby_client: TelegramSimulator = sim.another_connection("standby", SlowReplies)
    await standby_client.start()
    try:
        standby = await launch(holder="b", rate=SLOW, client=standby_client)
        assert standby.scheduler is not None
        assert not standby.scheduler.is_leader
        bid = await confirmed(standby_client, "/broadcast From the standby")

        async def showing_progress() -> bool:
            return "IN PROGRESS" in ((await status_of(sim, db, bid)).text or "")

        await eventually(showing_progress)
        await wait_status(db, bid, "completed")
        await eventually(lambda: _completed(sim, db, bid))
        await standby.stop()
    finally:
        await standby_client.stop()

    assert not any("went wrong" in t for t in texts(sim))
    assert copies(sim, "From the standby") == dict.fromkeys(USERS, 1)


async def _completed(sim: TelegramSimulator, db: Database, bid: str) -> bool:
    return "BROADCAST COMPLETED" in ((await status_of(sim, db, bid)).text or "")


async def test_a_broadcast_scheduled_through_the_standby_starts_on_time(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch(holder="a", sweep_every_s=30)
    standby_client: TelegramSimulator = sim.another_connection("standby")
    await standby_client.start()
    try:
        standby = await launch(holder="b", sweep_every_s=30, client=standby_client)
        await standby_client.feed_message(ADMIN, "/broadcast --at 'in 3 seconds' Soon")
        confirm = last(sim)
        assert await press_on(standby_client, confirm, "Schedule") == "🗓 Scheduled"
        bid = broadcast_id(confirm)
        doc = await db["broadcasts"].find_one({"_id": bid})
        due = doc["scheduled_for"]

        await wait_status(db, bid, "running", "completed")  # the 30 s sweep never came
        started = (await db["broadcasts"].find_one({"_id": bid}))["started_at"]
        assert (started - due).total_seconds() < 5
        await standby.stop()
    finally:
        await standby_client.stop()
