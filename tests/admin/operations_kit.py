"""What the tests of operations after the send share (delete, edit, retry): their users,
offering and running an operation, its ledger rows, the admin's last reply."""

from __future__ import annotations

from typing import Any

from bot.demo.simulator import ReceivedMessage, TelegramSimulator
from bot.storage.mongo import Database
from tests.botkit import ADMIN, last, press, status_message, texts, wait_status

USERS = list(range(2_100_000, 2_100_006))
MANY = list(range(2_200_000, 2_200_040))


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


async def reply_of(sim: TelegramSimulator, command: str) -> str:
    await sim.feed_message(ADMIN, command)
    return texts(sim)[-1]


async def shows(sim: TelegramSimulator, db: Database, bid: str, *parts: str) -> bool:
    doc = await db["broadcasts"].find_one({"_id": bid})
    text = status_message(sim, doc).text or ""
    return all(part in text for part in parts)
