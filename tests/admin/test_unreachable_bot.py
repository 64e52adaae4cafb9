"""Copies a delete or an edit cannot reach: the ledger holds no message id for them
(Telegram's answer carried none, or they were sent before ids were recorded). They are
counted apart at the confirmation, recorded unreachable, never counted done."""

from __future__ import annotations

from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.operations_kit import USERS, offered, op_id, reply_of, rows
from tests.botkit import ADMIN, eventually, press, send_now, status_message, wait_status
from tests.conftest import Launch
from tests.support import seed

NO_IDS, LEGACY = USERS[:2], USERS[2]
REACHED = USERS[3:]
WHY = "the ledger holds no message id for them"


async def sent_with_idless_copies(sim: TelegramSimulator, db: Database, text: str) -> str:
    """A broadcast to USERS whose ledger has no ids for NO_IDS (Telegram answered
    ``updatesTooLong``) and for LEGACY (a row from before ids were recorded)."""
    for uid in NO_IDS:
        sim.answer_too_long(uid)
    bid = await send_now(sim, db, f"/broadcast {text}")
    await db["deliveries"].update_one({"_id": f"{bid}:{LEGACY}"}, {"$unset": {"message_id": ""}})
    sent = await rows(db, bid)
    assert all(
        sent[uid]["status"] == "sent" and not sent[uid].get("message_id") for uid in USERS[:3]
    )
    assert all(len(sim.inbox(uid)) == 1 for uid in USERS)  # every copy is in its chat
    return bid


async def summary_of(sim: TelegramSimulator, db: Database, op: str) -> str:
    doc = await db["broadcasts"].find_one({"_id": op})

    async def summarised() -> bool:
        return "COMPLETED" in (status_message(sim, doc).text or "")

    await eventually(summarised)
    return status_message(sim, doc).text or ""


async def test_a_delete_counts_apart_and_reports_the_copies_it_cannot_reach(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    bid = await sent_with_idless_copies(sim, db, "Big news")

    confirm = await offered(sim, f"/broadcast_delete {bid}")
    text = confirm.text or ""
    assert "👥 Chats to delete it from: 3 (an album goes whole)" in text
    assert f"🚫 Cannot be reached, recorded as such: 3 ({WHY}" in text
    await press(sim, confirm, "Yes, delete")
    op = await wait_status(db, op_id(confirm), "completed")

    assert (op["sent_count"], op["failed_count"]) == (3, 3)
    done = await rows(db, op["_id"])
    for uid in USERS[:3]:
        assert (done[uid]["status"], done[uid]["error"]) == ("failed", "unknown")
        assert done[uid]["error_code"].startswith("MESSAGE_IDS_UNKNOWN")
        assert not sim.inbox(uid)[0].deleted
        assert sim.touches(uid) == []  # never asked of Telegram
    assert all(sim.inbox(uid)[0].deleted for uid in REACHED)
    summary = await summary_of(sim, db, op["_id"])
    assert "✅ Deleted: 3 (50%)" in summary
    assert "• No message id recorded, so not reachable (or other errors): 3" in summary


async def test_an_edit_counts_apart_and_reports_the_copies_it_cannot_reach(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    bid = await sent_with_idless_copies(sim, db, "Big news")

    confirm = await offered(sim, f"/broadcast_edit {bid} Bigger news")
    text = confirm.text or ""
    assert "👥 Copies to edit: 3\n🚫 Cannot be reached, recorded as such: 3" in text
    await press(sim, confirm, "Yes, edit")
    op = await wait_status(db, op_id(confirm), "completed")

    assert (op["sent_count"], op["failed_count"]) == (3, 3)
    assert [m.text for uid in USERS[:3] for m in sim.inbox(uid)] == ["Big news"] * 3
    assert [m.text for uid in REACHED for m in sim.inbox(uid)] == ["Bigger news"] * 3
    summary = await summary_of(sim, db, op["_id"])
    assert "✅ Edited: 3 (50%)" in summary
    assert "• No message id recorded, so not reachable (or other errors): 3" in summary


async def test_an_operation_none_of_whose_copies_can_be_reached_is_refused(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, NO_IDS)
    await launch()
    for uid in NO_IDS:
        sim.answer_too_long(uid)
    bid = await send_now(sim, db, "/broadcast Hello")

    edit = await reply_of(sim, f"/broadcast_edit {bid} Hi")
    delete = await reply_of(sim, f"/broadcast_delete {bid}")

    assert edit.startswith(f"✏️ {bid} cannot be edited: none of its 2 copies can be reached")
    assert delete.startswith(f"🗑 {bid} cannot be deleted: none of its 2 copies can be reached")
    assert all(WHY in reply and "Nothing was changed." in reply for reply in (edit, delete))
    assert await db["broadcasts"].count_documents({"kind": {"$exists": True}}) == 0
    assert all(sim.touches(uid) == [] for uid in NO_IDS)
    assert ADMIN not in NO_IDS
