"""What every handler needs: the core, the queue, the settings, and a few shared helpers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import hydrogram
from hydrogram.enums import ParseMode as HydrogramParseMode
from hydrogram.errors import FloodWait
from hydrogram.types import InlineKeyboardMarkup, Message

from bot.admin.handlers.pending import PendingInputs
from bot.app import Core
from bot.delivery.content import TextEntity
from bot.delivery.errors import BroadcastNotFoundError
from bot.delivery.model import as_utc
from bot.delivery.service import Audience
from bot.telegram.requests import message_entities
from config.settings import Settings

if TYPE_CHECKING:
    from bot.admin.board import StatusBoard
    from bot.admin.queue import BroadcastQueue

log = logging.getLogger(__name__)
T = TypeVar("T")

ADMINS_ONLY = "⛔ Admins only."
#: A reply to an admin waits out a FloodWait up to this long, then gives up.
SAY_FLOOD_WAIT_CAP_S = 30.0
#: Telegram's limit is 4096 characters of text; a little room for safety.
MESSAGE_LIMIT = 4000
EXPIRED = "This button has expired."


@dataclass(frozen=True, slots=True)
class Timing:
    """How long an admin has to answer the bot; how often waiting broadcasts are redrawn."""

    ask_timeout_s: float = 60.0
    confirm_ttl: timedelta = timedelta(minutes=10)
    #: Waiting broadcasts' status messages are refreshed (and pause reminders checked) this often.
    status_refresh_s: float = 30.0


@dataclass(slots=True)
class BotContext:
    """The state shared by the handlers of one installed bot."""

    client: hydrogram.Client
    core: Core
    queue: BroadcastQueue
    settings: Settings
    timing: Timing = field(default_factory=Timing)
    pending: PendingInputs = field(default_factory=PendingInputs)
    on_schedules_changed: Callable[[], Awaitable[None]] | None = None
    records_users: bool = False
    board: StatusBoard | None = None

    @property
    def bot_username(self) -> str | None:
        """The bot's @username, for ``/cmd@Name`` commands; None before the client starts."""
        me = getattr(self.client, "me", None)
        return getattr(me, "username", None)

    def now(self) -> datetime:
        """The wall clock the broadcast records use."""
        return self.core.service.now()

    async def is_admin(self, user_id: int | None) -> bool:
        """``ADMIN_IDS``, or a user whose document has ``role: "admin"``."""
        if user_id is None:
            return False
        if user_id in self.settings.admin_ids:
            return True
        fields = self.core.users.fields
        query = {fields.user_id: user_id, fields.role: "admin"}
        doc = await self.core.users.docs.find_one(query, {"_id": 1})
        return doc is not None

    async def recipient_count(self, audience: Audience) -> int:
        """How many users a broadcast to ``audience`` reaches now."""
        if self.core.service.test_mode.enabled:
            return len(self.core.service.test_mode.users)
        if audience.user_ids is not None:
            return len(audience.user_ids)
        if audience.segments is not None:
            query = self.core.segments.compile(audience.segments, audience.excludes, self.now())
            return await self.core.users.count(query)
        return await self.core.users.count(audience.query or {})

    async def schedules_changed(self) -> None:
        """Tell the scheduler that a broadcast was scheduled, moved or cancelled.

        The change is already stored: if the scheduler cannot take it now, its next
        sweep will, so a failure here is logged, not shown as the command's failure.
        """
        if self.on_schedules_changed is None:
            return
        try:
            await self.on_schedules_changed()
        except Exception:
            log.exception("the scheduler could not sync now; its next sweep will")

    async def named_broadcast(self, message: Message, broadcast_id: str) -> dict[str, Any] | None:
        """The document of the broadcast an admin's command named, or None after
        answering that there is no such broadcast."""
        try:
            return await self.core.store.get(broadcast_id)
        except BroadcastNotFoundError:
            await self.say(message.chat.id, f"No broadcast {broadcast_id}.", reply_to=message.id)
            return None

    async def say(
        self,
        chat_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        entities: Sequence[TextEntity] = (),
    ) -> Message:
        """Send plain text (no markup parsing: usage lines contain ``--`` and ``||``),
        formatted by ``entities`` only."""
        options = _formatting(entities)
        if markup is not None:
            options["reply_markup"] = markup
        if reply_to is not None:
            options["reply_to_message_id"] = reply_to
        return await _waiting_once(lambda: self.client.send_message(chat_id, text, **options))

    async def send_file(
        self, chat_id: int, path: Path, *, caption: str = "", reply_to: int | None = None
    ) -> None:
        """Upload the file at ``path`` and send it as a document named as the file, with a
        plain-text ``caption``; a FloodWait is waited out once, as for :meth:`say`."""
        options: dict[str, Any] = {
            "caption": caption,
            "parse_mode": HydrogramParseMode.DISABLED,
            "file_name": path.name,
        }
        if reply_to is not None:
            options["reply_to_message_id"] = reply_to
        await _waiting_once(lambda: self.client.send_document(chat_id, str(path), **options))

    async def delete(self, chat_id: int, message_id: int) -> None:
        """Delete one of the bot's messages; failures are ignored (it is tidying up)."""
        try:
            await self.client.delete_messages(chat_id, message_id)
        except Exception:
            return

    async def say_long(self, chat_id: int, text: str, *, reply_to: int | None = None) -> None:
        """Send ``text`` in as many messages as Telegram's 4096-character limit needs.

        Cuts between blocks (blank lines), else between lines, so no entry is split.
        """
        for number, part in enumerate(split_text(text)):
            await self.say(chat_id, part, reply_to=reply_to if number == 0 else None)

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        entities: Sequence[TextEntity] = (),
    ) -> None:
        """Edit one of the bot's messages (no ``markup``: no buttons; formatted by
        ``entities`` only); failures are ignored."""
        options = _formatting(entities)
        if markup is not None:
            options["reply_markup"] = markup
        try:
            await self.client.edit_message_text(chat_id, message_id, text, **options)
        except Exception:  # not modified, deleted, flood: the edit is cosmetic
            return


async def _waiting_once(send: Callable[[], Awaitable[T]]) -> T:
    """``send()``; after a FloodWait of at most :data:`SAY_FLOOD_WAIT_CAP_S`, once more (the
    client never sleeps, ``sleep_threshold=0``: we do)."""
    try:
        return await send()
    except FloodWait as flood:
        wait = float(flood.value or 0)
        if wait > SAY_FLOOD_WAIT_CAP_S:
            raise
        await asyncio.sleep(wait)
        return await send()


def _formatting(entities: Sequence[TextEntity]) -> dict[str, Any]:
    """No markup parsing; the entities, if any (hydrogram then ignores the parse mode)."""
    options: dict[str, Any] = {"parse_mode": HydrogramParseMode.DISABLED}
    if entities:
        options["entities"] = message_entities(entities)
    return options


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut at blank lines, else lines."""
    parts: list[str] = []
    current = ""
    for block in _pieces(text, limit):
        joined = f"{current}\n\n{block}" if current else block
        if len(joined) <= limit:
            current = joined
            continue
        parts.append(current)
        current = block
    return [*parts, current] if current else parts


def _pieces(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for block in text.split("\n\n"):
        if len(block) <= limit:
            pieces.append(block)
            continue
        lines = [
            line[i : i + limit]
            for line in block.split("\n")
            for i in range(0, len(line) or 1, limit)
        ]
        pieces += _pack(lines, limit)
    return pieces


def _pack(lines: list[str], limit: int) -> list[str]:
    packed: list[str] = []
    for line in lines:
        if packed and len(packed[-1]) + 1 + len(line) <= limit:
            packed[-1] += "\n" + line
        else:
            packed.append(line)
    return packed


def aware(value: Any) -> datetime | None:
    """A stored datetime as UTC-aware (mongomock and tz-naive clients return naive ones)."""
    return as_utc(value)
