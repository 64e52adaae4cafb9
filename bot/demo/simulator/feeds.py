"""Users writing to the bot: messages, albums, forwards and button presses fed as updates."""

from __future__ import annotations

from collections.abc import Sequence

from hydrogram import raw, utils

from bot.demo.simulator.client import SimulatedClient, wire_copy
from bot.demo.simulator.media import ALBUM_KINDS
from bot.demo.simulator.model import SimUser, UserState, access_hash_for
from bot.demo.simulator.sending import forward_header


class UserFeeds(SimulatedClient):
    """The part of :class:`~bot.demo.simulator.TelegramSimulator` that plays the users.

    What a user sends reaches the bot as real updates, through hydrogram's
    dispatcher, so the bot's handlers run as they would on Telegram.
    """

    def add_user(
        self,
        user_id: int,
        state: UserState = UserState.ACTIVE,
        *,
        first_name: str | None = None,
        language_code: str = "en",
        is_premium: bool = False,
        username: str | None = None,
    ) -> None:
        """Add (or replace) a user; hydrogram's peer cache learns it before the next request."""
        if utils.get_peer_type(user_id) != "user" or user_id == self.world.directory.bot_id:
            raise ValueError(f"not a valid user id for the simulator: {user_id}")
        self.world.directory.users[user_id] = SimUser(
            user_id, state, first_name or f"User {user_id}", username, language_code, is_premium
        )
        self.queue_peers([user_id])

    async def feed_message(
        self,
        from_user_id: int,
        text: str = "",
        *,
        media: str | None = None,
        reply_to_message_id: int | None = None,
        entities: Sequence[raw.base.MessageEntity] | None = None,
        wait: bool = True,
    ) -> int:
        """Deliver a private message from a user to the bot; registered handlers run.

        A user who writes is active again (unknown users are added). With ``wait`` this
        returns once hydrogram's dispatcher has run the handlers: don't call it with
        ``wait`` from inside a handler. Returns the message id (the bot may reply to or
        copy it; with ``media`` the text is the caption). ``entities`` format the text
        as a chat app sends bold, links or spoilers (``raw.types.MessageEntityBold``...,
        offsets in UTF-16 code units).
        """
        self._returning_user(from_user_id)
        world = self.world
        message = world.compose(
            from_user_id,
            sender=from_user_id,
            text=text,
            entities=entities,
            media=world.media.create(media, world.date()) if media else None,
            reply_to_msg_id=reply_to_message_id,
        )
        [message_id] = await self._feed(from_user_id, [message], wait)
        return message_id

    async def feed_album(
        self,
        from_user_id: int,
        items: Sequence[str | tuple[str, str]],
        *,
        reply_to_message_id: int | None = None,
        wait: bool = True,
    ) -> list[int]:
        """Deliver an album from a user to the bot, one update per item as Telegram does.

        ``items`` are kinds or ``(kind, caption)``, as for :meth:`seed_album`. Returns the ids.
        """
        self._returning_user(from_user_id)
        messages = self._album(from_user_id, from_user_id, items, reply_to_message_id)
        return await self._feed(from_user_id, messages, wait)

    async def feed_forward(
        self, from_user_id: int, from_chat_id: int, message_ids: Sequence[int], *, wait: bool = True
    ) -> list[int]:
        """The user forwards messages of ``from_chat_id`` (a chat of the bot) to the bot.

        They arrive with a "forwarded from" header naming their origin; albums stay
        grouped. Returns the new ids.
        """
        self._returning_user(from_user_id)
        world = self.world
        sources = [world.store.get(from_chat_id, message_id) for message_id in message_ids]
        if not sources or any(source is None for source in sources):
            raise ValueError(f"no such messages in chat {from_chat_id}: {list(message_ids)}")
        groups = {s.grouped_id: world.serial() for s in sources if s and s.grouped_id}
        messages = [
            world.compose(
                from_user_id,
                sender=from_user_id,
                text=source.message,
                entities=source.entities,
                media=source.media,  # type: ignore[arg-type]
                grouped_id=groups.get(source.grouped_id) if source.grouped_id else None,
                fwd_from=forward_header(from_chat_id, source),
            )
            for source in sources
            if source is not None
        ]
        return await self._feed(from_user_id, messages, wait)

    async def feed_callback(
        self, from_user_id: int, message_id: int, data: bytes, *, wait: bool = True
    ) -> int:
        """Press an inline button of ``message_id`` in the user's chat; returns the query id."""
        self._returning_user(from_user_id)
        world = self.world
        query_id = world.serial()
        world.open_queries[query_id] = from_user_id
        update = raw.types.UpdateBotCallbackQuery(
            query_id=query_id,
            user_id=from_user_id,
            peer=raw.types.PeerUser(user_id=from_user_id),
            msg_id=message_id,
            chat_instance=access_hash_for(from_user_id),
            data=data,
        )
        await self._push(world.updates([update], [], [from_user_id]), wait)
        return query_id

    def _album(
        self,
        chat_id: int,
        sender: int | None,
        items: Sequence[str | tuple[str, str]],
        reply_to_message_id: int | None = None,
    ) -> list[raw.types.Message]:
        pairs = [(item, "") if isinstance(item, str) else item for item in items]
        if not 2 <= len(pairs) <= 10 or any(kind not in ALBUM_KINDS for kind, _ in pairs):
            raise ValueError(f"an album has 2-10 items of {sorted(ALBUM_KINDS)}, got {items}")
        world = self.world
        grouped_id = world.serial()
        return [
            world.compose(
                chat_id,
                sender=sender,
                text=caption,
                media=world.media.create(kind, world.date()),
                grouped_id=grouped_id,
                reply_to_msg_id=reply_to_message_id,
            )
            for kind, caption in pairs
        ]

    async def _feed(self, chat_id: int, messages: list[raw.types.Message], wait: bool) -> list[int]:
        """Store messages a user sent to the bot and push them as new-message updates."""
        world = self.world
        for message in messages:
            world.store.put(chat_id, message)
        updates: list[raw.base.Update] = [
            raw.types.UpdateNewMessage(message=message, pts=world.next_pts(), pts_count=1)
            for message in messages
        ]
        await self._push(world.updates(updates, messages), wait)
        return [message.id for message in messages]

    def _returning_user(self, user_id: int) -> None:
        user = self.world.directory.users.get(user_id)
        if user is None:
            self.add_user(user_id)
        elif user.state is UserState.DEACTIVATED:
            raise ValueError(f"user {user_id} is deactivated and cannot write")
        else:
            user.state = UserState.ACTIVE

    async def _push(self, updates: raw.types.Updates, wait: bool) -> None:
        if not self.is_initialized:
            raise ConnectionError("start the simulator before feeding updates")
        await self.register_peers()
        # hydrogram leaves handle_updates unannotated; it is the path real updates take.
        await self.handle_updates(wire_copy(updates))  # type: ignore[no-untyped-call]
        if wait:
            await self.dispatcher.updates_queue.join()
