"""What the scheduling tests share: their users, scheduling by command, copies received,
a broadcast's due time, a bot's job scheduler."""

from __future__ import annotations

from datetime import datetime

from bot.admin.install import BroadcastBot
from bot.delivery.model import as_utc
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from scheduler.jobs import JobScheduler
from tests.botkit import ADMIN, as_awaitable, broadcast_id, eventually, last, press, texts

USERS = [6001, 6002, 6003]


async def schedule(sim: TelegramSimulator, command: str) -> str:
    """Send a scheduling command, press Schedule, return the broadcast id."""
    await sim.feed_message(ADMIN, command)
    confirm = last(sim)
    assert (confirm.text or "").startswith("🗓 Ready to schedule"), confirm.text
    assert await press(sim, confirm, "Schedule") == "🗓 Scheduled"
    return broadcast_id(confirm)


def copies(sim: TelegramSimulator, text: str) -> dict[int, int]:
    return {uid: texts(sim, uid).count(text) for uid in USERS}


async def due_time(db: Database, bid: str) -> datetime:
    doc = await db["broadcasts"].find_one({"_id": bid})
    due = as_utc(doc["scheduled_for"])
    assert due is not None
    return due


async def jobs_of(bot: BroadcastBot) -> JobScheduler:
    """The bot's job scheduler, once its first sweep has started it."""
    runtime = bot.scheduler
    assert runtime is not None
    await eventually(lambda: as_awaitable(runtime.jobs is not None))
    assert runtime.jobs is not None
    return runtime.jobs
