"""Who gets a broadcast, end to end: users talk to the bot, admins target segments of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.admin.install import BroadcastBot
from bot.delivery.filters import load_filter
from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.mongo import Database
from tests.botkit import (
    ADMIN,
    ShiftedClock,
    broadcast_id,
    confirmation,
    press,
    send_now,
    texts,
    wait_status,
)
from tests.conftest import Launch

# (user id, language, premium)
PEOPLE = [
    (5001, "de", False),
    (5002, "de", False),
    (5003, "de-at", False),
    (5004, "de", True),
    (5005, "en", False),
    (5006, "en", True),
    (5007, "pt-br", False),
]
GERMAN_NOT_PREMIUM = {5001, 5002, 5003}
QUIET = 5099  # known to Telegram, never wrote to the bot: not in the audience

Start = Callable[..., Awaitable[BroadcastBot]]


@pytest.fixture
def start(launch: Launch) -> Start:
    """A standalone bot: it records the users who write to it."""

    async def start_bot(**settings: Any) -> BroadcastBot:
        return await launch(record_users=True, **settings)

    return start_bot


async def people_talk(sim: TelegramSimulator, people: list[tuple[int, str, bool]]) -> None:
    for uid, language, premium in people:
        sim.add_user(uid, language_code=language, is_premium=premium)
        await sim.feed_message(uid, "/start")
    sim.add_user(QUIET, language_code="de")


def receivers(sim: TelegramSimulator, text: str) -> set[int]:
    everyone = [uid for uid, _, _ in PEOPLE] + [QUIET]
    return {uid for uid in everyone if text in texts(sim, uid)}


async def test_users_who_write_are_recorded_with_what_telegram_tells(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()
    sim.add_user(7001, first_name="Anna", username="anna", language_code="de", is_premium=True)

    await sim.feed_message(7001, "/start")
    await sim.feed_message(7001, "hello")

    doc = await db["users"].find_one({"user_id": 7001})
    assert doc is not None
    assert (doc["first_name"], doc["username"], doc["language_code"]) == ("Anna", "anna", "de")
    assert doc["is_premium"] is True
    assert doc["created_at"] is not None
    assert doc["last_seen"] >= doc["created_at"]
    assert await db["users"].count_documents({"user_id": 7001}) == 1
    indexes = await db["users"].index_information()
    assert any(i.get("unique") and "user_id" in str(i["key"]) for i in indexes.values())
    assert texts(sim, 7001)[0].startswith("👋 Welcome")


async def test_lang_de_excluding_premium_reaches_exactly_the_german_non_premium_users(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()
    await people_talk(sim, PEOPLE)

    confirm = await confirmation(sim, "/broadcast --segment lang:de --exclude premium Hallo!")
    assert "👥 Recipients: 3" in (confirm.text or "")
    assert "🎯 Target: lang:de, excluding premium" in (confirm.text or "")
    await press(sim, confirm, "Send now")
    doc = await wait_status(db, broadcast_id(confirm), "completed")

    assert receivers(sim, "Hallo!") == GERMAN_NOT_PREMIUM
    assert all(texts(sim, uid).count("Hallo!") == 1 for uid in GERMAN_NOT_PREMIUM)
    assert doc["requested_target"]["segments"] == ["lang:de"]
    assert doc["requested_target"]["excludes"] == ["premium"]
    compiled = load_filter(doc["target"]["compiled"])
    assert {"$nor": [{"is_premium": True}]} in compiled["$and"]
    await sim.feed_message(ADMIN, f"/broadcast_history {broadcast_id(confirm)}")
    record = texts(sim)[-1]
    assert "🎯 Target: lang:de, excluding premium" in record
    assert "🔎 Filter at" in record
    assert '"$nor": [{"is_premium": true}]' in record


async def test_blocked_user_who_writes_again_is_eligible_again(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()
    await people_talk(sim, PEOPLE[:2])
    sim.set_state(5001, UserState.BLOCKED)
    await send_now(sim, db, "/broadcast First")
    assert (await db["users"].find_one({"user_id": 5001}))["bot_blocked_at"] is not None
    second = await confirmation(sim, "/broadcast Second")
    assert "👥 Recipients: 2" in (second.text or "")  # the other user and the admin

    await sim.feed_message(5001, "I'm back")  # unblocking in Telegram and writing

    assert "bot_blocked_at" not in (await db["users"].find_one({"user_id": 5001}))
    third = await confirmation(sim, "/broadcast Third")
    assert "👥 Recipients: 3" in (third.text or "")


async def test_with_required_terms_only_users_who_accepted_receive(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start(require_terms=True, terms_text="Do you accept our announcements?")
    await people_talk(sim, PEOPLE[:3])
    terms = sim.inbox(5001)[-1]
    assert terms.text == "Do you accept our announcements?"

    await press(sim, terms, "Accept", user=5001)

    assert sim.inbox(5001)[-1].text is not None
    assert (await db["users"].find_one({"user_id": 5001}))["terms_accepted"] is True
    await send_now(sim, db, "/broadcast Terms apply")
    assert receivers(sim, "Terms apply") == {5001}


async def test_segments_command_lists_live_counts(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()
    await people_talk(sim, PEOPLE)
    await db["users"].update_one({"user_id": 5005}, {"$set": {"role": "banned"}})

    await sim.feed_message(ADMIN, "/broadcast_segments")

    listing = texts(sim)[-1]
    assert "• all (7):" in listing  # 7 people + the admin - the banned one
    assert "• premium (2):" in listing
    assert "• admins (1):" in listing
    assert "lang:de (3)" in listing
    assert "lang:en (2)" in listing  # 5006 and the admin; 5005 is banned


async def test_unknown_segment_suggests_the_closest_and_stores_nothing(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()

    await sim.feed_message(ADMIN, "/broadcast --segment premum Hi")

    reply = texts(sim)[-1]
    assert 'Unknown segment "premum"' in reply
    assert "premium" in reply
    assert await db["broadcasts"].count_documents({}) == 0


async def test_scheduled_active_1d_counts_activity_from_the_day_it_runs(
    sim: TelegramSimulator, db: Database, start: Start, clock: ShiftedClock
) -> None:
    bot = await start()
    await people_talk(sim, PEOPLE[:3])  # day 0: all three active
    await sim.feed_message(ADMIN, "/broadcast_schedule in 3 days | --segment active_1d Day three")
    schedule = sim.inbox(ADMIN)[-1]
    await press(sim, schedule, "Schedule")
    bid = broadcast_id(schedule)

    clock.advance(timedelta(days=2, hours=12))
    await sim.feed_message(5002, "still here")  # day 2.5
    clock.advance(timedelta(hours=11))
    await sim.feed_message(5003, "me too")  # day 3 - 1 h
    clock.advance(timedelta(hours=1, seconds=1))
    assert bot.scheduler is not None
    await bot.scheduler.sync()  # the sweep would, within 0.5 s
    doc = await wait_status(db, bid, "completed")

    assert receivers(sim, "Day three") == {5002, 5003}
    assert doc["total_users"] == 2
    cutoff = load_filter(doc["target"]["compiled"])["$and"][-1]["last_seen"]["$gte"]
    assert cutoff == doc["target"]["compiled_at"].replace(tzinfo=cutoff.tzinfo) - timedelta(days=1)


async def test_a_standalone_bot_points_out_a_mistyped_command(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start()

    await sim.feed_message(ADMIN, "/broadcast_schedul tomorrow 9am | Hi")

    assert "Did you mean /broadcast_schedule?" in texts(sim)[-1]
    assert await db["broadcasts"].count_documents({}) == 0
