"""Messages of the bot's chats and what each chat received."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable
from io import BytesIO
from typing import Any, TypeVar, cast

from hydrogram import raw
from hydrogram.raw.core import TLObject

from bot.demo.simulator.model import ReceivedMessage
from bot.demo.simulator.peers import is_channel

_T = TypeVar("_T")


def decode(data: bytes) -> Any:
    """Parse wire bytes into a TL object, as hydrogram's session does.

    Raises:
        ValueError: The bytes hold more than one object (a malformed write).
    """
    buffer = BytesIO(data)
    result = TLObject.read(buffer)
    if buffer.tell() != len(data):
        raise ValueError(f"malformed TL bytes: {len(data) - buffer.tell()} bytes left over")
    return result


_FLAGGED: dict[str, frozenset[str]] = {}


def _flagged(obj: TLObject) -> frozenset[str]:
    """Return the optional (flag-guarded) fields of a TL object: those defaulting to None."""
    fields = _FLAGGED.get(obj.QUALNAME)
    if fields is None:
        parameters = inspect.signature(type(obj)).parameters
        fields = frozenset(name for name, p in parameters.items() if p.default is None)
        _FLAGGED[obj.QUALNAME] = fields
    return fields


def writable(obj: _T) -> _T:
    """Make an object decoded from bytes safe to write again, in place.

    hydrogram decodes an absent optional vector as ``[]`` but writes any non-None vector
    while setting its flag only when non-empty, so writing it back corrupts the bytes.
    """
    _clear_empty_optionals(obj)
    return obj


def _clear_empty_optionals(obj: object) -> None:
    if isinstance(obj, list):
        for item in obj:
            _clear_empty_optionals(item)
    elif isinstance(obj, TLObject):
        flagged = _flagged(obj)
        for name in obj.__slots__:
            value = getattr(obj, name)
            if isinstance(value, list) and not value and name in flagged:
                setattr(obj, name, None)
            elif isinstance(value, list | TLObject):
                _clear_empty_optionals(value)


class MessageStore:
    """Messages of the bot's chats, kept as wire bytes so every reader gets a fresh copy.

    Private chats and basic groups share one id sequence, as in MTProto
    (``messages.GetMessages`` takes ids without a peer); each channel has its own.
    """

    def __init__(self) -> None:
        self._box: dict[int, tuple[int, bytes]] = {}
        self._channels: dict[int, dict[int, bytes]] = {}
        self._next_box_id = 1
        self._next_channel_ids: dict[int, int] = {}

    def next_id(self, chat_id: int) -> int:
        """Reserve the next message id of ``chat_id``."""
        if is_channel(chat_id):
            message_id = self._next_channel_ids.get(chat_id, 1)
            self._next_channel_ids[chat_id] = message_id + 1
            return message_id
        message_id = self._next_box_id
        self._next_box_id += 1
        return message_id

    def put(self, chat_id: int, message: raw.types.Message) -> None:
        """Store (or replace) ``message`` of ``chat_id``."""
        data = message.write()
        if is_channel(chat_id):
            self._channels.setdefault(chat_id, {})[message.id] = data
        else:
            self._box[message.id] = (chat_id, data)

    def get(self, chat_id: int | None, message_id: int) -> raw.types.Message | None:
        """Return a fresh copy of a message; ``chat_id`` None searches the shared id box."""
        if chat_id is not None and is_channel(chat_id):
            data = self._channels.get(chat_id, {}).get(message_id)
        else:
            entry = self._box.get(message_id)
            data = entry[1] if entry and chat_id in (None, entry[0]) else None
        return None if data is None else cast(raw.types.Message, writable(decode(data)))

    def delete(self, chat_id: int | None, message_ids: Iterable[int]) -> list[tuple[int, int]]:
        """Delete messages; return ``(chat_id, message_id)`` of those that existed."""
        deleted: list[tuple[int, int]] = []
        for message_id in message_ids:
            if chat_id is not None and is_channel(chat_id):
                if self._channels.get(chat_id, {}).pop(message_id, None) is not None:
                    deleted.append((chat_id, message_id))
            elif (entry := self._box.pop(message_id, None)) is not None:
                deleted.append((entry[0], message_id))
        return deleted


class Inbox:
    """Per chat, the messages the bot delivered, in delivery order."""

    def __init__(self) -> None:
        self._by_chat: dict[int, list[ReceivedMessage]] = {}
        self._box_chat: dict[int, int] = {}  # message id -> chat, outside channels
        self.total = 0

    def add(self, received: ReceivedMessage) -> None:
        """Record one delivered message."""
        self._by_chat.setdefault(received.chat_id, []).append(received)
        if not is_channel(received.chat_id):
            self._box_chat[received.message_id] = received.chat_id
        self.total += 1

    def chat_of(self, message_id: int) -> int | None:
        """The private chat or basic group a message was delivered to (deleted or not)."""
        return self._box_chat.get(message_id)

    def of(self, chat_id: int) -> list[ReceivedMessage]:
        """Return a copy of what ``chat_id`` received."""
        return list(self._by_chat.get(chat_id, ()))

    def counts(self) -> dict[int, int]:
        """Return the number of messages each chat received."""
        return {chat_id: len(items) for chat_id, items in self._by_chat.items()}

    def update(self, chat_id: int, message_id: int, **changes: Any) -> None:
        """Apply ``changes`` (fields of :class:`ReceivedMessage`) to a delivered message."""
        items = self._by_chat.get(chat_id, [])
        for index in range(len(items) - 1, -1, -1):
            if items[index].message_id == message_id:
                items[index] = dataclasses.replace(items[index], **changes)
                return
