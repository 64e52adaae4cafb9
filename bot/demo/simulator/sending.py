"""Answers to the requests that deliver messages; each one is counted by flood control."""

from __future__ import annotations

from hydrogram import raw

from bot.demo.simulator.media import Media
from bot.demo.simulator.model import SimRpcError
from bot.demo.simulator.peers import is_channel, peer_of
from bot.demo.simulator.uploads import uploaded_file
from bot.demo.simulator.world import SimWorld, check_text

functions = raw.functions.messages


def _immediate(query: object) -> None:
    """Refuse what the simulator does not model rather than deliver it differently."""
    if getattr(query, "schedule_date", None):
        raise NotImplementedError("TelegramSimulator does not schedule messages (schedule_date)")


def _paid(query: object) -> bool:
    """Whether the request asks for a paid broadcast (``allow_paid_floodskip``)."""
    return bool(getattr(query, "allow_paid_floodskip", False))


def _reply_to_id(reply_to: raw.base.InputReplyTo | None) -> int | None:
    if isinstance(reply_to, raw.types.InputReplyToMessage):
        return reply_to.reply_to_msg_id
    return None


def send_message(world: SimWorld, query: functions.SendMessage) -> raw.base.Updates:
    """``messages.SendMessage``: one text message."""
    _immediate(query)
    chat_id = world.directory.chat_id_of(query.peer)
    world.admit(chat_id, [query.random_id], paid=_paid(query))
    check_text(query.message, caption=False)
    message = world.compose(
        chat_id,
        sender=world.directory.bot_id,
        text=query.message,
        entities=query.entities,
        reply_markup=query.reply_markup,
        silent=bool(query.silent),
        noforwards=bool(query.noforwards),
        reply_to_msg_id=_reply_to_id(query.reply_to),
    )
    return world.deliver(chat_id, [message], [query.random_id])


def send_media(world: SimWorld, query: functions.SendMedia) -> raw.base.Updates:
    """``messages.SendMedia``: one file the simulator created, or a document the bot
    uploaded, with a caption."""
    _immediate(query)
    chat_id = world.directory.chat_id_of(query.peer)
    world.admit(chat_id, [query.random_id], paid=_paid(query))
    if isinstance(query.media, raw.types.InputMediaUploadedDocument):
        media = world.media.create_uploaded(uploaded_file(world.uploads, query.media), world.date())
    else:
        _, media = world.media.resolve(query.media)
    check_text(query.message, caption=True)
    message = world.compose(
        chat_id,
        sender=world.directory.bot_id,
        text=query.message,
        entities=query.entities,
        media=media,
        reply_markup=query.reply_markup,
        silent=bool(query.silent),
        noforwards=bool(query.noforwards),
        reply_to_msg_id=_reply_to_id(query.reply_to),
    )
    return world.deliver(chat_id, [message], [query.random_id])


def send_multi_media(world: SimWorld, query: functions.SendMultiMedia) -> raw.base.Updates:
    """``messages.SendMultiMedia``: an album of 2 to 10 items sharing one ``grouped_id``."""
    _immediate(query)
    chat_id = world.directory.chat_id_of(query.peer)
    items = [item for item in query.multi_media if isinstance(item, raw.types.InputSingleMedia)]
    if not 2 <= len(items) <= 10:
        raise SimRpcError(400, "MULTI_MEDIA_TOO_LONG" if len(items) > 10 else "MEDIA_INVALID")
    world.admit(chat_id, [item.random_id for item in items], paid=_paid(query))
    medias: list[Media] = []
    for item in items:
        medias.append(world.media.resolve(item.media)[1])
        check_text(item.message, caption=True)
    grouped_id = world.serial()
    messages = [
        world.compose(
            chat_id,
            sender=world.directory.bot_id,
            text=item.message,
            entities=item.entities,
            media=media,
            silent=bool(query.silent),
            noforwards=bool(query.noforwards),
            reply_to_msg_id=_reply_to_id(query.reply_to),
            grouped_id=grouped_id,
        )
        for item, media in zip(items, medias, strict=True)
    ]
    return world.deliver(chat_id, messages, [item.random_id for item in items])


def forward_messages(world: SimWorld, query: functions.ForwardMessages) -> raw.base.Updates:
    """``messages.ForwardMessages``: copies with a "forwarded from" header; albums stay grouped."""
    _immediate(query)
    to_chat = world.directory.chat_id_of(query.to_peer)
    from_chat = world.directory.chat_id_of(query.from_peer)
    world.admit(to_chat, list(query.random_id), paid=_paid(query))
    sources = [world.store.get(from_chat, message_id) for message_id in query.id]
    found = [source for source in sources if source is not None]
    if len(found) < len(sources) or not found:
        raise SimRpcError(400, "MESSAGE_ID_INVALID")
    if any(source.noforwards for source in found):
        raise SimRpcError(400, "CHAT_FORWARDS_RESTRICTED")
    groups = {s.grouped_id: world.serial() for s in found if s.grouped_id is not None}
    messages = [
        world.compose(
            to_chat,
            sender=world.directory.bot_id,
            text=source.message,
            entities=source.entities,
            media=_copyable(source.media),
            silent=bool(query.silent),
            noforwards=bool(query.noforwards),
            grouped_id=groups.get(source.grouped_id) if source.grouped_id else None,
            fwd_from=None if query.drop_author else forward_header(from_chat, source),
        )
        for source in found
    ]
    return world.deliver(to_chat, messages, query.random_id)


def _copyable(media: raw.base.MessageMedia | None) -> Media | None:
    if isinstance(media, raw.types.MessageMediaPhoto | raw.types.MessageMediaDocument):
        return media
    return None


def forward_header(chat_id: int, source: raw.types.Message) -> raw.types.MessageFwdHeader:
    """Return the header of a forward of ``source``; a forward of a forward keeps the origin."""
    if source.fwd_from is not None:
        return source.fwd_from
    if is_channel(chat_id):
        return raw.types.MessageFwdHeader(
            date=source.date, from_id=peer_of(chat_id), channel_post=source.id
        )
    return raw.types.MessageFwdHeader(date=source.date, from_id=source.from_id or source.peer_id)
