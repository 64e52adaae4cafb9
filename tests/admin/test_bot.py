"""The admin bot end to end: sending, previews, history and cancel; updates fed through
hydrogram's dispatcher by the simulator, assertions on what users received and MongoDB holds."""

from __future__ import annotations

from bot.admin.install import BroadcastBot
from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.mongo import Database
from tests.admin.conftest import USERS, Start
from tests.botkit import (
    ADMIN,
    as_awaitable,
    broadcast_id,
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
