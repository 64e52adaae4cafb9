"""What the tests of the queue as admins live it share: their users, confirming a
broadcast (on either instance), its status message, counting the copies users got."""

from __future__ import annotations

from bot.demo.simulator import ReceivedMessage, TelegramSimulator
from bot.storage.mongo import Database
from tests.botkit import ADMIN, broadcast_id, button, confirmation, press, status_message, texts

USERS = list(range(8000, 8040))
SLOW = 20.0  # msg/s: 40 users take 2 s, long enough to act in between


def copies(sim: TelegramSimulator, text: str) -> dict[int, int]:
    return {uid: texts(sim, uid).count(text) for uid in USERS}


async def confirmed(sim: TelegramSimulator, command: str) -> str:
    """``command`` sent and confirmed with Send now (on the instance ``sim`` connects to);
    the broadcast's id."""
    confirm = await confirmation(sim, command)
    assert await press(sim, confirm, "Send now") == "🚀 Confirmed"
    return broadcast_id(confirm)


async def status_of(sim: TelegramSimulator, db: Database, bid: str) -> ReceivedMessage:
    doc = await db["broadcasts"].find_one({"_id": bid})
    return status_message(sim, doc)


async def sent_some(sim: TelegramSimulator, text: str, at_least: int = 5) -> bool:
    return sum(copies(sim, text).values()) >= at_least


async def press_on(client: TelegramSimulator, message: ReceivedMessage, label: str) -> str | None:
    await client.feed_callback(ADMIN, message.message_id, button(message, label))
    return client.callback_answers[-1].text
