"""The admin bot end to end: updates fed through hydrogram's dispatcher by the simulator,
assertions on what the simulated users received and on what MongoDB holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.admin.commands import ADMIN_HELP, UsageError, parse_command
from bot.admin.install import BroadcastBot
from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.mongo import Database
from tests.botkit import (
    ADMIN,
    as_awaitable,
    broadcast_id,
    button,
    confirmation,
    eventually,
    marked,
    press,
    running,
    send_now,
    status_message,
    summarised,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

OUTSIDER = 3_000_001
USERS = list(range(2_000_000, 2_000_006))


Start = Callable[..., Awaitable[BroadcastBot]]


@pytest.fixture
def start(db: Database, sim: TelegramSimulator, launch: Launch) -> Start:
    """Installs the bot on the simulator; seeds ``users`` users first."""

    async def start_bot(
        users: list[int] = USERS, rate: float = 1000, ask_timeout_s: float = 60.0
    ) -> BroadcastBot:
        await seed(db, sim, users)
        return await launch(rate=rate, ask_timeout_s=ask_timeout_s)

    return start_bot


@pytest.fixture
async def bot(start: Start) -> BroadcastBot:
    return await start()


# the main flow ----------------------------------------------------------------------------


async def test_text_broadcast_reaches_everyone_once_and_ends_in_a_summary(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    sim.set_state(USERS[0], UserState.BLOCKED)
    confirm = await confirmation(sim, "/broadcast --silent <b>Big</b> news")

    assert "👥 Recipients: 6" in (confirm.text or "")
    assert "🎯 Target: all users" in (confirm.text or "")
    assert "📝 Message: Big news" in (confirm.text or "")  # as recipients will see it
    assert marked(confirm) == [("bold", "Big")]
    assert "Estimated time" in (confirm.text or "")
    bid = broadcast_id(confirm)
    assert (await db["broadcasts"].find_one({"_id": bid}))["status"] == "draft"

    assert await press(sim, confirm, "Send now") == "🚀 Confirmed"
    doc = await wait_status(db, bid, "completed")
    await eventually(lambda: summarised(sim, db, bid))

    for user in USERS[1:]:
        [received] = sim.inbox(user)
        assert (received.text, received.silent) == ("Big news", True)
    assert sim.inbox(USERS[0]) == []
    status = status_message(sim, doc)
    assert status.edited
    assert status.buttons == ()
    assert "Successfully Sent: 5" in (status.text or "")
    assert "User blocked the bot: 1" in (status.text or "")
    doc = await db["broadcasts"].find_one({"_id": bid})
    assert [(e["action"], e["by"]) for e in doc["audit"]] == [
        ("created", ADMIN),
        ("confirmed", ADMIN),
        ("started", None),
        ("completed", None),
    ]
    assert doc["confirmed_by"] == ADMIN
    confirmed = next(m for m in sim.inbox(ADMIN) if m.message_id == confirm.message_id)
    assert (confirmed.text or "").endswith("✅ Confirmed")
    assert confirmed.buttons == ()


async def test_reply_to_a_photo_broadcasts_a_copy(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    photo = await sim.feed_message(ADMIN, "Sale today", media="photo")

    confirm = await confirmation(sim, "/broadcast --protect", reply_to_message_id=photo)
    assert "Copy of a photo: Sale today" in (confirm.text or "")
    assert "protected" in (confirm.text or "")
    await press(sim, confirm, "Send now")
    await wait_status(db, broadcast_id(confirm), "completed")

    for user in USERS:
        [received] = sim.inbox(user)
        assert (received.media, received.text, received.protected) == ("photo", "Sale today", True)


async def test_reply_to_an_album_broadcasts_the_whole_album(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    ids = await sim.seed_album(ADMIN, ["photo", ("video", "the clip"), "photo"])

    await send_now(sim, db, "/broadcast", reply_to_message_id=ids[1])

    for user in USERS:
        received = sim.inbox(user)
        assert [m.media for m in received] == ["photo", "video", "photo"]
        assert len({m.grouped_id for m in received}) == 1


async def test_broadcast_alone_asks_for_the_message(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(ADMIN, "/broadcast")
    assert "Send me the message to broadcast" in texts(sim)[-1]

    confirm = await confirmation(sim, "Clip of the week", media="video")
    assert "Copy of a video: Clip of the week" in (confirm.text or "")
    await press(sim, confirm, "Send now")
    await wait_status(db, broadcast_id(confirm), "completed")

    for user in USERS:
        assert [(m.media, m.text) for m in sim.inbox(user)] == [("video", "Clip of the week")]


async def test_another_command_drops_the_question_and_says_so(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(ADMIN, "/broadcast")
    await sim.feed_message(ADMIN, "/broadcast_history")

    assert "is dropped" in texts(sim)[-2]
    await sim.feed_message(ADMIN, "just chatting")
    assert await db["broadcasts"].count_documents({}) == 0


async def test_asking_times_out_and_cancel_aborts(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start(ask_timeout_s=0.05)

    await sim.feed_message(ADMIN, "/broadcast")
    await eventually(lambda: as_awaitable(texts(sim)[-1].startswith("⏰ Timed out")))
    await sim.feed_message(ADMIN, "too late")
    await sim.feed_message(ADMIN, "/broadcast")
    await sim.feed_message(ADMIN, "/cancel")
    await sim.feed_message(ADMIN, "not content either")

    assert texts(sim)[-1] == "Cancelled. Nothing was sent."
    assert await db["broadcasts"].count_documents({}) == 0


# previews ---------------------------------------------------------------------------------


async def test_preview_command_sends_to_the_admin_only(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(
        ADMIN, '/broadcast_preview --button "Open | https://example.com" <i>Hi</i>'
    )

    preview, note = sim.inbox(ADMIN)[-2:]
    assert (preview.text, preview.buttons) == ("Hi", ((("Open", "https://example.com"),),))
    assert (note.text or "").startswith("👀 Preview")
    assert all(sim.inbox(user) == [] for user in USERS)
    assert await db["broadcasts"].count_documents({}) == 0


async def test_preview_alone_asks_for_the_message_to_preview(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start(ask_timeout_s=0.05)
    await sim.feed_message(ADMIN, "/broadcast_preview")
    assert texts(sim)[-1].startswith("✍️ Send me the message to preview:")

    await sim.feed_message(ADMIN, "Clip of the week", media="video")

    preview, note = sim.inbox(ADMIN)[-2:]
    assert (preview.media, preview.text) == ("video", "Clip of the week")
    assert (note.text or "").startswith("👀 Preview")
    await sim.feed_message(ADMIN, "/broadcast_preview")
    await eventually(lambda: as_awaitable(texts(sim)[-1].startswith("⏰ Timed out")))
    assert "Send /broadcast_preview again" in texts(sim)[-1]
    assert all(sim.inbox(user) == [] for user in USERS)
    assert await db["broadcasts"].count_documents({}) == 0


async def test_preview_button_sends_the_draft_to_the_admin(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    confirm = await confirmation(sim, "/broadcast Just for you")

    assert await press(sim, confirm, "Preview") == "👀 Preview sent"

    assert texts(sim)[-1] == "Just for you"
    assert all(sim.inbox(user) == [] for user in USERS)
    assert (await db["broadcasts"].find_one({}))["status"] == "draft"


# history and cancel ------------------------------------------------------------------------


async def test_history_lists_and_details_broadcasts(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    sim.set_state(USERS[0], UserState.BLOCKED)
    bid = await send_now(sim, db, "/broadcast First")

    await sim.feed_message(ADMIN, "/broadcast_history")
    listing = texts(sim)[-1]
    await sim.feed_message(ADMIN, f"/broadcast_history {bid}")
    record = texts(sim)[-1]

    assert bid in listing
    assert "completed" in listing
    assert "5/6 (83.3%)" in listing
    assert "by boss (1000001)" in listing
    assert "💬 First" in listing
    assert "💬 First" in record
    assert "User blocked the bot: 1" in record
    assert "confirmed by 1000001" in record
    assert "started by the bot" in record


async def test_history_of_fifty_long_broadcasts_comes_in_several_messages(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    for n in range(50):
        await sim.feed_message(ADMIN, f"/broadcast {n} " + "long words " * 20)
    await db["broadcasts"].update_many({}, {"$set": {"status": "completed"}})  # as if sent
    before = len(sim.inbox(ADMIN))

    await sim.feed_message(ADMIN, "/broadcast_history 50")

    parts = texts(sim)[before:]
    assert len(parts) > 1
    assert all(len(part) <= 4096 for part in parts)
    assert sum(part.count("✅ bc_") for part in parts) == 50  # every broadcast listed once
    assert not any("Something went wrong" in part for part in parts)


async def test_history_leaves_out_drafts_never_confirmed_and_names_what_was_sent(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    photo = await sim.feed_message(ADMIN, "Sale today, everything must go", media="photo")
    copied = await send_now(sim, db, "/broadcast", reply_to_message_id=photo)
    album = await sim.seed_album(ADMIN, ["photo", "video"])
    await send_now(sim, db, "/broadcast", reply_to_message_id=album[0])
    await send_now(sim, db, "/broadcast <b>Big</b> news " + "and more " * 20)
    await confirmation(sim, "/broadcast Left waiting")
    discarded = await confirmation(sim, "/broadcast Thought better of it")
    await press(sim, discarded, "Cancel")

    await sim.feed_message(ADMIN, "/broadcast_history")

    listing = texts(sim)[-1]
    assert listing.startswith("📜 Last 3 broadcast(s)")
    assert "💬 photo: Sale today, everything must go" in listing
    assert "💬 an album" in listing
    assert "💬 Big news and more and more" in listing  # as recipients read it, cut short
    assert "…" in listing
    assert "Left waiting" not in listing
    assert "Thought better" not in listing
    await sim.feed_message(ADMIN, f"/broadcast_history {copied}")
    assert "💬 photo: Sale today, everything must go" in texts(sim)[-1]


async def test_cancel_button_on_draft_and_command_on_unknown_id(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    confirm = await confirmation(sim, "/broadcast Never mind")

    assert await press(sim, confirm, "Cancel") == "Cancelled"
    assert await press(sim, confirm, "Send now") == "This broadcast was cancelled."
    await sim.feed_message(ADMIN, "/broadcast_cancel bc_20990101_000000_abcd")

    assert texts(sim)[-1] == "No broadcast bc_20990101_000000_abcd."
    assert (await db["broadcasts"].find_one({}))["status"] == "cancelled"
    assert all(sim.inbox(user) == [] for user in USERS)


async def test_cancel_running_broadcast_by_button_and_by_command(
    sim: TelegramSimulator, db: Database, start: Start
) -> None:
    await start(rate=5)
    first = await confirmation(sim, "/broadcast One")
    await press(sim, first, "Send now")
    doc = await running(sim, db, broadcast_id(first))

    assert await press(sim, status_message(sim, doc), "Cancel") == "Cancel it? Yes / No"
    assert await press(sim, status_message(sim, doc), "Yes") == "🛑 Cancelled"
    doc = await wait_status(db, broadcast_id(first), "cancelled")
    await eventually(lambda: as_awaitable("CANCELLED" in (status_message(sim, doc).text or "")))

    second = await confirmation(sim, "/broadcast Two")
    await press(sim, second, "Send now")
    bid = broadcast_id(second)
    await wait_status(db, bid, "running")
    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    assert texts(sim)[-1].startswith(f"🛑 Cancel it? {bid} is ")
    assert await press(sim, sim.inbox(ADMIN)[-1], "Yes") == "🛑 Cancelled"
    await wait_status(db, bid, "cancelled")

    assert sum(len(sim.inbox(user)) for user in USERS) < 2 * len(USERS)
    audit = (await db["broadcasts"].find_one({"_id": bid}))["audit"]
    assert ("cancelled", ADMIN) in [(e["action"], e["by"]) for e in audit]


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
    first = await confirmation(sim, "/broadcast One")
    await press(sim, first, "Send now")
    doc = await running(sim, db, broadcast_id(first))
    await press(sim, status_message(sim, doc), "Pause")
    second = await confirmation(sim, "/broadcast Two")
    await press(sim, second, "Send now")
    bid = broadcast_id(second)

    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    await press(sim, status_message(sim, doc), "Resume")
    await wait_status(db, broadcast_id(first), "completed")

    assert texts(sim)[-2:] == [
        f"🛑 Cancelled {bid}.",
        f"{bid} is already cancelled: nothing to cancel.",
    ]
    queued = await db["broadcasts"].find_one({"_id": bid})
    assert status_message(sim, queued).text == f"🛑 Broadcast {bid} cancelled before it started."
    for user in USERS:
        assert texts(sim, user) == ["One"]


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
