"""Answers to the requests that read or change state without delivering a message."""

from __future__ import annotations

from collections.abc import Sequence

from hydrogram import raw

from bot.demo.simulator.model import CallbackAnswer, SimRpcError
from bot.demo.simulator.peers import is_channel
from bot.demo.simulator.uploads import PARTS_MAX
from bot.demo.simulator.world import (
    BOT_DELETE_WINDOW_S,
    SimWorld,
    buttons_of,
    check_text,
    entities_of,
)


def get_users(world: SimWorld, query: raw.functions.users.GetUsers) -> list[raw.base.User]:
    """``users.GetUsers``: known users; unknown ones are left out, as for a bot."""
    users: list[raw.base.User] = []
    for ref in query.id:
        if isinstance(ref, raw.types.InputUserSelf | raw.types.InputPeerSelf):
            users.append(world.directory.bot_user())
            continue
        try:
            user_id = world.directory.chat_id_of(ref)
        except SimRpcError:
            continue
        if user_id > 0:
            users.append(world.directory.raw_user(user_id))
    return users


def get_full_user(
    world: SimWorld, query: raw.functions.users.GetFullUser
) -> raw.types.users.UserFull:
    """``users.GetFullUser``: what ``get_me`` needs, for the bot or a known user."""
    ref = query.id
    user_id = (
        world.directory.bot_id
        if isinstance(ref, raw.types.InputUserSelf)
        else world.directory.chat_id_of(ref)
    )
    full = raw.types.UserFull(
        id=user_id,
        settings=raw.types.PeerSettings(),
        notify_settings=raw.types.PeerNotifySettings(),
        common_chats_count=0,
    )
    return raw.types.users.UserFull(
        full_user=full, chats=[], users=[world.directory.raw_user(user_id)]
    )


def get_state(world: SimWorld, _query: raw.functions.updates.GetState) -> raw.types.updates.State:
    """``updates.GetState``."""
    return raw.types.updates.State(pts=world.pts, qts=0, date=world.date(), seq=0, unread_count=0)


def get_chats(world: SimWorld, query: raw.functions.messages.GetChats) -> raw.types.messages.Chats:
    """``messages.GetChats``: known basic groups."""
    chats = world.directory.chats
    found: list[raw.base.Chat] = [world.directory.raw_chat(-i) for i in query.id if -i in chats]
    return raw.types.messages.Chats(chats=found)


def get_channels(
    world: SimWorld, query: raw.functions.channels.GetChannels
) -> raw.types.messages.Chats:
    """``channels.GetChannels``: known channels."""
    found: list[raw.base.Chat] = []
    for ref in query.id:
        try:
            found.append(world.directory.raw_chat(world.directory.chat_id_of(ref)))
        except SimRpcError:
            continue
    return raw.types.messages.Chats(chats=found)


def get_messages(
    world: SimWorld, query: raw.functions.messages.GetMessages
) -> raw.types.messages.Messages:
    """``messages.GetMessages`` (private chats, basic groups); missing ids are ``MessageEmpty``."""
    found = _lookup(world, None, query.id)
    users, chats = world.directory.parties(found)
    return raw.types.messages.Messages(messages=found, chats=chats, users=users)


def get_channel_messages(
    world: SimWorld, query: raw.functions.channels.GetMessages
) -> raw.types.messages.ChannelMessages:
    """``channels.GetMessages``: one channel's messages; missing ids are ``MessageEmpty``."""
    chat_id = world.directory.chat_id_of(query.channel)
    found = _lookup(world, chat_id, query.id)
    users, chats = world.directory.parties(found)
    return raw.types.messages.ChannelMessages(
        pts=world.pts, count=len(found), messages=found, topics=[], chats=chats, users=users
    )


def _lookup(
    world: SimWorld, chat_id: int | None, refs: Sequence[raw.base.InputMessage]
) -> list[raw.base.Message]:
    found: list[raw.base.Message] = []
    for ref in refs:
        if not isinstance(ref, raw.types.InputMessageID | raw.types.InputMessageReplyTo):
            raise NotImplementedError(f"TelegramSimulator cannot look up {type(ref).__name__}")
        message = world.store.get(chat_id, ref.id)
        if isinstance(ref, raw.types.InputMessageReplyTo):
            reply_to = message.reply_to if message else None
            target = (
                reply_to.reply_to_msg_id
                if isinstance(reply_to, raw.types.MessageReplyHeader)
                else None
            )
            message = world.store.get(chat_id, target) if target else None
        found.append(message or raw.types.MessageEmpty(id=ref.id))
    return found


def edit_message(world: SimWorld, query: raw.functions.messages.EditMessage) -> raw.types.Updates:
    """``messages.EditMessage`` of the text and keyboard of one of the bot's messages.

    Omitting ``reply_markup`` removes the keyboard, as on Telegram. Same text, entities and
    keyboard as now is ``400 MESSAGE_NOT_MODIFIED``; a message older than the world's
    ``edit_window_s`` (when one is set) is ``400 MESSAGE_EDIT_TIME_EXPIRED``.
    """
    if query.media is not None:
        raise NotImplementedError("TelegramSimulator does not edit media (messages.EditMessage)")
    chat_id = world.directory.chat_id_of(query.peer)
    world.touches.append(("edit", chat_id, (query.id,)))
    message = world.store.get(chat_id, query.id)
    if message is None:
        raise SimRpcError(400, "MESSAGE_ID_INVALID")
    if not message.out:
        raise SimRpcError(403, "MESSAGE_AUTHOR_REQUIRED")
    window = world.edit_window_s
    if window is not None and world.date() - message.date >= window:
        raise SimRpcError(400, "MESSAGE_EDIT_TIME_EXPIRED")
    text = message.message if query.message is None else query.message
    entities = message.entities if query.message is None else list(query.entities or [])
    before = (message.message, _wire(message.entities), _wire([message.reply_markup]))
    if before == (text, _wire(entities), _wire([query.reply_markup])):
        raise SimRpcError(400, "MESSAGE_NOT_MODIFIED")
    check_text(text, caption=message.media is not None)
    message.message, message.entities = text, entities or None
    message.reply_markup, message.edit_date = query.reply_markup, world.date()
    world.store.put(chat_id, message)
    world.inbox.update(
        chat_id,
        message.id,
        text=text or None,
        entities=entities_of(message.entities),
        buttons=buttons_of(query.reply_markup),
        edited=True,
    )
    pts = world.next_pts()
    update: raw.base.Update = (
        raw.types.UpdateEditChannelMessage(message=message, pts=pts, pts_count=1)
        if is_channel(chat_id)
        else raw.types.UpdateEditMessage(message=message, pts=pts, pts_count=1)
    )
    return world.updates([update], [message])


def _wire(objects: Sequence[object] | None) -> list[bytes | None]:
    return [obj.write() if isinstance(obj, raw.core.TLObject) else None for obj in objects or []]


def delete_messages(
    world: SimWorld, query: raw.functions.messages.DeleteMessages
) -> raw.types.messages.AffectedMessages:
    """``messages.DeleteMessages`` in private chats and basic groups; unknown ids are skipped.

    A bot may delete only messages sent less than 48 hours ago: an older one among them
    is ``403 MESSAGE_DELETE_FORBIDDEN`` and nothing is deleted.
    """
    by_chat: dict[int, list[int]] = {}
    for message_id in query.id:
        by_chat.setdefault(world.inbox.chat_of(message_id) or 0, []).append(message_id)
    world.touches.extend(("delete", chat, tuple(ids)) for chat, ids in by_chat.items())
    for message_id in query.id:
        message = world.store.get(None, message_id)
        if message is not None and world.date() - message.date >= BOT_DELETE_WINDOW_S:
            raise SimRpcError(403, "MESSAGE_DELETE_FORBIDDEN")
    return _deleted(world, None, query.id)


def delete_channel_messages(
    world: SimWorld, query: raw.functions.channels.DeleteMessages
) -> raw.types.messages.AffectedMessages:
    """``channels.DeleteMessages``."""
    return _deleted(world, world.directory.chat_id_of(query.channel), query.id)


def _deleted(
    world: SimWorld, chat_id: int | None, ids: Sequence[int]
) -> raw.types.messages.AffectedMessages:
    deleted = world.store.delete(chat_id, ids)
    for chat, message_id in deleted:
        world.inbox.update(chat, message_id, deleted=True)
    return raw.types.messages.AffectedMessages(
        pts=world.next_pts(len(deleted)), pts_count=len(deleted)
    )


def set_bot_callback_answer(
    world: SimWorld, query: raw.functions.messages.SetBotCallbackAnswer
) -> bool:
    """``messages.SetBotCallbackAnswer``: records the answer; a query is answered once."""
    user_id = world.open_queries.pop(query.query_id, None)
    if user_id is None:
        raise SimRpcError(400, "QUERY_ID_INVALID")
    world.callback_answers.append(
        CallbackAnswer(
            query_id=query.query_id,
            user_id=user_id,
            text=query.message,
            alert=bool(query.alert),
            url=query.url,
        )
    )
    return True


def save_file_part(world: SimWorld, query: raw.functions.upload.SaveFilePart) -> bool:
    """``upload.SaveFilePart``: one part of a file of at most 10 MiB."""
    return world.uploads.save(query.file_id, query.file_part, query.bytes)


def save_big_file_part(world: SimWorld, query: raw.functions.upload.SaveBigFilePart) -> bool:
    """``upload.SaveBigFilePart``: one part of a bigger file."""
    if not 0 < query.file_total_parts <= PARTS_MAX:
        raise SimRpcError(400, "FILE_PARTS_INVALID")
    return world.uploads.save(query.file_id, query.file_part, query.bytes)
