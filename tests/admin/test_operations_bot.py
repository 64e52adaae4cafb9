"""After the send, end to end: deleting and editing a broadcast's copies, retrying it.

Updates go in through the simulator, what the simulated users hold comes out, and
MongoDB's documents and ledger rows are asserted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.demo.simulator import ReceivedMessage, TelegramSimulator, UserState
from bot.storage.mongo import Database
from tests.botkit import (
    ADMIN,
    ShiftedClock,
    eventually,
    last,
    marked,
    press,
    send_now,
    status_message,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

USERS = list(range(2_100_000, 2_100_006))
MANY = list(range(2_200_000, 2_200_040))
SLOW = 20.0  # msg/s: 40 copies take 2 s, long enough to act in between
HOURS_49 = timedelta(hours=49)


def op_id(message: ReceivedMessage) -> str:
    """The id of the operation a confirmation offers (after 🆔)."""
    words = (message.text or "").split()
    return words[words.index("🆔") + 1]


async def offered(sim: TelegramSimulator, command: str, **options: Any) -> ReceivedMessage:
    await sim.feed_message(ADMIN, command, **options)
    message = last(sim)
    assert (message.text or "").startswith(("🗑 Ready to delete", "✏️ Ready to edit")), message.text
    return message


async def run_operation(sim: TelegramSimulator, db: Database, command: str) -> dict[str, Any]:
    """Offer, confirm and wait for an operation to complete; its document."""
    confirm = await offered(sim, command)
    label = "Yes, delete" if "delete" in command else "Yes, edit"
    assert await press(sim, confirm, label) == "🚀 Confirmed"
    return await wait_status(db, op_id(confirm), "completed")


async def rows(db: Database, bid: str) -> dict[int, dict[str, Any]]:
    return {r["user_id"]: r async for r in db["deliveries"].find({"broadcast_id": bid})}


def copies(sim: TelegramSimulator, users: list[int]) -> dict[int, list[ReceivedMessage]]:
    return {uid: sim.inbox(uid) for uid in users}


async def reply_of(sim: TelegramSimulator, command: str) -> str:
    await sim.feed_message(ADMIN, command)
    return texts(sim)[-1]


# delete -----------------------------------------------------------------------------------


async def test_delete_removes_every_copy_and_a_second_delete_finds_nothing_left(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    sim.set_state(USERS[0], UserState.BLOCKED)
    bid = await send_now(sim, db, "/broadcast <b>Big</b> news")

    confirm = await offered(sim, f"/broadcast_delete {bid}")
    assert "👥 Chats to delete it from: 5" in (confirm.text or "")
    assert await db["broadcasts"].count_documents({"kind": "delete"}) == 1  # a draft so far
    assert all(not m.deleted for uid in USERS[1:] for m in sim.inbox(uid))
    assert await press(sim, confirm, "Yes, delete") == "🚀 Confirmed"
    op = await wait_status(db, op_id(confirm), "completed")

    sent = await rows(db, bid)
    for uid in USERS[1:]:
        [copy] = sim.inbox(uid)
        assert copy.deleted
        assert sim.touches(uid) == [("delete", (copy.message_id,))]
    assert sim.touches(USERS[0]) == []
    done = await rows(db, op["_id"])
    assert {uid: (r["status"], r["message_id"]) for uid, r in done.items()} == {
        uid: ("sent", sent[uid]["message_id"]) for uid in USERS[1:]
    }
    assert (op["kind"], op["of"], op["sent_count"], op["failed_count"]) == ("delete", bid, 5, 0)
    await eventually(
        lambda: _shows(sim, db, op["_id"], "DELETE COMPLETED", "Deleted: 5")
    )  # the same status machinery, in its own words

    history = await reply_of(sim, f"/broadcast_history {bid}")
    assert f"🗑 {op['_id']} delete · completed" in history
    assert ": 5 deleted" in history
    again = await reply_of(sim, f"/broadcast_delete {bid}")
    assert again.startswith(f"🗑 Nothing left to delete: {bid} every copy was deleted already")


async def _shows(sim: TelegramSimulator, db: Database, bid: str, *parts: str) -> bool:
    doc = await db["broadcasts"].find_one({"_id": bid})
    text = status_message(sim, doc).text or ""
    return all(part in text for part in parts)


async def test_delete_of_an_album_deletes_every_item_at_once(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS[:2])
    await launch()
    ids = await sim.seed_album(ADMIN, ["photo", ("video", "the clip"), "photo"])
    bid = await send_now(sim, db, "/broadcast", reply_to_message_id=ids[0])

    await run_operation(sim, db, f"/broadcast_delete {bid}")

    for uid in USERS[:2]:
        album = sim.inbox(uid)
        assert [m.deleted for m in album] == [True, True, True]
        assert sim.touches(uid) == [("delete", tuple(m.message_id for m in album))]


async def test_delete_past_48_hours_is_refused_whole_or_recorded_too_old(
    sim: TelegramSimulator, db: Database, launch: Launch, clock: ShiftedClock
) -> None:
    await seed(db, sim, USERS)
    await launch()
    bid = await send_now(sim, db, "/broadcast Old news")
    old = USERS[:2]  # as if these two were sent 49 hours ago
    await db["deliveries"].update_many(
        {"broadcast_id": bid, "user_id": {"$in": old}},
        {"$set": {"settled_at": clock() - HOURS_49}},
    )

    confirm = await offered(sim, f"/broadcast_delete {bid}")
    assert "⌛ Past Telegram's 48 hours, recorded as too old: 2" in (confirm.text or "")
    await press(sim, confirm, "Yes, delete")
    op = await wait_status(db, op_id(confirm), "completed")

    done = await rows(db, op["_id"])
    for uid in old:  # never asked of Telegram
        assert (done[uid]["status"], done[uid]["error"]) == ("failed", "forbidden")
        assert done[uid]["error_code"].startswith("TOO_OLD")
        assert sim.touches(uid) == []
        assert not sim.inbox(uid)[0].deleted
    assert all(sim.inbox(uid)[0].deleted for uid in USERS[2:])

    clock.advance(HOURS_49)
    sim.pass_time(HOURS_49.total_seconds())
    second = await send_now(sim, db, "/broadcast Newer news")  # sent after the move: young
    refused = await reply_of(sim, f"/broadcast_delete {bid}")
    assert refused.startswith(f"⌛ {bid} cannot be deleted: Telegram lets a bot delete only")
    assert await db["broadcasts"].count_documents({"kind": "delete", "of": bid}) == 1

    sim.pass_time(HOURS_49.total_seconds())  # Telegram's clock runs ahead of the bot's
    op = await run_operation(sim, db, f"/broadcast_delete {second}")
    refusals = [r["error_code"] for r in (await rows(db, op["_id"])).values()]
    assert all(code.startswith("MESSAGE_DELETE_FORBIDDEN: TOO_OLD") for code in refusals)
    assert op["error_breakdown"] == {"forbidden": 6}
    assert not any(m.deleted for uid in USERS for m in sim.inbox(uid)[1:])


async def test_a_copy_left_after_a_delete_answers_its_reactions_as_withdrawn(
    sim: TelegramSimulator, db: Database, launch: Launch, clock: ShiftedClock
) -> None:
    await seed(db, sim, USERS)
    await launch()
    bid = await send_now(sim, db, '/broadcast --react "👍,👎" Vote')
    kept = USERS[0]  # sent "49 hours ago": the delete leaves its copy
    await db["deliveries"].update_one(
        {"broadcast_id": bid, "user_id": kept}, {"$set": {"settled_at": clock() - HOURS_49}}
    )
    assert await press(sim, sim.inbox(kept)[0], "👍", user=kept) != "This message was withdrawn."

    await run_operation(sim, db, f"/broadcast_delete {bid}")

    assert (await db["broadcasts"].find_one({"_id": bid}))["deleted_at"] is not None
    assert not sim.inbox(kept)[0].deleted
    assert await press(sim, sim.inbox(kept)[0], "👎", user=kept) == "This message was withdrawn."


async def test_pause_and_a_restart_mid_delete_touch_no_chat_twice(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, MANY)
    bot = await launch(rate=SLOW)
    bid = await send_now(sim, db, "/broadcast To be withdrawn")
    confirm = await offered(sim, f"/broadcast_delete {bid}")
    await press(sim, confirm, "Yes, delete")
    op = op_id(confirm)

    await eventually(lambda: _deleted_at_least(sim, 5))
    doc = await db["broadcasts"].find_one({"_id": op})
    assert await press(sim, status_message(sim, doc), "Pause") == "⏸ Paused"
    await wait_status(db, op, "paused")
    held = _deleted(sim)
    assert 0 < held < len(MANY)
    assert await press(sim, status_message(sim, doc), "Resume") == "▶️ Resumed"
    await eventually(lambda: _deleted_at_least(sim, held + 5))
    await bot.stop()  # a deploy mid-delete

    await launch(rate=1000)
    await wait_status(db, op, "completed")
    for uid in MANY:
        [copy] = sim.inbox(uid)
        assert copy.deleted
        assert sim.touches(uid) == [("delete", (copy.message_id,))]


async def test_a_cancelled_delete_leaves_the_rest_to_a_second_one(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, MANY)
    await launch(rate=SLOW)
    bid = await send_now(sim, db, "/broadcast Withdrawn in two goes")
    confirm = await offered(sim, f"/broadcast_delete {bid}")
    await press(sim, confirm, "Yes, delete")
    first = op_id(confirm)
    await eventually(lambda: _deleted_at_least(sim, 5))
    doc = await db["broadcasts"].find_one({"_id": first})
    await press(sim, status_message(sim, doc), "Cancel")
    assert await press(sim, status_message(sim, doc), "Yes, cancel it") == "🛑 Cancelled"
    await wait_status(db, first, "cancelled")
    await eventually(lambda: _shows(sim, db, first, "DELETE CANCELLED"))
    gone = _deleted(sim)

    confirm = await offered(sim, f"/broadcast_delete {bid}")
    assert f"👥 Chats to delete it from: {len(MANY) - gone}" in (confirm.text or "")
    await press(sim, confirm, "Yes, delete")
    await wait_status(db, op_id(confirm), "completed")
    for uid in MANY:
        [copy] = sim.inbox(uid)
        assert copy.deleted
        assert sim.touches(uid) == [("delete", (copy.message_id,))]


def _deleted(sim: TelegramSimulator) -> int:
    return sum(m.deleted for uid in MANY for m in sim.inbox(uid))


async def _deleted_at_least(sim: TelegramSimulator, count: int) -> bool:
    return _deleted(sim) >= count


# edit -------------------------------------------------------------------------------------


async def test_edit_gives_every_copy_the_new_text_with_its_entities(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    bid = await send_now(sim, db, '/broadcast --button "Open | https://example.com" Old news')

    confirm = await offered(sim, f"/broadcast_edit {bid} <b>New</b> news, <i>really</i>")
    assert "📝 New text: New news, really" in (confirm.text or "")
    assert await press(sim, confirm, "Yes, edit") == "🚀 Confirmed"
    op = await wait_status(db, op_id(confirm), "completed")

    for uid in USERS:
        [copy] = sim.inbox(uid)
        assert (copy.text, copy.edited) == ("New news, really", True)
        assert marked(copy) == [("bold", "New"), ("italic", "really")]
        assert copy.buttons == ((("Open", "https://example.com"),),)  # kept: none given
        assert sim.touches(uid) == [("edit", (copy.message_id,))]
    assert (op["sent_count"], op["failed_count"]) == (len(USERS), 0)
    assert f"✏️ {op['_id']} edit · completed" in await reply_of(sim, f"/broadcast_history {bid}")

    again = await run_operation(sim, db, f"/broadcast_edit {bid} <b>New</b> news, <i>really</i>")
    assert again["sent_count"] == len(USERS)  # MESSAGE_NOT_MODIFIED: done
    assert all(r.get("duplicate") for r in (await rows(db, again["_id"])).values())


async def test_edit_of_a_caption_on_a_photo_and_on_an_album(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS[:2])
    await launch()
    photo = await sim.feed_message(ADMIN, "Sale today", media="photo")
    single = await send_now(sim, db, "/broadcast", reply_to_message_id=photo)
    ids = await sim.seed_album(ADMIN, ["photo", ("video", "the clip"), "photo"])
    album = await send_now(sim, db, "/broadcast", reply_to_message_id=ids[0])

    text = await sim.feed_message(ADMIN, "Sale tomorrow")
    await run_operation(sim, db, f"/broadcast_edit {single} Sale <i>tomorrow</i>")
    confirm = await offered(sim, f"/broadcast_edit {album}", reply_to_message_id=text)
    await press(sim, confirm, "Yes, edit")
    await wait_status(db, op_id(confirm), "completed")

    for uid in USERS[:2]:
        copy, *items = sim.inbox(uid)
        assert (copy.media, copy.text, marked(copy)) == (
            "photo",
            "Sale tomorrow",
            [("italic", "tomorrow")],
        )
        assert [(m.media, m.text, m.edited) for m in items] == [
            ("photo", None, False),
            ("video", "Sale tomorrow", True),  # the item that carries the caption
            ("photo", None, False),
        ]


async def test_an_edit_telegram_would_refuse_is_refused_before_anything_changes(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS[:2])
    await launch()
    text = await send_now(sim, db, "/broadcast Short")
    photo = await sim.feed_message(ADMIN, "Caption", media="photo")
    captioned = await send_now(sim, db, "/broadcast", reply_to_message_id=photo)
    forwarded = await send_now(sim, db, "/broadcast --forward", reply_to_message_id=photo)

    refusals = {
        f"/broadcast_edit {text} {'x' * 4097}": "a text stays a text: 1-4096 characters",
        f"/broadcast_edit {captioned} {'x' * 1025}": "a caption stays a caption: at most 1024",
        f"/broadcast_edit {forwarded} Another": "a forwarded message cannot be edited",
    }
    for command, why in refusals.items():
        assert why in await reply_of(sim, command)
    await sim.feed_message(ADMIN, f"/broadcast_edit {text}", reply_to_message_id=photo)
    assert texts(sim)[-1].startswith("✏️ Reply to a text message")
    assert (await reply_of(sim, f"/broadcast_edit {text}")).startswith("✏️ Give the new text")

    assert await db["broadcasts"].count_documents({"kind": "edit"}) == 0
    for uid in USERS[:2]:
        assert sim.touches(uid) == []
        assert [m.text for m in sim.inbox(uid)] == ["Short", "Caption", "Caption"]


# retry ------------------------------------------------------------------------------------


async def test_retry_reaches_exactly_the_eligible_and_never_a_recipient_twice(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    came_back, still_blocked, flaky, gone, in_doubt, lost = USERS
    await seed(db, sim, USERS)
    others = await seed(db, sim, MANY[:4])
    await launch(record_users=True)
    sim.set_state(came_back, UserState.BLOCKED)
    sim.set_state(still_blocked, UserState.BLOCKED)
    sim.set_state(gone, UserState.DEACTIVATED)
    sim.fail_next(flaky, error_message="RPC_CALL_FAIL", error_code=500, times=3)
    sim.fail_next(lost, error_message="RPC_CALL_FAIL", error_code=500, times=3)
    bid = await send_now(sim, db, "/broadcast Once each")
    # a run stopped while these two were being sent: one had got it, one had not
    await db["deliveries"].update_many(
        {"broadcast_id": bid, "user_id": {"$in": [in_doubt, lost]}},
        {"$set": {"status": "sending"}},
    )
    await sim.feed_message(came_back, "hello again")  # recorded: no longer marked blocked
    await eventually(lambda: _unmarked(db, came_back))

    await sim.feed_message(ADMIN, f"/broadcast_retry {bid}")
    question = last(sim)
    assert (question.text or "").startswith(f"🔁 Retry {bid}?")
    assert "👥 Recipients: 4" in (question.text or "")
    assert "⛔ Left out, still blocked or gone: 2" in (question.text or "")
    assert await press(sim, question, "Yes, retry") == "🔁 Retrying"
    doc = await wait_status(db, bid, "completed")
    await eventually(lambda: _shows(sim, db, bid, "Run 2 (a retry)"))

    got = {uid: texts(sim, uid).count("Once each") for uid in [*USERS, *others]}
    assert got == {**dict.fromkeys([*USERS, *others], 1), still_blocked: 0, gone: 0}
    doc = await db["broadcasts"].find_one({"_id": bid})
    first, second = doc["runs"]
    delivered = len(others) + 1  # and the admin, recorded as a user by its commands
    assert (first["sent"], first["failed"]) == (delivered + 1, 5)  # as its summary said
    assert (second["recipients"], second["sent"], second["failed"]) == (4, 4, 0)
    assert (doc["sent_count"], doc["failed_count"]) == (delivered + 4, 2)
    ledger = await rows(db, bid)
    assert ledger[in_doubt].get("duplicate")  # Telegram refused the repeat: same random_id
    history = await reply_of(sim, f"/broadcast_history {bid}")
    assert "• Run 2" in history

    assert (await reply_of(sim, f"/broadcast_retry {bid}")).startswith("🔁 Nobody to retry")


async def _unmarked(db: Database, uid: int) -> bool:
    doc = await db["users"].find_one({"user_id": uid})
    return doc is not None and doc.get("bot_blocked_at") is None


async def test_retry_answers_once_and_only_for_a_finished_broadcast(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    sim.fail_next(USERS[0], error_message="RPC_CALL_FAIL", error_code=500, times=3)
    bid = await send_now(sim, db, "/broadcast Again")
    op = await run_operation(sim, db, f"/broadcast_edit {bid} Again, edited")

    assert "not a broadcast" in await reply_of(sim, f"/broadcast_retry {op['_id']}")
    await sim.feed_message(ADMIN, f"/broadcast_retry {bid}")
    question = last(sim)
    assert f"It goes out as first sent: the edit {op['_id']}" in (question.text or "")
    await sim.feed_callback(ADMIN, question.message_id, b"bc:retry_yes:" + bid.encode())
    await sim.feed_callback(ADMIN, question.message_id, b"bc:retry_yes:" + bid.encode())
    answers = [a.text for a in sim.callback_answers[-2:]]
    assert answers == ["🔁 Retrying", "This question was answered already."]
    await wait_status(db, bid, "completed")
    assert texts(sim, USERS[0]).count("Again") == 1
    assert len((await db["broadcasts"].find_one({"_id": bid}))["runs"]) == 2
