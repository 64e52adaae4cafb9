"""Driving the installed bot through the simulator: shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from hydrogram import raw

from bot.app import utc_now
from bot.delivery.ports import PipelineConfig
from bot.demo.simulator import ReceivedMessage, TelegramSimulator
from bot.storage.mongo import Database

ADMIN = 1_000_001
# control_poll_s is not lower: bot/inmemory.py's offloaded calls leave an un-awaited coroutine
# when the run cancels its watcher mid-query, and filterwarnings=error turns that into a failure.
FAST = PipelineConfig(concurrency=4, progress_every=1, flush_interval_s=0.01, control_poll_s=0.05)


class ShiftedClock:
    """The wall clock plus an offset a test moves forward: "three days later" in no time."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen or utc_now() + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self.offset += delta

    def set(self, moment: datetime, *, freeze: bool = False) -> None:
        """Make it ``moment`` now, and let it run on from there unless ``freeze``."""
        self.offset = moment - utc_now()
        self.frozen = moment if freeze else None


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 10.0) -> None:
    """Poll ``check``: the queue runs broadcasts in a task of its own, with no event to await."""
    async with asyncio.timeout(within_s):
        while not await check():  # noqa: ASYNC110 (polling MongoDB and the simulator)
            await asyncio.sleep(0.01)


async def wait_status(db: Database, bid: str, *statuses: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        doc = await db["broadcasts"].find_one({"_id": bid})
        found.update(doc or {})
        return doc is not None and doc["status"] in statuses

    await eventually(reached)
    return found


def last(sim: TelegramSimulator, chat: int = ADMIN) -> ReceivedMessage:
    return sim.inbox(chat)[-1]


def texts(sim: TelegramSimulator, chat: int = ADMIN) -> list[str]:
    return [m.text or "" for m in sim.inbox(chat)]


#: What a chat app sends for each kind of formatting (the simulator's kind names).
RAW_ENTITIES: dict[str, type[Any]] = {
    "bold": raw.types.MessageEntityBold,
    "italic": raw.types.MessageEntityItalic,
    "underline": raw.types.MessageEntityUnderline,
    "spoiler": raw.types.MessageEntitySpoiler,
    "code": raw.types.MessageEntityCode,
    "text_url": raw.types.MessageEntityTextUrl,
    "url": raw.types.MessageEntityUrl,
    "bot_command": raw.types.MessageEntityBotCommand,
}


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entity(kind: str, text: str, part: str, **extra: Any) -> Any:
    """The entity an app sends for ``part`` (its first occurrence) of ``text``, formatted
    as ``kind``; offsets in UTF-16 code units, as Telegram counts them."""
    start = text.index(part)
    return RAW_ENTITIES[kind](offset=utf16(text[:start]), length=utf16(part), **extra)


def marked(message: ReceivedMessage) -> list[tuple[str, str]]:
    """``(kind, the text it covers)`` of each entity of a received message, in order."""
    units = (message.text or "").encode("utf-16-le")
    return [
        (e.kind, units[2 * e.offset : 2 * (e.offset + e.length)].decode("utf-16-le"))
        for e in message.entities
    ]


def button(message: ReceivedMessage, label: str) -> bytes:
    for row in message.buttons:
        for text, data in row:
            if label in text and data is not None:
                return data.encode()
    raise AssertionError(f"no button {label!r} in {message.buttons}")


def broadcast_id(message: ReceivedMessage) -> str:
    """The id a confirmation or status message is about (after 🆔), else the first one."""
    assert message.text is not None
    labelled = re.search(r"🆔 (bc_\S+)", message.text)
    if labelled:
        return labelled[1]
    return next(w for w in message.text.split() if w.startswith("bc_"))


async def confirmation(sim: TelegramSimulator, command: str, **options: Any) -> ReceivedMessage:
    await sim.feed_message(ADMIN, command, **options)
    message = last(sim)
    assert message.text is not None
    assert message.text.startswith("📢 Ready to broadcast"), message.text
    return message


async def press(
    sim: TelegramSimulator, message: ReceivedMessage, label: str, user: int = ADMIN
) -> str | None:
    await sim.feed_callback(user, message.message_id, button(message, label))
    return sim.callback_answers[-1].text


async def send_now(sim: TelegramSimulator, db: Database, command: str, **options: Any) -> str:
    """Confirm ``command`` and wait until its broadcast has completed and been summarised."""
    confirm = await confirmation(sim, command, **options)
    assert await press(sim, confirm, "Send now") == "🚀 Confirmed"
    bid = broadcast_id(confirm)
    await wait_status(db, bid, "completed")
    await eventually(lambda: summarised(sim, db, bid))
    return bid


async def summarised(sim: TelegramSimulator, db: Database, bid: str) -> bool:
    doc = await db["broadcasts"].find_one({"_id": bid})
    where = doc["progress_message"]
    status = next(m for m in sim.inbox(ADMIN) if m.message_id == where["message_id"])
    return "BROADCAST COMPLETED" in (status.text or "")


async def running(sim: TelegramSimulator, db: Database, bid: str) -> dict[str, Any]:
    """Wait until ``bid`` runs and its status message shows the first progress report.

    Later reports are spaced by progress_min_interval_s (3 s), so a button pressed now
    does not race with a report already on its way.
    """
    doc = await wait_status(db, bid, "running")
    await eventually(lambda: as_awaitable("IN PROGRESS" in (status_message(sim, doc).text or "")))
    return doc


def status_message(sim: TelegramSimulator, doc: dict[str, Any]) -> ReceivedMessage:
    where = doc["progress_message"]
    return next(m for m in sim.inbox(where["chat_id"]) if m.message_id == where["message_id"])


async def as_awaitable(value: bool) -> bool:
    return value
