"""A hydrogram ``Client`` whose server is simulated in memory: the MTProto seam."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any, Self, cast

from hydrogram import Client, raw
from hydrogram.errors import RPCError
from hydrogram.raw.core import Bool, TLObject, Vector
from hydrogram.session import Session

from bot.demo.simulator import queries, sending
from bot.demo.simulator.model import SimRpcError
from bot.demo.simulator.peers import stored_id
from bot.demo.simulator.store import decode
from bot.demo.simulator.world import SimWorld

Answer = Callable[[SimWorld, Any], object]

#: The requests the simulated server answers.
ROUTES: dict[type[TLObject], Answer] = {
    raw.functions.users.GetUsers: queries.get_users,
    raw.functions.users.GetFullUser: queries.get_full_user,
    raw.functions.updates.GetState: queries.get_state,
    raw.functions.messages.GetChats: queries.get_chats,
    raw.functions.channels.GetChannels: queries.get_channels,
    raw.functions.messages.GetMessages: queries.get_messages,
    raw.functions.channels.GetMessages: queries.get_channel_messages,
    raw.functions.messages.EditMessage: queries.edit_message,
    raw.functions.messages.DeleteMessages: queries.delete_messages,
    raw.functions.channels.DeleteMessages: queries.delete_channel_messages,
    raw.functions.messages.SetBotCallbackAnswer: queries.set_bot_callback_answer,
    raw.functions.messages.SendMessage: sending.send_message,
    raw.functions.messages.SendMedia: sending.send_media,
    raw.functions.messages.SendMultiMedia: sending.send_multi_media,
    raw.functions.messages.ForwardMessages: sending.forward_messages,
}


def wire_copy(reply: object) -> Any:
    """Return ``reply`` as hydrogram would parse it from the wire (a fresh, checked copy)."""
    if isinstance(reply, bool):
        data = Bool(reply)
    elif isinstance(reply, list):
        data = Vector(reply)
    else:
        data = cast(TLObject, reply).write()
    return decode(data)


class SimulatedClient(Client):
    """A hydrogram ``Client`` whose MTProto server is ``world``, answered in memory.

    Requests are answered from :data:`ROUTES`; anything else raises
    ``NotImplementedError``. Replies go through ``TLObject`` bytes and back, and errors
    through ``RPCError.raise_it``, so hydrogram parses exactly what the wire would give.
    The client runs with ``sleep_threshold=0`` and never sleeps or retries itself: every
    ``FloodWait`` reaches the caller, even from methods that pass their own threshold
    (``copy_media_group`` passes 60, below which real hydrogram sleeps).

    Args:
        name: Client name.
        world: The simulated server's state.
        workers: Handler tasks of hydrogram's dispatcher.
    """

    def __init__(self, name: str, world: SimWorld, *, workers: int) -> None:
        super().__init__(name, in_memory=True, sleep_threshold=0, workers=workers)
        self.world = world
        #: Requests answered (with a result or an error), by name (``"messages.SendMessage"``).
        self.request_counts: Counter[str] = Counter()
        self._unregistered: list[int] = []
        self._cached: set[int] = set()

    async def start(self) -> Self:
        """Open storage, log the bot in without network and start hydrogram's dispatcher."""
        if self.is_connected:
            raise ConnectionError("Client is already connected")
        storage = self.storage
        await storage.open()
        for setting, value in (
            (storage.dc_id, 2),
            (storage.api_id, 0),
            (storage.test_mode, False),
            (storage.auth_key, bytes(256)),
            (storage.date, 0),
            (storage.user_id, self.world.directory.bot_id),
            (storage.is_bot, True),
        ):
            await setting(value)
        self.is_connected = True
        directory = self.world.directory
        self._unregistered = [*directory.users, *directory.chats]
        self._cached = set()
        await self._cache_peers([directory.bot_user()], [])
        self.me = await self.get_me()
        await self.initialize()
        return self

    async def stop(self, block: bool = True) -> Self:
        """Stop the dispatcher and close storage (``block=False`` schedules it)."""

        async def do_it() -> None:
            await self.terminate()
            await self.storage.close()
            self.is_connected = False

        if block:
            await do_it()
        else:
            self.loop.create_task(do_it())
        return self

    async def invoke(
        self,
        query: TLObject,
        retries: int = Session.MAX_RETRIES,
        timeout: float = Session.WAIT_TIMEOUT,  # noqa: ASYNC109 (hydrogram's signature)
        sleep_threshold: float | None = None,
    ) -> Any:
        """Answer a raw request as Telegram would; ``retries`` and thresholds are ignored.

        Raises:
            ConnectionError: The client is not started.
            NotImplementedError: For a request the simulator does not answer.
            hydrogram.errors.RPCError: The subclass matching the simulated error.
        """
        if not self.is_connected:
            raise ConnectionError("Client has not been started yet")
        answer = ROUTES.get(type(query))
        if answer is None:
            raise NotImplementedError(f"TelegramSimulator does not answer {query.QUALNAME}")
        self.request_counts[query.QUALNAME.partition(".")[2]] += 1
        await self.register_peers()
        delay = self.world.faults.delay()
        if delay:
            await asyncio.sleep(delay)
        reply = wire_copy(self._answer(answer, query))
        await self._cache_peers(getattr(reply, "users", []), getattr(reply, "chats", []))
        return reply

    async def _cache_peers(self, users: list[Any], chats: list[Any]) -> None:
        """Cache the wire users and chats a reply mentions, as ``Client.invoke`` does.

        Peers already cached with the same data are skipped: that saves four sqlite round
        trips per send and leaves the storage exactly as hydrogram would.
        """
        if all(stored_id(peer) in self._cached for peer in (*users, *chats)):
            return
        await self.fetch_peers(users)
        await self.fetch_peers(chats)
        self._cached.update(stored_id(peer) for peer in (*users, *chats))

    def _answer(self, answer: Answer, query: TLObject) -> object:
        try:
            return answer(self.world, query)
        except SimRpcError as error:
            failure = raw.types.RpcError(error_code=error.code, error_message=error.message)
        RPCError.raise_it(failure, type(query))
        raise AssertionError("RPCError.raise_it returned")

    def queue_peers(self, ids: list[int]) -> None:
        """Register these user and chat ids in hydrogram's peer cache before the next request."""
        self._unregistered.extend(ids)

    async def register_peers(self) -> None:
        """Put users and chats added since the last call into hydrogram's peer cache."""
        if not self._unregistered or not self.is_connected:
            return
        ids, self._unregistered = self._unregistered, []
        directory = self.world.directory
        await self.storage.update_peers(directory.storage_rows(i for i in ids if i > 0))
        await self.fetch_peers([directory.raw_chat(i) for i in ids if i < 0])
        self._cached.update(ids)
