"""Who exists in the simulated world, and how each party looks on the wire."""

from __future__ import annotations

from collections.abc import Iterable

from hydrogram import raw, utils

from bot.demo.simulator.model import SimChat, SimRpcError, SimUser, UserState, access_hash_for

#: A row of hydrogram's peers table: ``(id, access_hash, type, username, phone)``.
PeerRow = tuple[int, int, str, str | None, str | None]


def is_channel(chat_id: int) -> bool:
    """Return True for a channel or supergroup id (-100...)."""
    return chat_id < 0 and utils.get_peer_type(chat_id) == "channel"


def peer_of(chat_id: int) -> raw.base.Peer:
    """Return the wire ``Peer`` of a chat id (user, basic group or channel)."""
    if chat_id > 0:
        return raw.types.PeerUser(user_id=chat_id)
    if is_channel(chat_id):
        return raw.types.PeerChannel(channel_id=utils.get_channel_id(chat_id))
    return raw.types.PeerChat(chat_id=-chat_id)


def stored_id(peer: raw.base.User | raw.base.Chat) -> int:
    """Return the id hydrogram's peer cache files a wire user or chat under."""
    if isinstance(peer, raw.types.User | raw.types.UserEmpty):
        return peer.id
    if isinstance(peer, raw.types.Channel | raw.types.ChannelForbidden):
        return utils.get_channel_id(peer.id)
    return -peer.id


class Directory:
    """The bot, its users and its chats.

    Args:
        bot_id: The bot's user id.
        bot_username: The bot's username (without @).
        bot_name: The bot's first name.
    """

    def __init__(self, bot_id: int, bot_username: str, bot_name: str) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}

    def bot_user(self) -> raw.types.User:
        """Return the bot as Telegram describes it to itself."""
        return raw.types.User(
            id=self.bot_id,
            is_self=True,
            bot=True,
            access_hash=access_hash_for(self.bot_id),
            first_name=self.bot_name,
            username=self.bot_username,
            bot_info_version=1,
        )

    def raw_user(self, user_id: int) -> raw.types.User:
        """Return a known user (or the bot) as a wire ``User``."""
        if user_id == self.bot_id:
            return self.bot_user()
        user = self.users[user_id]
        deleted = user.state is UserState.DEACTIVATED
        return raw.types.User(
            id=user.id,
            deleted=deleted or None,
            premium=user.is_premium or None,
            access_hash=access_hash_for(user.id),
            first_name=None if deleted else user.first_name,
            username=None if deleted else user.username,
            lang_code=user.language_code,
        )

    def raw_chat(self, chat_id: int) -> raw.types.Chat | raw.types.Channel:
        """Return a known basic group or channel as a wire chat."""
        chat = self.chats[chat_id]
        photo = raw.types.ChatPhotoEmpty()
        if is_channel(chat_id):
            return raw.types.Channel(
                id=utils.get_channel_id(chat_id),
                title=chat.title,
                photo=photo,
                date=0,
                broadcast=True,
                creator=True,
                access_hash=access_hash_for(chat_id),
            )
        return raw.types.Chat(
            id=-chat_id, title=chat.title, photo=photo, participants_count=2, date=0, version=1
        )

    def storage_rows(self, user_ids: Iterable[int]) -> list[PeerRow]:
        """Return the rows hydrogram's storage keeps for ``user_ids`` (known users only)."""
        users = self.users
        return [
            (uid, access_hash_for(uid), "user", (users[uid].username or "").lower() or None, None)
            for uid in user_ids
            if uid in users
        ]

    def chat_id_of(self, peer: object) -> int:
        """Return the chat id an input peer/user/channel names.

        Raises:
            SimRpcError: 400 PEER_ID_INVALID for the bot itself, unknown peers and
                wrong access hashes.
        """
        if isinstance(peer, raw.types.InputPeerUser | raw.types.InputUser):
            return self._checked(peer.user_id, peer.access_hash, peer.user_id in self.users)
        if isinstance(peer, raw.types.InputPeerChannel | raw.types.InputChannel):
            chat_id = utils.get_channel_id(peer.channel_id)
            return self._checked(chat_id, peer.access_hash, chat_id in self.chats)
        if isinstance(peer, raw.types.InputPeerChat) and -peer.chat_id in self.chats:
            return -peer.chat_id
        raise SimRpcError(400, "PEER_ID_INVALID")

    def parties(
        self, messages: Iterable[raw.base.Message], user_ids: Iterable[int] = ()
    ) -> tuple[list[raw.base.User], list[raw.base.Chat]]:
        """Return the users and chats a reply must carry so ``messages`` parse."""
        ids: set[int] = {self.bot_id, *user_ids}
        for message in messages:
            if isinstance(message, raw.types.MessageEmpty):
                continue
            ids.add(utils.get_peer_id(message.peer_id))
            if message.from_id is not None:
                ids.add(utils.get_peer_id(message.from_id))
            origin = getattr(message, "fwd_from", None)
            if origin is not None and origin.from_id is not None:
                ids.add(utils.get_peer_id(origin.from_id))
        users: list[raw.base.User] = [self.raw_user(i) for i in sorted(ids) if i > 0]
        chats: list[raw.base.Chat] = [self.raw_chat(i) for i in sorted(ids) if i < 0]
        return users, chats

    def _checked(self, chat_id: int, access_hash: int, known: bool) -> int:
        # hydrogram sends access_hash 0 for peers it has not cached; bots may do that.
        if known and access_hash in (0, access_hash_for(chat_id)):
            return chat_id
        raise SimRpcError(400, "PEER_ID_INVALID")
