"""The admin bot end to end: who may use it, forged and expired input, commands and their
mistakes, standalone start-up, a host bot's updates, the cost of a paid broadcast."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.admin.commands import ADMIN_HELP, UsageError, parse_command
from bot.admin.install import BroadcastBot
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.conftest import OUTSIDER, USERS, Start
from tests.botkit import (
    ADMIN,
    broadcast_id,
    button,
    confirmation,
    press,
    running,
    status_message,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

# access and forged input --------------------------------------------------------------------


async def test_non_admin_gets_admins_only_and_nothing_happens(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    confirm = await confirmation(sim, "/broadcast Hi")

    await sim.feed_message(OUTSIDER, "/broadcast Hello from me")
    await sim.feed_message(OUTSIDER, "/broadcast_history")
    await sim.feed_message(OUTSIDER, "just chatting")
    answer = await press(sim, confirm, "Send now", user=OUTSIDER)

    assert texts(sim, OUTSIDER) == ["⛔ Admins only."] * 2
    assert answer == "⛔ Admins only."
    assert await db["broadcasts"].count_documents({}) == 1
    assert (await db["broadcasts"].find_one({}))["status"] == "draft"


async def test_users_with_the_admin_role_are_admins(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await db["users"].insert_one({"user_id": OUTSIDER, "role": "admin"})

    await sim.feed_message(OUTSIDER, "/help")

    assert texts(sim, OUTSIDER) == [ADMIN_HELP]


@pytest.mark.parametrize(
    "data",
    [
        b"bc:send:bc_20990101_000000_ffff",
        b"bc:explode:{bid}",
        b"bc:pause:{bid}",
        b"bc:send",
        b"bc:send:{bid}:extra",
        b"bc:\xff\xfe",
    ],
)
async def test_forged_callback_data_is_answered_as_expired(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot, data: bytes
) -> None:
    confirm = await confirmation(sim, "/broadcast Hi")
    forged = data.replace(b"{bid}", broadcast_id(confirm).encode())

    await sim.feed_callback(ADMIN, confirm.message_id, forged)

    assert sim.callback_answers[-1].text == "This button has expired."
    assert (await db["broadcasts"].find_one({}))["status"] == "draft"


async def test_real_button_pressed_on_another_message_is_expired(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    confirm = await confirmation(sim, "/broadcast Hi")
    other = await sim.feed_message(ADMIN, "unrelated")

    await sim.feed_callback(ADMIN, other, button(confirm, "Send now"))

    assert sim.callback_answers[-1].text == "This button has expired."
    assert (await db["broadcasts"].find_one({}))["status"] == "draft"


async def test_confirmation_expires_after_ten_minutes(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    confirm = await confirmation(sim, "/broadcast Hi")
    created = (await db["broadcasts"].find_one({}))["created_at"]
    await db["broadcasts"].update_one({}, {"$set": {"created_at": created - timedelta(minutes=11)}})

    assert await press(sim, confirm, "Send now") == "This button has expired."

    assert (await db["broadcasts"].find_one({}))["status"] == "draft"
    assert all(sim.inbox(user) == [] for user in USERS)


async def test_double_send_now_starts_one_broadcast(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    confirm = await confirmation(sim, "/broadcast Once")
    data = button(confirm, "Send now")

    await sim.feed_callback(ADMIN, confirm.message_id, data, wait=False)
    await sim.feed_callback(ADMIN, confirm.message_id, data, wait=False)
    await sim.dispatcher.updates_queue.join()
    await wait_status(db, broadcast_id(confirm), "completed")

    answers = sorted(a.text or "" for a in sim.callback_answers)
    assert answers == ["This broadcast has already started.", "🚀 Confirmed"]
    assert await db["broadcasts"].count_documents({}) == 1
    for user in USERS:
        assert texts(sim, user) == ["Once"]


# commands and their mistakes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "/broadcast --nope hi",
        "/broadcast --segment",
        "/broadcast --parse xml hi",
        '/broadcast --button "no url"',
        "/broadcast --forward some text",
        "/broadcast_history abc",
        "/broadcast_history 99",
        "/broadcast_cancel",
        "/broadcast_schedule | no time",
        "/broadcast_reschedule bc_1",
        "/broadcast_segments x",
    ],
)
async def test_usage_errors_are_replied_verbatim(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot, command: str
) -> None:
    expected = parse_command(command)
    assert isinstance(expected, UsageError)

    await sim.feed_message(ADMIN, command)

    assert texts(sim) == [expected.message]
    assert await db["broadcasts"].count_documents({}) == 0


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("/broadcast --at yesterday Hi", '⏰ "yesterday"'),
        ("/broadcast_schedule banana o'clock | Hi", 'Cannot read "banana o\'clock" as a time'),
        ("/broadcast --at 01/02/2027 Hi", '"01/02/2027"'),
        ("/broadcast --every '*/5 * * * *' Hi", "once an hour"),
        ("/broadcast --at 'in 2 hours' --every day --until 'in 1 hour' Hi", "⏰ --until"),
        ("/broadcast --segment vip Hi", '🎯 Unknown segment "vip"'),
        ("/broadcast --segment activ_30d Hi", "🎯 Unknown segment"),
        ("/broadcast --segment active_0d Hi", "🎯"),
        ("/broadcast --exclude testers Hi", '🎯 Unknown segment "testers"'),
        ("/broadcast --segment lang:zz Hi", "🎯 Nobody matches lang:zz right now"),
        ("/broadcast --segment premium --exclude premium Hi", "🎯 Nobody matches premium,"),
        ("/broadcast " + "x" * 5000, "❌ This cannot be broadcast: text must be"),
        ("/help", ADMIN_HELP),
    ],
)
async def test_bad_segments_times_and_content_are_refused_before_anything_is_stored(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot, command: str, reply: str
) -> None:
    await sim.feed_message(ADMIN, command)

    assert reply in texts(sim)[-1]
    assert await db["broadcasts"].count_documents({}) == 0


async def test_segment_all_is_everyone(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    confirm = await confirmation(sim, "/broadcast --segment all Hi")

    assert "👥 Recipients: 6" in (confirm.text or "")


async def test_queued_broadcast_cancelled_by_command_never_runs(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start(rate=5)
    # The first broadcast holds the sender: its last recipient's send is answered with a
    # long FloodWait, so it cannot end (or yield, as a pause would) before it is cancelled.
    sim.fail_next(USERS[-1], error_message="FLOOD_WAIT_60", error_code=420)
    first = await confirmation(sim, "/broadcast One")
    await press(sim, first, "Send now")
    doc = await running(sim, db, broadcast_id(first))
    second = await confirmation(sim, "/broadcast Two")
    await press(sim, second, "Send now")
    bid = broadcast_id(second)

    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    assert texts(sim)[-2:] == [
        f"🛑 Cancelled {bid}.",
        f"{bid} is already cancelled: nothing to cancel.",
    ]
    await press(sim, status_message(sim, doc), "Cancel")
    assert await press(sim, status_message(sim, doc), "Yes") == "🛑 Cancelled"
    await wait_status(db, broadcast_id(first), "cancelled")

    queued = await db["broadcasts"].find_one({"_id": bid})
    assert status_message(sim, queued).text == f"🛑 Broadcast {bid} cancelled before it started."
    assert all("Two" not in texts(sim, user) for user in USERS)
    assert texts(sim, USERS[-1]) == []  # the first was cancelled before it reached them


def test_run_without_credentials_names_them_and_points_at_the_demo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("API_ID", "API_HASH", "BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_TOKEN", "123456:" + "T" * 35)

    assert main(["run"]) == 2

    error = capsys.readouterr().err
    assert "API_ID, API_HASH not set" in error
    assert "python -m bot demo" in error


def test_run_with_a_bad_segments_file_stops_before_connecting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "segments.toml").write_text(
        '[segments.sneaky]\ndescription = "x"\nfilter = { "$where" = "sleep(1000)" }\n'
    )
    monkeypatch.setenv("API_ID", "12345")
    monkeypatch.setenv("API_HASH", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("BOT_TOKEN", "123456:" + "T" * 35)
    monkeypatch.setenv("SEGMENTS_FILE", "segments.toml")

    assert main(["run"]) == 2

    error = capsys.readouterr().err
    assert "segments.toml" in error
    assert '"sneaky"' in error
    assert "$where" in error


async def test_a_host_bot_keeps_its_own_updates_and_never_sees_ours(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    from hydrogram.handlers import CallbackQueryHandler, MessageHandler

    seen: list[str] = []

    async def host_message(client: Any, message: Any) -> None:
        seen.append(f"message:{message.text}")

    async def host_callback(client: Any, query: Any) -> None:
        seen.append(f"callback:{query.data}")
        await query.answer("host")

    sim.add_handler(MessageHandler(host_message), 0)
    sim.add_handler(CallbackQueryHandler(host_callback), 0)
    await asyncio.sleep(0)  # hydrogram registers handlers in a task of its own

    confirm = await confirmation(sim, "/broadcast Hi")
    assert await press(sim, confirm, "Cancel") == "Cancelled"
    await sim.feed_message(USERS[0], "hello host")
    await sim.feed_callback(USERS[0], confirm.message_id, b"host:menu")

    assert seen == ["message:hello host", "callback:host:menu"]


async def test_a_paid_broadcast_says_what_it_costs(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch(rate=1000, paid_broadcast=True)
    confirm = await confirmation(sim, "/broadcast Flash sale")
    assert "⭐ Paid broadcast: up to 0.6 Telegram Stars" in (confirm.text or "")
    assert "at Telegram's free rate" in (confirm.text or "")
