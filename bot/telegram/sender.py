"""The hydrogram adapter: the one module that sends broadcast messages through hydrogram.

hydrogram's exceptions are mapped to ours here and never leave this module:
:class:`~bot.delivery.errors.FloodWaitError` for flood control,
:class:`~bot.delivery.errors.SendError` with a category for everything else, including
the ``AttributeError`` that
hydrogram 0.2.0 raises for some error codes it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import hydrogram
from hydrogram import enums, raw, utils
from hydrogram.errors import Flood, RPCError
from hydrogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.delivery.content import (
    MAX_CAPTION,
    MAX_TEXT,
    Content,
    CopyContent,
    Delivery,
    ParseMode,
    TextContent,
)
from bot.delivery.errors import (
    ContentError,
    ErrorCategory,
    FloodWaitError,
    SendError,
    classify_exception,
    classify_rpc_error,
)
from bot.delivery.ports import PreparedMessage

T = TypeVar("T")

PARSE_MODES = {
    ParseMode.HTML: enums.ParseMode.HTML,
    ParseMode.MARKDOWN: enums.ParseMode.MARKDOWN,
    ParseMode.PLAIN: enums.ParseMode.DISABLED,
}
_ALBUM_KINDS = ("photo", "video", "document", "audio")
# What hydrogram's Message.copy can reproduce; anything else fails for every recipient.
_COPYABLE = (
    "text",
    *_ALBUM_KINDS,
    "animation",
    "voice",
    "sticker",
    "video_note",
    "contact",
    "location",
    "venue",
    "poll",
)


async def telegram_call(call: Callable[[], Awaitable[T]]) -> T:
    """Run one Telegram request, translating whatever it raises into our errors."""
    try:
        return await call()
    except Flood as flood:
        raise FloodWaitError(float(flood.value if isinstance(flood.value, int) else 1)) from flood
    except RPCError as error:
        code = rpc_error_id(error)
        raise SendError(classify_rpc_error(code, int(error.CODE or 0)), code) from error
    except Exception as error:
        raise SendError(classify_exception(error), f"{type(error).__name__}: {error}") from error


def rpc_error_id(error: RPCError) -> str:
    """Telegram's error id; for ids hydrogram does not know, it is only in the value text."""
    if error.ID:
        return str(error.ID)
    unknown = re.fullmatch(r"\[-?\d+ (\w+)\]", str(error.value))
    return unknown[1] if unknown else str(error.NAME or type(error).__name__)


def reply_markup(options: Delivery) -> InlineKeyboardMarkup | None:
    """The inline URL buttons of ``options``, or None."""
    if not options.buttons:
        return None
    rows = [[InlineKeyboardButton(b.text, url=b.url) for b in row] for row in options.buttons]
    return InlineKeyboardMarkup(rows)


class HydrogramSender:
    """Implements :class:`bot.delivery.pipeline.Sender` with a hydrogram client.

    The client must run with ``sleep_threshold=0`` so that hydrogram never
    sleeps through a FloodWait that the pipeline's limiter has to see.
    """

    def __init__(self, client: hydrogram.Client) -> None:
        self.client = client

    async def prepare(self, content: Content) -> PreparedMessage:
        """Validate ``content`` and fetch its source once; raises ContentError."""
        if isinstance(content, TextContent):
            return await self._prepare_text(content)
        if content.forward:
            return await self._prepare_forward(content)
        sources = await self._fetch(content)
        if len(sources) == 1:
            return _PreparedCopy(sources[0], content.options)
        return _PreparedAlbum(self.client, sources, content.options)

    async def _prepare_text(self, content: TextContent) -> PreparedMessage:
        mode = PARSE_MODES[content.parse_mode]
        try:
            parsed = await self.client.parser.parse(content.text, mode)
        except Exception as error:
            raise ContentError(
                f"the {content.parse_mode.value} markup is invalid: {error}"
            ) from error
        length = len(parsed["message"])
        if not 1 <= length <= MAX_TEXT:
            raise ContentError(
                f"text must be 1-{MAX_TEXT} characters after formatting, got {length}"
            )
        return _PreparedText(self.client, content, mode)

    async def _prepare_forward(self, content: CopyContent) -> PreparedMessage:
        if content.options.buttons:
            raise ContentError("a forwarded message cannot get buttons; copy it instead")
        await self._fetch(content)
        return _PreparedForward(self.client, content)

    async def _fetch(self, content: CopyContent) -> list[Message]:
        """The source message(s); a single message of an album brings the whole album."""
        chat, ids = content.from_chat_id, list(content.message_ids)
        found = await _fetch_call(lambda: self.client.get_messages(chat, ids))
        messages = [m for m in found if m is not None and not m.empty]
        if len(messages) != len(ids):
            raise ContentError(f"message {ids} in chat {chat} no longer exists")
        if len(ids) == 1 and messages[0].media_group_id and not content.forward:
            messages = await _fetch_call(lambda: self.client.get_media_group(chat, ids[0]))
        for message in messages:
            _check_copyable(message, album=len(messages) > 1)
        return messages


async def _fetch_call(call: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await telegram_call(call)
    except (SendError, FloodWaitError) as error:
        raise ContentError(f"could not read the message to broadcast: {error}") from error


def _check_copyable(message: Message, *, album: bool) -> None:
    if message.service or not any(getattr(message, kind) for kind in _COPYABLE):
        raise ContentError("this kind of message cannot be broadcast")
    caption = message.caption or ""
    if len(caption) > MAX_CAPTION:
        raise ContentError(f"captions are limited to {MAX_CAPTION} characters, got {len(caption)}")
    if album and not any(getattr(message, kind) for kind in _ALBUM_KINDS):
        raise ContentError("an album may hold only photos, videos, documents and audio")


class _PreparedText:
    def __init__(self, client: hydrogram.Client, content: TextContent, mode: Any) -> None:
        self.client, self.content, self.mode = client, content, mode
        self.markup: Any = reply_markup(content.options)

    async def send(self, user_id: int) -> int:
        options = self.content.options
        message = await telegram_call(
            lambda: self.client.send_message(
                user_id,
                self.content.text,
                parse_mode=self.mode,
                disable_notification=options.silent,
                protect_content=options.protect,
                reply_markup=self.markup,
            )
        )
        return int(message.id)


class _PreparedCopy:
    def __init__(self, source: Message, options: Delivery) -> None:
        self.source, self.options = source, options
        self.markup: Any = reply_markup(options) or object  # object: keep the original buttons

    async def send(self, user_id: int) -> int:
        message: Any = await telegram_call(
            lambda: self.source.copy(
                user_id,
                disable_notification=self.options.silent,
                protect_content=self.options.protect,
                reply_markup=self.markup,
            )
        )
        return int(message.id)


class _PreparedForward:
    def __init__(self, client: hydrogram.Client, content: CopyContent) -> None:
        self.client, self.content = client, content

    async def send(self, user_id: int) -> int:
        c = self.content
        result: Any = await telegram_call(
            lambda: self.client.forward_messages(
                user_id,
                c.from_chat_id,
                list(c.message_ids),
                disable_notification=c.options.silent,
                protect_content=c.options.protect,
            )
        )
        first = result[0] if isinstance(result, list) else result
        return int(first.id)


class _PreparedAlbum:
    """Sends ``messages.SendMultiMedia`` itself: hydrogram's ``copy_media_group`` fetches
    the album again for every recipient and sleeps through FloodWaits of up to 60 s."""

    def __init__(self, client: hydrogram.Client, sources: list[Message], options: Delivery) -> None:
        self.client, self.options = client, options
        self.items = [(_input_media(m), m.caption or "", m.caption_entities) for m in sources]

    async def send(self, user_id: int) -> int:
        return await telegram_call(lambda: self._send(user_id))

    async def _send(self, user_id: int) -> int:
        multi = []
        for media, caption, entities in self.items:
            raw_entities = [await _write(e) for e in entities] if entities else None
            multi.append(
                raw.types.InputSingleMedia(
                    media=media,
                    random_id=self.client.rnd_id(),
                    message=caption,
                    entities=raw_entities,
                )
            )
        updates = await self.client.invoke(
            raw.functions.messages.SendMultiMedia(
                peer=cast(Any, await self.client.resolve_peer(user_id)),
                multi_media=multi,
                silent=self.options.silent or None,
                noforwards=self.options.protect or None,
            )
        )
        for update in updates.updates:
            if isinstance(update, raw.types.UpdateNewMessage | raw.types.UpdateNewChannelMessage):
                return int(update.message.id)
        raise SendError(ErrorCategory.UNKNOWN, "NO_MESSAGE_IN_REPLY")


def _input_media(message: Message) -> Any:
    for kind in _ALBUM_KINDS:
        media = getattr(message, kind)
        if media:
            return utils.get_input_media_from_file_id(media.file_id)
    raise ContentError("an album may hold only photos, videos, documents and audio")


async def _write(entity: Any) -> Any:
    """The raw form of a parsed caption entity."""
    return await entity.write()
