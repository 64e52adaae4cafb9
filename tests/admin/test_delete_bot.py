"""Deleting a broadcast's copies end to end: every copy, albums, Telegram's 48 hours,
reactions on what is left, pause, restart and cancel mid-delete."""

from __future__ import annotations

from datetime import timedelta

from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.mongo import Database
from tests.admin.operations_kit import (
    MANY,
    USERS,
    offered,
    op_id,
    reply_of,
    rows,
    run_operation,
    shows,
)
from tests.botkit import (
    ADMIN,
    ShiftedClock,
    eventually,
    press,
    send_now,
    status_message,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

SLOW = 20.0  # msg/s: 40 copies take 2 s, long enough to act in between
HOURS_49 = timedelta(hours=49)


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
        lambda: shows(sim, db, op["_id"], "DELETE COMPLETED", "Deleted: 5")
    )  # the same status machinery, in its own words

    history = await reply_of(sim, f"/broadcast_history {bid}")
    assert f"🗑 {op['_id']} delete · completed" in history
    assert ": 5 deleted" in history
    again = await reply_of(sim, f"/broadcast_delete {bid}")
    deleted_by = f"every copy was deleted already, by {op['_id']} ({bid})."
    assert again == f"🗑 Nothing left to delete: {deleted_by}"


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
    await eventually(lambda: shows(sim, db, first, "DELETE CANCELLED"))
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
