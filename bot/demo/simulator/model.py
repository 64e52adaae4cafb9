"""Value types of the simulated Telegram world: users, received messages, errors."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

#: One row of a keyboard as seen by the recipient: ``(button text, url or callback data)``.
ButtonRow = tuple[tuple[str, str | None], ...]


class UserState(enum.Enum):
    """What Telegram answers when the bot sends to a user.

    Attributes:
        ACTIVE: Messages are delivered.
        BLOCKED: The user blocked the bot: ``403 USER_IS_BLOCKED``.
        DEACTIVATED: The account was deleted: ``400 INPUT_USER_DEACTIVATED``.
        NEVER_STARTED: The user never opened the bot: ``400 PEER_ID_INVALID``.
    """

    ACTIVE = "active"
    BLOCKED = "blocked"
    DEACTIVATED = "deactivated"
    NEVER_STARTED = "never_started"


#: The error Telegram answers to a send, per recipient state.
STATE_ERRORS: dict[UserState, tuple[int, str]] = {
    UserState.BLOCKED: (403, "USER_IS_BLOCKED"),
    UserState.DEACTIVATED: (400, "INPUT_USER_DEACTIVATED"),
    UserState.NEVER_STARTED: (400, "PEER_ID_INVALID"),
}


@dataclass(slots=True)
class SimUser:
    """A Telegram user known to the simulator (mutable: its state may change)."""

    id: int
    state: UserState
    first_name: str
    username: str | None
    language_code: str
    is_premium: bool


@dataclass(frozen=True, slots=True)
class SimChat:
    """A basic group (``chat_id`` in -999999999999..-1) or a channel (-100...)."""

    id: int
    title: str


@dataclass(frozen=True, slots=True)
class SeenEntity:
    """Formatting of a received text: ``kind`` is the MTProto type without its
    ``MessageEntity`` prefix, in snake case (``bold``, ``text_url``, ``spoiler``,
    ``mention_name``...); ``offset`` and ``length`` count UTF-16 code units."""

    kind: str
    offset: int
    length: int
    url: str | None = None
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class SentFile:
    """A file the bot uploaded and sent (a document): its name, mime type and bytes."""

    name: str
    mime_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """What a chat received from the bot, as its member would see it.

    Attributes:
        message_id: The id Telegram assigned.
        chat_id: The recipient chat (the user id for private chats).
        text: The text, or the caption of a media message (None when empty).
        entities: The formatting of ``text``, in order.
        media: ``"photo"``, ``"video"``, ``"document"``, ``"audio"``, ``"voice"``,
            ``"animation"``, ``"sticker"``, ``"video_note"`` or None for text.
        grouped_id: Shared by the messages of one album, else None.
        buttons: Inline keyboard rows of ``(text, url or callback data)``.
        silent: Sent with ``disable_notification``.
        protected: Sent with ``protect_content`` (noforwards).
        forwarded: Arrived as a forward (has a "forwarded from" header).
        date: Unix time of delivery.
        reply_to_message_id: The message it replies to, if any.
        edited: The bot edited it after delivery (text and buttons are the latest).
        deleted: The bot deleted it after delivery.
        file: A file the bot uploaded (``media`` is ``"document"``); None for the
            simulator's own samples and for other media.
    """

    message_id: int
    chat_id: int
    text: str | None
    media: str | None
    grouped_id: int | None
    buttons: tuple[ButtonRow, ...]
    silent: bool
    protected: bool
    forwarded: bool
    date: int
    reply_to_message_id: int | None = None
    edited: bool = False
    deleted: bool = False
    entities: tuple[SeenEntity, ...] = ()
    file: SentFile | None = None


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The bot's answer to a callback query (``messages.SetBotCallbackAnswer``)."""

    query_id: int
    user_id: int
    text: str | None
    alert: bool
    url: str | None


class SimRpcError(Exception):
    """An RPC error the simulated server answers; hydrogram maps it to its own class.

    Args:
        code: The MTProto error code (400, 403, 420, 500...).
        message: The error id, e.g. ``"FLOOD_WAIT_7"``.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"[{code} {message}]")
        self.code = code
        self.message = message


def access_hash_for(peer_id: int) -> int:
    """Return the stable, positive 63-bit access hash the simulator gives a peer or file."""
    return (peer_id * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0x7FFF_FFFF_FFFF_FFFF
