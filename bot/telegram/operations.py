"""Deleting and editing a broadcast's copies: the requests of an operation, per recipient.

:func:`prepare_operation` is :meth:`HydrogramSender.prepare
<bot.telegram.sender.HydrogramSender.prepare>` for a
:class:`~bot.delivery.operations.DeleteContent` or an
:class:`~bot.delivery.operations.EditContent`. Each batch's ``resolve`` loads the copies
of its recipients from the original's ledger (the :data:`SentLookup
<bot.delivery.operations.SentLookup>` the composition root injects) and reports those
that cannot be acted on (ids never learnt, past Telegram's 48 hours for a delete): the
pipeline records them as failed with :meth:`refusal`'s reason, without a request.

- A delete is one ``messages.DeleteMessages`` (``revoke``) of every id of the copy (an
  album whole). Telegram answers how many messages went; none means the copy was gone
  already (an earlier attempt whose answer was lost): done, recorded ``duplicate``.
- An edit is one ``messages.EditMessage`` of the copy's text, or of the caption of the
  album item that carries it, with the keyboard the original send built (the new URL
  buttons in place of the old, when given; the reaction row stays). An edit without
  a keyboard would remove it, as Telegram's edits do. ``MESSAGE_NOT_MODIFIED``: done;
  ``MESSAGE_EDIT_TIME_EXPIRED`` (Telegram would not edit that copy any more): recorded
  ``forbidden``, too old to edit. No age is refused before asking: the Bot API
  documents no edit limit for a bot's own messages.
  What an edit may become is checked once, here: a text stays a text of 1-4096
  characters, a caption a caption of at most 1024, after formatting; a forward is not
  edited (Telegram refuses edits of forwarded messages); nor are media without a
  caption (stickers, video notes) or contacts, locations and polls. Placeholders in
  the new text are filled for each recipient as a send fills them
  (:mod:`bot.telegram.personal`: a batch's values in one look-up when it is resolved).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import hydrogram
from hydrogram import enums, raw
from hydrogram.types import Message

from bot.delivery.content import (
    ALBUM_MAX,
    MAX_CAPTION,
    MAX_TEXT,
    CopyContent,
    ParseMode,
    TextContent,
)
from bot.delivery.errors import (
    ContentError,
    ErrorCategory,
    SendError,
    StorageUnavailableError,
)
from bot.delivery.operations import (
    EDIT_TOO_OLD,
    GONE,
    IDS_UNKNOWN,
    TOO_OLD,
    DeleteContent,
    EditContent,
    Operation,
    SentCopy,
    SentLookup,
)
from bot.delivery.ports import PreparedMessage, Receipt
from bot.telegram.calls import invoke_once, read_call, telegram_call
from bot.telegram.peers import PeerBook
from bot.telegram.personal import Personalizer, ProfileLookup, no_profiles, part, request_body
from bot.telegram.requests import FILE_KINDS, kind_of, message_entities, written_entities

#: Media whose copies carry no caption to edit.
_NO_CAPTION = frozenset({"sticker", "video_note"})
DELETE_FORBIDDEN = "MESSAGE_DELETE_FORBIDDEN"
NOT_MODIFIED = "MESSAGE_NOT_MODIFIED"
EDIT_EXPIRED = "MESSAGE_EDIT_TIME_EXPIRED"
_GONE_CODES = frozenset({"MESSAGE_ID_INVALID", "MSG_ID_INVALID"})
#: Writes the keyboard an edit puts on the copies: ``(edit, the copied message or None)``
#: -> the raw markup, or None for none.
EditKeyboard = Callable[[EditContent, Message | None], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class OperationSupport:
    """What operations need beyond the client: the original's copies, and the time."""

    sent: SentLookup
    now: Callable[[], datetime]


async def prepare_operation(
    client: hydrogram.Client,
    peers: PeerBook,
    support: OperationSupport | None,
    operation: Operation,
    *,
    modes: Mapping[ParseMode, enums.ParseMode],
    keyboard: EditKeyboard,
    profiles: ProfileLookup = no_profiles,
) -> PreparedMessage:
    """The prepared delete or edit: ``modes`` are how a send reads markup, ``keyboard``
    writes the keyboard an edit puts on the copies, ``profiles`` loads the recipients'
    values of the placeholders in the new text (as a send's do).

    Raises:
        ContentError: The edit cannot be made (see the module docstring), or operations
            are not wired in (no ``support``).
    """
    if support is None:
        raise ContentError("deleting and editing sent broadcasts is not set up in this bot")
    if isinstance(operation, DeleteContent):
        return PreparedDelete(client, _Copies(support, operation.of))
    caption, item, source = await _shape(client, operation)
    markup = await keyboard(operation, source)
    text, entities = await _parsed(client, operation.text, modes)
    limit, what = (MAX_CAPTION, "caption") if caption else (MAX_TEXT, "text")
    body, personal = request_body(part(text, entities, limit, what))
    size = len(body["message"])
    if personal is None and caption and size > MAX_CAPTION:
        raise ContentError(
            f"a caption stays a caption: at most {MAX_CAPTION} characters after formatting, "
            f"got {size}"
        )
    if personal is None and not caption and not 1 <= size <= MAX_TEXT:
        raise ContentError(
            f"a text stays a text: 1-{MAX_TEXT} characters after formatting, got {size}"
        )
    fields = {**body, "reply_markup": markup}
    personalizer = Personalizer(personal, profiles) if personal else None
    copies = _Copies(support, operation.of)
    return PreparedEdit(client, peers, copies, item, fields, personalizer)


async def _parsed(
    client: hydrogram.Client, content: TextContent, modes: Mapping[ParseMode, enums.ParseMode]
) -> tuple[str, Any]:
    """The new text and its written entities, formatted as a send formats it."""
    try:
        if content.parse_mode is ParseMode.ENTITIES:
            written = await written_entities(message_entities(content.entities), client)
            return content.text, written
        parsed = await client.parser.parse(content.text, modes[content.parse_mode])
    except Exception as error:
        raise ContentError(f"the {content.parse_mode.value} markup is invalid: {error}") from error
    return str(parsed["message"]), parsed["entities"] or None


async def _shape(client: hydrogram.Client, edit: EditContent) -> tuple[bool, int, Message | None]:
    """Whether the copies carry the text as a caption, which album item carries it, and
    the single message the original copied (None: a text, or an album)."""
    original = edit.original
    if not isinstance(original, CopyContent):
        return False, 0, None
    if original.forward:
        raise ContentError("a forwarded message cannot be edited (Telegram does not allow it)")
    sources = await _sources(client, original)
    single = sources[0] if len(sources) == 1 else None
    kinds = [kind_of(source) for source in sources]
    if single is not None and kinds[0] == "text":
        return False, 0, single
    if any(kind not in FILE_KINDS or kind in _NO_CAPTION for kind in kinds):
        kind = next(k for k in kinds if k not in FILE_KINDS or k in _NO_CAPTION)
        raise ContentError(f"a {kind} has no text or caption to edit")
    captioned = [index for index, source in enumerate(sources) if source.caption]
    return True, captioned[0] if captioned else 0, single


async def _sources(client: hydrogram.Client, content: CopyContent) -> list[Message]:
    """The message(s) the original copied, as its send read them (an album whole)."""
    chat, ids = content.from_chat_id, list(content.message_ids)
    what = "the message the broadcast copied"
    found = await read_call(lambda: client.get_messages(chat, ids), what)
    messages = [m for m in (found if isinstance(found, list) else [found]) if m and not m.empty]
    if len(messages) != len(ids):
        raise ContentError(
            f"the message the broadcast copied ({ids} in chat {chat}) is gone, so what its "
            "copies are (a text, a caption) cannot be told"
        )
    if len(ids) == 1 and messages[0].media_group_id:
        messages = await read_call(lambda: client.get_media_group(chat, ids[0]), what)
        messages = messages[:ALBUM_MAX]
    return messages


class _Copies:
    """The copies of the recipients of the current batches, loaded a batch at a time."""

    def __init__(self, support: OperationSupport, original: str) -> None:
        self.support, self.original = support, original
        self.known: dict[int, SentCopy] = {}

    async def load(self, user_ids: Sequence[int]) -> None:
        try:
            self.known.update(await self.support.sent(self.original, user_ids))
        except StorageUnavailableError as error:  # resolve and send retry a transient failure
            raise SendError(
                ErrorCategory.TRANSIENT, f"the ledger is unreachable: {error}"
            ) from error

    async def of(self, user_id: int) -> SentCopy | None:
        if user_id not in self.known:
            await self.load([user_id])
        return self.known.get(user_id)

    def forget(self, user_id: int) -> None:
        self.known.pop(user_id, None)


class PreparedDelete:
    """Deletes each recipient's copy of the original (a :class:`~bot.delivery.ports.Refusing`)."""

    def __init__(self, client: hydrogram.Client, copies: _Copies) -> None:
        self.client, self.copies = client, copies

    async def resolve(self, user_ids: Sequence[int]) -> list[int]:
        await self.copies.load(user_ids)
        return [uid for uid in user_ids if self.refusal(uid, forget=False) is not None]

    def refusal(self, user_id: int, *, forget: bool = True) -> SendError | None:
        copy = self.copies.known.get(user_id)
        if forget:
            self.copies.forget(user_id)
        if copy is None or not copy.message_ids:
            return SendError(ErrorCategory.UNKNOWN, IDS_UNKNOWN)
        if copy.too_old_to_delete(self.copies.support.now()):
            return SendError(ErrorCategory.FORBIDDEN, TOO_OLD)
        return None

    async def send(self, user_id: int, key: str | None = None) -> Receipt:
        copy = await self.copies.of(user_id)
        refused = self.refusal(user_id, forget=False)
        if copy is None or refused is not None:
            raise refused or SendError(ErrorCategory.UNKNOWN, IDS_UNKNOWN)
        request = raw.functions.messages.DeleteMessages(id=list(copy.message_ids), revoke=True)
        try:
            reply = await telegram_call(lambda: invoke_once(self.client, request))
        except SendError as error:
            if error.code == DELETE_FORBIDDEN:
                raise SendError(
                    ErrorCategory.FORBIDDEN, f"{DELETE_FORBIDDEN}: {TOO_OLD}"
                ) from error
            raise
        self.copies.forget(user_id)
        # None deleted: gone already (an earlier attempt whose answer was lost, or the user).
        return Receipt(copy.message_ids, duplicate=not getattr(reply, "pts_count", 1))


class PreparedEdit:
    """Edits each recipient's copy of the original (a :class:`~bot.delivery.ports.Refusing`)."""

    def __init__(
        self,
        client: hydrogram.Client,
        peers: PeerBook,
        copies: _Copies,
        item: int,
        fields: dict[str, Any],
        personal: Personalizer | None = None,
    ) -> None:
        self.client, self.peers, self.copies = client, peers, copies
        self.item, self.fields = item, fields
        #: Fills the new text with each recipient's values; None: the same text for all.
        self.personal = personal

    async def resolve(self, user_ids: Sequence[int]) -> list[int]:
        if self.personal is not None:  # the batch's values in one look-up, as a send's
            await self.personal.load(user_ids)
        unknown = await self.peers.resolve(user_ids)
        await self.copies.load(user_ids)
        refused = [uid for uid in user_ids if self.refusal(uid, forget=False) is not None]
        return list(dict.fromkeys([*unknown, *refused]))

    def refusal(self, user_id: int, *, forget: bool = True) -> SendError | None:
        copy = self.copies.known.get(user_id)
        if forget:
            self.copies.forget(user_id)
        if copy is None:  # not in the original's sent rows: then Telegram does not know them
            return None
        if len(copy.message_ids) <= self.item:
            return SendError(ErrorCategory.UNKNOWN, IDS_UNKNOWN)
        return None

    async def send(self, user_id: int, key: str | None = None) -> Receipt:
        copy = await self.copies.of(user_id)
        if copy is None or len(copy.message_ids) <= self.item:
            raise SendError(ErrorCategory.UNKNOWN, IDS_UNKNOWN)
        message_id = copy.message_ids[self.item]
        peer = self.peers.get(user_id) or await self.peers.one(user_id)
        request = raw.functions.messages.EditMessage(peer=peer, id=message_id, **self.fields)
        if self.personal is not None:
            self.personal.apply(request, await self.personal.values(user_id))
        try:
            await telegram_call(lambda: invoke_once(self.client, request))
        except SendError as error:
            if error.code == NOT_MODIFIED:  # as asked already: an earlier attempt did it
                self.copies.forget(user_id)
                return Receipt((message_id,), duplicate=True)
            if error.code in _GONE_CODES:
                raise SendError(ErrorCategory.INVALID, GONE) from error
            if error.code == EDIT_EXPIRED:  # not "content": it must not stop the run
                raise SendError(
                    ErrorCategory.FORBIDDEN, f"{EDIT_EXPIRED}: {EDIT_TOO_OLD}"
                ) from error
            raise
        self.copies.forget(user_id)
        return Receipt((message_id,))
