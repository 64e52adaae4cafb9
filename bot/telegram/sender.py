"""The hydrogram adapter: the one module that sends broadcast messages through hydrogram.

:meth:`HydrogramSender.prepare` validates the content, reads the message to copy once
and builds the request once (entities parsed, keyboard written, media resolved); each
send then fills in only the recipient's peer and the ``random_id`` derived from the
broadcast and the recipient (:mod:`bot.telegram.requests`), and goes out once,
without hydrogram's own retries, sleeps or peer bookkeeping (:func:`invoke_once`).
hydrogram's exceptions become ours in :mod:`bot.telegram.calls`. A text or caption
with placeholders is filled in for each recipient (:mod:`bot.telegram.personal`); a
reaction row is built with the broadcast's id (:mod:`bot.telegram.reactions`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import hydrogram
from hydrogram import enums, raw
from hydrogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.delivery.content import (
    ALBUM_MAX,
    MAX_CAPTION,
    MAX_TEXT,
    Content,
    CopyContent,
    Delivery,
    ParseMode,
    TextContent,
)
from bot.delivery.errors import ContentError, SendError
from bot.delivery.events import event
from bot.delivery.operations import DeleteContent, EditContent, Operation
from bot.delivery.ports import PreparedMessage, Receipt
from bot.telegram.calls import RANDOM_ID_DUPLICATE, invoke_once, read_call, telegram_call
from bot.telegram.operations import OperationSupport, prepare_operation
from bot.telegram.paid import paid_request
from bot.telegram.peers import InputPeer, PeerBook
from bot.telegram.personal import Part, Personalizer, ProfileLookup, no_profiles, part, request_body
from bot.telegram.reactions import ReactionData, with_reactions
from bot.telegram.requests import (
    ALBUM_KINDS,
    caption_of,
    input_media,
    kind_of,
    message_entities,
    message_ids,
    random_id_for,
    written_entities,
)

log = logging.getLogger(__name__)
PARSE_MODES = {
    ParseMode.HTML: enums.ParseMode.HTML,
    ParseMode.MARKDOWN: enums.ParseMode.MARKDOWN,
    ParseMode.PLAIN: enums.ParseMode.DISABLED,
}

#: Builds the request for one recipient: ``(peer, one random_id per message) -> request``.
Build = Callable[[InputPeer, list[int]], Any]


def reply_markup(options: Delivery) -> InlineKeyboardMarkup | None:
    """The inline URL buttons of ``options``, or None."""
    if not options.buttons:
        return None
    rows = [[InlineKeyboardButton(b.text, url=b.url) for b in row] for row in options.buttons]
    return InlineKeyboardMarkup(rows)


class HydrogramSender:
    """Implements :class:`bot.delivery.ports.Sender` with a hydrogram client.

    The client must run with ``sleep_threshold=0``: the requests built here never
    let hydrogram sleep through a FloodWait, and the admin bot's own replies must not
    either. One :class:`PeerBook` serves every broadcast of the process.
    """

    def __init__(
        self,
        client: hydrogram.Client,
        *,
        paid: bool = False,
        profiles: ProfileLookup | None = None,
        reaction_data: ReactionData | None = None,
    ) -> None:
        self.client = client
        self.peers = PeerBook(client)
        #: ``PAID_BROADCAST``: every send carries ``allow_paid_floodskip`` (Stars per message).
        self.paid = paid
        #: Recipients' values for placeholders, a batch per call (none: the fallbacks).
        self.profiles = profiles or no_profiles
        #: The callback data of reaction buttons (None: reactions are refused).
        self.reaction_data = reaction_data
        #: Where deletes and edits find the copies a broadcast sent (set by the composition root).
        self.operations: OperationSupport | None = None

    async def prepare(
        self, content: Content | Operation, broadcast_id: str | None = None
    ) -> PreparedMessage:
        """Validate ``content``, read its source once and build the request."""
        if isinstance(content, DeleteContent | EditContent):  # on the copies a broadcast sent
            return await prepare_operation(
                self.client,
                self.peers,
                self.operations,
                content,
                modes=PARSE_MODES,
                keyboard=self._edit_keyboard,
                profiles=self.profiles,
            )
        if isinstance(content, TextContent):
            return await self._prepare_text(content, broadcast_id)
        if content.forward:
            return await self._prepare_forward(content)
        sources = await self._fetch(content)
        if len(sources) == 1:
            return await self._prepare_copy(sources[0], content.options, broadcast_id)
        return await self._prepare_album(sources, content.options)

    async def _prepare_text(self, content: TextContent, bid: str | None) -> PreparedMessage:
        try:
            if content.parse_mode is ParseMode.ENTITIES:  # formatted in the app: sent as it is
                entities = await written_entities(message_entities(content.entities), self.client)
                parsed = {"message": content.text, "entities": entities}
            else:
                mode = PARSE_MODES[content.parse_mode]
                parsed = await self.client.parser.parse(content.text, mode)
        except Exception as error:
            raise ContentError(
                f"the {content.parse_mode.value} markup is invalid: {error}"
            ) from error
        body, personal = request_body(part(parsed["message"], parsed["entities"], MAX_TEXT))
        text = body["message"]
        if personal is None and not 1 <= len(text) <= MAX_TEXT:
            raise ContentError(
                f"text must be 1-{MAX_TEXT} characters after formatting, got {len(text)}"
            )
        options = content.options
        fixed = {
            **body,
            "reply_markup": await self._markup(self._keyboard(reply_markup(options), options, bid)),
            **_flags(options),
        }
        return self._prepared(
            lambda peer, ids: raw.functions.messages.SendMessage(
                peer=peer, random_id=ids[0], **fixed
            ),
            personal=personal,
        )

    async def _prepare_copy(
        self, source: Message, options: Delivery, bid: str | None
    ) -> PreparedMessage:
        kind = kind_of(source)
        base = reply_markup(options) or source.reply_markup
        markup = await self._markup(self._keyboard(base, options, bid))
        if kind == "text":
            written = await written_entities(source.entities, self.client)
            body, personal = request_body(part(str(source.text), written, MAX_TEXT))
            fixed = {
                **body,
                "no_webpage": None if source.web_page else True,
                "reply_markup": markup,
                **_flags(options),
            }
            return self._prepared(
                lambda peer, ids: raw.functions.messages.SendMessage(
                    peer=peer, random_id=ids[0], **fixed
                ),
                personal=personal,
            )
        caption, entities = caption_of(source, kind)
        written = await written_entities(entities, self.client)
        body, personal = request_body(part(str(caption), written, MAX_CAPTION, "caption"))
        fixed = {
            "media": input_media(source, kind),
            **body,
            "reply_markup": markup,
            **_flags(options),
        }
        return self._prepared(
            lambda peer, ids: raw.functions.messages.SendMedia(
                peer=peer, random_id=ids[0], **fixed
            ),
            personal=personal,
        )

    async def _prepare_album(self, sources: list[Message], options: Delivery) -> PreparedMessage:
        if options.reactions:
            raise ContentError("Telegram does not allow buttons on an album")
        items, parts = [], []
        for source in sources:
            kind = kind_of(source)
            if kind not in ALBUM_KINDS:
                raise ContentError("an album may hold only photos, videos, documents and audio")
            caption, entities = caption_of(source, kind)
            written = await written_entities(entities, self.client)
            parts.append(part(str(caption), written, MAX_CAPTION, "caption"))
            body, _ = request_body(parts[-1])
            items.append((input_media(source, kind), body["message"], body["entities"]))
        flags = _flags(options)

        def build(peer: InputPeer, ids: list[int]) -> Any:
            multi = [
                raw.types.InputSingleMedia(
                    media=media, random_id=rid, message=caption, entities=entities
                )
                for (media, caption, entities), rid in zip(items, ids, strict=True)
            ]
            return raw.functions.messages.SendMultiMedia(peer=peer, multi_media=multi, **flags)

        personal = parts if any(p.template.personal for p in parts) else None
        return self._prepared(build, count=len(items), personal=personal)

    async def _prepare_forward(self, content: CopyContent) -> PreparedMessage:
        if content.options.buttons or content.options.reactions:
            raise ContentError("a forwarded message cannot get buttons; copy it instead")
        await self._fetch(content)
        source = await self.peers.one(content.from_chat_id)
        ids = list(content.message_ids)
        flags = _flags(content.options)
        return self._prepared(
            lambda peer, rids: raw.functions.messages.ForwardMessages(
                from_peer=source, id=ids, random_id=rids, to_peer=peer, **flags
            ),
            count=len(ids),
        )

    async def _fetch(self, content: CopyContent) -> list[Message]:
        """The source message(s); a single message of an album brings the whole album."""
        chat, ids = content.from_chat_id, list(content.message_ids)
        what = "the message to broadcast"
        found = await read_call(lambda: self.client.get_messages(chat, ids), what)
        messages = [m for m in (found if isinstance(found, list) else [found]) if _exists(m)]
        if len(messages) != len(ids):
            raise ContentError(f"message {ids} in chat {chat} no longer exists")
        if len(ids) == 1 and messages[0].media_group_id and not content.forward:
            messages = await read_call(lambda: self.client.get_media_group(chat, ids[0]), what)
            if len(messages) > ALBUM_MAX:
                raise ContentError(f"an album has at most {ALBUM_MAX} items")
        for message in messages:
            kind_of(message)  # raises for what cannot be copied
            if len(message.caption or "") > MAX_CAPTION:
                size = len(message.caption or "")
                raise ContentError(f"captions are limited to {MAX_CAPTION} characters, got {size}")
        return messages

    async def _edit_keyboard(self, edit: EditContent, source: Message | None) -> Any:
        """The written keyboard an edit puts on the copies: the one the original send built
        (its URL buttons, else the copied message's own; its reaction row under them), with
        the edit's URL buttons in place of the old ones when it gives some."""
        base: Any = reply_markup(edit.text.options) or reply_markup(edit.original.options)
        if base is None and source is not None:
            base = source.reply_markup
        return await self._markup(self._keyboard(base, edit.original.options, edit.of))

    async def _markup(self, markup: Any) -> Any:
        return None if markup is None else await markup.write(self.client)

    def _keyboard(self, base: Any, options: Delivery, bid: str | None) -> Any:
        return with_reactions(base, options, self.reaction_data, bid)

    def _prepared(
        self, build: Build, count: int = 1, personal: Sequence[Part] | None = None
    ) -> PreparedMessage:
        if self.paid:
            free = build

            def build(peer: InputPeer, ids: list[int]) -> Any:
                return paid_request(free(peer, ids))

        personalizer = Personalizer(personal, self.profiles) if personal else None
        return _PreparedSend(self.client, self.peers, build, count, personalizer)


class _PreparedSend:
    """One broadcast's request, ready for any recipient."""

    def __init__(
        self,
        client: hydrogram.Client,
        peers: PeerBook,
        build: Build,
        count: int,
        personal: Personalizer | None = None,
    ):
        self.client, self.peers, self.build, self.count = client, peers, build, count
        #: Fills each request with its recipient's values; None: the request is the same for all.
        self.personal = personal

    async def resolve(self, user_ids: Sequence[int]) -> list[int]:
        if self.personal is not None:
            await self.personal.load(user_ids)
        return await self.peers.resolve(user_ids)

    async def send(self, user_id: int, key: str | None = None) -> Receipt:
        peer = self.peers.get(user_id) or await self.peers.one(user_id)
        if key is None:
            ids = [self.client.rnd_id() for _ in range(self.count)]
        else:
            ids = [random_id_for(key, user_id, item) for item in range(self.count)]
        request = self.build(peer, ids)
        if self.personal is not None:
            self.personal.apply(request, await self.personal.values(user_id))
        try:
            reply = await telegram_call(lambda: invoke_once(self.client, request))
        except SendError as error:
            if key is not None and error.code == RANDOM_ID_DUPLICATE:
                return Receipt(duplicate=True)  # an earlier attempt delivered it
            raise
        found = message_ids(reply, ids)
        if not found:  # accepted all the same (updatesTooLong): sent, its id unknown
            log.warning(
                "send to %s accepted without a message id (%s)",
                user_id,
                type(reply).__name__,
                extra=event("send.no_message_id", user_id=user_id),
            )
        return Receipt(found)


def _flags(options: Delivery) -> dict[str, Any]:
    return {"silent": options.silent or None, "noforwards": options.protect or None}


def _exists(message: Message | None) -> bool:
    return message is not None and not message.empty
