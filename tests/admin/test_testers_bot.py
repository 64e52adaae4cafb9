"""Testers and ``--test``, the next runs of repeating schedules, and the help that names
them, end to end."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.admin.commands import ADMIN_HELP, USAGE
from bot.admin.commands.broadcast import FLAGS
from bot.admin.install import BroadcastBot
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from scheduler.timetext import format_local
from tests.botkit import (
    ADMIN,
    ShiftedClock,
    broadcast_id,
    confirmation,
    eventually,
    last,
    press,
    summarised,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

USERS = list(range(8001, 8007))
ANN, BOB, STRANGER = 8001, 8002, 8100
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
async def bot(db: Database, sim: TelegramSimulator, launch: Launch) -> BroadcastBot:
    await seed(db, sim, USERS)
    await db["users"].update_one(
        {"user_id": ANN}, {"$set": {"first_name": "Ann", "username": "ann"}}
    )
    return await launch()


async def test_testers_are_added_listed_and_removed(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(ADMIN, "/broadcast_testers")
    assert texts(sim)[-1].startswith("🧪 No testers yet")

    await sim.feed_message(ADMIN, f"/broadcast_testers add {ANN} {BOB} {STRANGER} {ANN}")
    reply = texts(sim)[-1]
    assert reply.startswith(f"✅ Added: {ANN}, {BOB}, {STRANGER}.")
    assert f"• {ANN} Ann @ann" in reply
    assert "🧪 Testers (3)" in reply
    stored = await db["broadcast_testers"].find({}).sort("_id").to_list(None)
    assert [(d["_id"], d["added_by"]) for d in stored] == [
        (ANN, ADMIN),
        (BOB, ADMIN),
        (STRANGER, ADMIN),
    ]

    await sim.feed_message(ADMIN, f"/broadcast_testers add {BOB}")
    assert f"ℹ️ {BOB}: already testers." in texts(sim)[-1]
    await sim.feed_message(ADMIN, f"/broadcast_testers remove {STRANGER} 8999")
    reply = texts(sim)[-1]
    assert reply.startswith(f"✅ Removed: {STRANGER}.\nℹ️ 8999: not testers.")
    assert "🧪 Testers (2)" in reply
    assert await db["broadcast_testers"].count_documents({}) == 2


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        ("/broadcast_testers add", "Give the user ids to add"),
        ("/broadcast_testers add ann", '"ann" is not a user id'),
        ("/broadcast_testers drop 1", "Expected add or remove"),
        ("/broadcast_testers add 0", "0 cannot be a user id"),
    ],
)
async def test_a_bad_testers_command_is_explained(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot, command: str, refusal: str
) -> None:
    await sim.feed_message(ADMIN, command)

    assert refusal in texts(sim)[-1]
    assert texts(sim)[-1].endswith(f"Usage: {USAGE['broadcast_testers']}")
    assert await db["broadcast_testers"].count_documents({}) == 0


async def test_a_test_goes_through_the_pipeline_to_the_testers_only(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(ADMIN, "/broadcast --test Hi {first_name|there}")
    assert texts(sim)[-1].startswith("🧪 --test sends to the testers, and there are none yet")
    assert await db["broadcasts"].count_documents({}) == 0

    await sim.feed_message(ADMIN, f"/broadcast_testers add {ANN} {BOB}")
    confirm = await confirmation(sim, "/broadcast --test --segment all Hi {first_name|there}")
    assert "🧪 Test: to 2 testers, not the audience" in (confirm.text or "")
    assert "👥 Recipients: 2" in (confirm.text or "")
    assert "🎯 Target: 2 testers" in (confirm.text or "")
    assert await press(sim, confirm, "Send now") == "🚀 Confirmed"
    bid = broadcast_id(confirm)
    doc = await wait_status(db, bid, "completed")
    await eventually(lambda: summarised(sim, db, bid))

    assert [m.text for m in sim.inbox(ANN)] == ["Hi Ann"]
    assert [m.text for m in sim.inbox(BOB)] == ["Hi there"]
    assert all(sim.inbox(user) == [] for user in USERS[2:])
    assert doc["test"] is True
    assert doc["target"]["user_ids"] == [ANN, BOB]
    assert await db["deliveries"].count_documents({"broadcast_id": bid}) == 2
    await sim.feed_message(ADMIN, f"/broadcast_history {bid}")
    assert "🧪 A test, to the testers only" in texts(sim)[-1]


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        ("/broadcast --test --at 18:00 Hi", "--test sends now, to the testers"),
        ("/broadcast_preview --test Hi", "choose one"),
        ("/broadcast --test --preview Hi", "choose one"),
    ],
)
async def test_a_test_is_not_scheduled_nor_previewed(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot, command: str, refusal: str
) -> None:
    await sim.feed_message(ADMIN, command)

    assert refusal in texts(sim)[-1]


async def test_test_mode_still_sends_every_broadcast_to_its_users(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch(test_mode=True, test_users=(USERS[0],))

    confirm = await confirmation(sim, "/broadcast Hello")
    assert "🎯 Target: test users (BROADCAST_TEST_MODE)" in (confirm.text or "")
    await press(sim, confirm, "Send now")
    await wait_status(db, broadcast_id(confirm), "completed")

    assert [len(sim.inbox(user)) for user in USERS] == [1, 0, 0, 0, 0, 0]


async def test_scheduled_lists_the_next_three_runs_in_the_admins_zone(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot, clock: ShiftedClock
) -> None:
    zone = ZoneInfo("Asia/Tashkent")  # UTC+5
    day0 = (datetime.now(UTC) + timedelta(days=1)).replace(hour=1, minute=0, second=0)
    day0 = day0.replace(microsecond=0)
    clock.set(day0)
    await sim.feed_message(ADMIN, "/broadcast_timezone Asia/Tashkent")
    local_day = day0.astimezone(zone)
    await sim.feed_message(ADMIN, "/broadcast --at 'tomorrow 9:00' --every 'day 09:00' Tick")
    assert await press(sim, last(sim), "Schedule") == "🗓 Scheduled"
    last_day = (local_day + timedelta(days=2)).date()
    await sim.feed_message(
        ADMIN, f"/broadcast --at 'tomorrow 9:00' --every 'day 09:00' --until {last_day} Short"
    )
    assert await press(sim, last(sim), "Schedule") == "🗓 Scheduled"

    await sim.feed_message(ADMIN, "/broadcast_scheduled")

    listing = texts(sim)[-1]
    first = (local_day + timedelta(days=1)).replace(hour=9, minute=0)
    runs = [format_local(first + timedelta(days=n), zone) for n in range(3)]
    tick, short = listing.split("\n\n")[1:3]
    assert "⏰ Next 3 run(s):" in tick
    assert [line.split(",")[0] for line in re.findall(r"• (.+)", tick)] == runs
    assert "⏰ Next 2 run(s):" in short
    assert [line.split(",")[0] for line in re.findall(r"• (.+)", short)] == runs[:2]


def test_help_usage_and_readme_name_the_new_commands_and_flags() -> None:
    readme = README.read_text()
    for command in USAGE:
        assert f"/{command}" in ADMIN_HELP
        assert f"`/{command}" in readme, f"/{command} is not in the README's command table"
    for name in FLAGS:
        assert f"--{name}" in ADMIN_HELP
        assert f"`--{name}" in readme, f"--{name} is not in the README"
    assert "{first_name|there}" in ADMIN_HELP
    assert USAGE["broadcast_testers"] == "/broadcast_testers [add ID... | remove ID...]"
    assert "[--react" in USAGE["broadcast"]
    assert "[--test]" in USAGE["broadcast"]
