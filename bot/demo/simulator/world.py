"""The simulated server's state and the steps every send goes through."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hydrogram import raw

from bot.demo.simulator.faults import FaultPlan
from bot.demo.simulator.limits import FloodControl, LimitRules
from bot.demo.simulator.media import Media, MediaRegistry
from bot.demo.simulator.model import (
    STATE_ERRORS,
    ButtonRow,
    CallbackAnswer,
    ReceivedMessage,
    SeenEntity,
    SimRpcError,
)
from bot.demo.simulator.peers import Directory, is_channel, peer_of
from bot.demo.simulator.store import Inbox, MessageStore
from bot.demo.simulator.uploads import UploadedParts

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
#: A bot may delete a message only in the 48 hours after it was sent (MESSAGE_DELETE_FORBIDDEN).
BOT_DELETE_WINDOW_S = 48 * 3600


def check_text(text: str, *, caption: bool) -> None:
    """Reject what Telegram rejects: empty texts and texts or captions over the limit."""
    if caption:
        if len(text) > CAPTION_LIMIT:
            raise SimRpcError(400, "MEDIA_CAPTION_TOO_LONG")
    elif not text.strip():
        raise SimRpcError(400, "MESSAGE_EMPTY")
    elif len(text) > TEXT_LIMIT:
        raise SimRpcError(400, "MESSAGE_TOO_LONG")


def buttons_of(markup: raw.base.ReplyMarkup | None) -> tuple[ButtonRow, ...]:
    """Return keyboard rows as ``(text, url or callback data)`` pairs."""
    if not isinstance(markup, raw.types.ReplyInlineMarkup | raw.types.ReplyKeyboardMarkup):
        return ()
    return tuple(tuple(_button(button) for button in row.buttons) for row in markup.rows)


def entities_of(entities: Sequence[raw.base.MessageEntity] | None) -> tuple[SeenEntity, ...]:
    """Return a text's entities as a reader sees them (``MessageEntityTextUrl`` -> ``text_url``)."""
    seen = []
    for entity in entities or ():
        name = type(entity).__name__.removeprefix("Input").removeprefix("MessageEntity")
        user = getattr(entity, "user_id", None)
        seen.append(
            SeenEntity(
                kind=_CAMEL_HUMP.sub("_", name).lower(),
                offset=entity.offset,
                length=entity.length,
                url=getattr(entity, "url", None),
                user_id=getattr(user, "user_id", user),
            )
        )
    return tuple(seen)


_CAMEL_HUMP = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _button(button: raw.base.KeyboardButton) -> tuple[str, str | None]:
    if isinstance(button, raw.types.KeyboardButtonUrl):
        return button.text, button.url
    if isinstance(button, raw.types.KeyboardButtonCallback):
        return button.text, button.data.decode("utf-8", "replace")
    return str(getattr(button, "text", "")), None


class SimWorld:
    """Everything the simulated server knows, shared by the request handlers.

    Args:
        directory: The bot, users and chats.
        rules: Flood limits.
        faults: Latency and failure injection.
        clock: Monotonic seconds; drives limits and message dates.
        date_origin: Unix time that ``clock()`` at construction maps to.
    """

    def __init__(
        self,
        *,
        directory: Directory,
        rules: LimitRules,
        faults: FaultPlan,
        clock: Callable[[], float],
        date_origin: float,
    ) -> None:
        self.directory = directory
        self.limits = FloodControl(rules)
        self.faults = faults
        self.clock = clock
        self.store = MessageStore()
        self.inbox = Inbox()
        self.media = MediaRegistry()
        self.uploads = UploadedParts()
        self.flood_waits = 0
        self.pts = 0
        self.callback_answers: list[CallbackAnswer] = []
        self.open_queries: dict[int, int] = {}
        #: Per chat, the ``random_id`` of every message delivered there: Telegram refuses a
        #: repeat with ``RANDOM_ID_DUPLICATE`` ("prevent message resending").
        self.random_ids: dict[int, set[int]] = {}
        self.duplicates_refused = 0
        #: Every edit or delete of delivered messages asked: ``(kind, chat id, message ids)``.
        self.touches: list[tuple[str, int, tuple[int, ...]]] = []
        #: Seconds after which an edit of a message is ``400 MESSAGE_EDIT_TIME_EXPIRED``;
        #: None (the default): no limit, as the Bot API documents none for a bot's own
        #: messages (only for business messages it did not send).
        self.edit_window_s: float | None = None
        self._date_shift = date_origin - clock()
        self._next_serial = 1

    def date(self) -> int:
        """Return the current Unix time of the simulated world."""
        return int(self._date_shift + self.clock())

    def pass_time(self, seconds: float) -> None:
        """Move the world's calendar on: messages are that much older (flood limits, on the
        monotonic clock, are untouched)."""
        self._date_shift += seconds

    def next_pts(self, count: int = 1) -> int:
        """Advance the update sequence by ``count`` and return it."""
        self.pts += count
        return self.pts

    def serial(self) -> int:
        """Return a fresh id for grouped ids and callback query ids."""
        self._next_serial += 1
        return 0x5151_0000_0000_0000 + self._next_serial

    def admit(self, chat_id: int, random_ids: Sequence[int], *, paid: bool = False) -> None:
        """Let a send of these messages to ``chat_id`` through, or raise what Telegram answers.

        Order: transient server failure (not counted), a ``random_id`` already delivered
        to this chat (``500 RANDOM_ID_DUPLICATE``, not counted), flood control
        (FLOOD_WAIT, not counted), then the send is counted and scripted failures and
        the recipient's state apply.
        """
        failure = self.faults.transient()
        if failure is not None:
            raise failure
        seen = self.random_ids.get(chat_id, ())
        if any(random_id in seen for random_id in random_ids):
            self.duplicates_refused += 1
            raise SimRpcError(500, "RANDOM_ID_DUPLICATE")
        count = len(random_ids)
        now = self.clock()
        wait = self.limits.wait_for(chat_id, count, now, paid=paid)
        if wait:
            self.flood_waits += 1
            raise SimRpcError(420, f"FLOOD_WAIT_{wait}")
        self.limits.record(chat_id, count, now)
        failure = self.faults.scripted(chat_id)
        if failure is not None:
            raise failure.with_traceback(None)
        user = self.directory.users.get(chat_id)
        if user is not None and user.state in STATE_ERRORS:
            raise SimRpcError(*STATE_ERRORS[user.state])

    def compose(
        self,
        chat_id: int,
        *,
        sender: int | None,
        text: str,
        entities: Sequence[raw.base.MessageEntity] | None = None,
        media: Media | None = None,
        reply_markup: raw.base.ReplyMarkup | None = None,
        silent: bool = False,
        noforwards: bool = False,
        reply_to_msg_id: int | None = None,
        grouped_id: int | None = None,
        fwd_from: raw.types.MessageFwdHeader | None = None,
    ) -> raw.types.Message:
        """Build a new message of ``chat_id`` with the next id.

        In a channel every message is a post without ``from_id``; ``sender`` None
        there means a post by someone other than the bot.
        """
        channel = is_channel(chat_id)
        # hydrogram annotates optional TL fields without None, hence the untyped mapping.
        optional: dict[str, Any] = {
            "from_id": None if channel or sender is None else raw.types.PeerUser(user_id=sender),
            "fwd_from": fwd_from,
            "reply_to": None
            if reply_to_msg_id is None
            else raw.types.MessageReplyHeader(reply_to_msg_id=reply_to_msg_id),
            "media": media,
            "reply_markup": reply_markup,
        }
        return raw.types.Message(
            id=self.store.next_id(chat_id),
            peer_id=peer_of(chat_id),
            date=self.date(),
            message=text,
            out=sender == self.directory.bot_id or None,
            silent=silent or None,
            post=channel or None,
            noforwards=noforwards or None,
            entities=list(entities) if entities else None,
            grouped_id=grouped_id,
            **optional,
        )

    def deliver(
        self, chat_id: int, messages: Sequence[raw.types.Message], random_ids: Sequence[int]
    ) -> raw.base.Updates:
        """Store and record delivered messages; return the reply of the send."""
        updates: list[raw.base.Update] = []
        # Its own ints, as a server keeps its own bytes: the caller's objects are never
        # pinned (the memory benchmark counts what the bot's code keeps alive).
        self.random_ids.setdefault(chat_id, set()).update(int(str(r)) for r in random_ids)
        for message, random_id in zip(messages, random_ids, strict=True):
            self.store.put(chat_id, message)
            self.inbox.add(self._received(chat_id, message))
            updates.append(raw.types.UpdateMessageID(id=message.id, random_id=random_id))
        if chat_id in self.faults.too_long:
            self.faults.too_long.discard(chat_id)
            return raw.types.UpdatesTooLong()
        channel = is_channel(chat_id)
        new = raw.types.UpdateNewChannelMessage if channel else raw.types.UpdateNewMessage
        updates.extend(new(message=m, pts=self.next_pts(), pts_count=1) for m in messages)
        return self.updates(updates, messages)

    def updates(
        self,
        updates: list[raw.base.Update],
        messages: Iterable[raw.base.Message],
        user_ids: Iterable[int] = (),
    ) -> raw.types.Updates:
        """Wrap updates with the users and chats needed to parse them."""
        users, chats = self.directory.parties(messages, user_ids)
        return raw.types.Updates(updates=updates, users=users, chats=chats, date=self.date(), seq=0)

    def _received(self, chat_id: int, message: raw.types.Message) -> ReceivedMessage:
        reply_to = message.reply_to
        return ReceivedMessage(
            message_id=message.id,
            chat_id=chat_id,
            text=message.message or None,
            media=self.media.kind_of(message.media),
            grouped_id=message.grouped_id,
            buttons=buttons_of(message.reply_markup),
            silent=bool(message.silent),
            protected=bool(message.noforwards),
            forwarded=message.fwd_from is not None,
            date=message.date,
            reply_to_message_id=reply_to.reply_to_msg_id
            if isinstance(reply_to, raw.types.MessageReplyHeader)
            else None,
            entities=entities_of(message.entities),
            file=self.media.file_of(message.media),
        )
