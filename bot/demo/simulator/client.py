"""A hydrogram ``Client`` whose server is simulated in memory: the MTProto seam.

The simulated part is the session, what hydrogram's ``Client.invoke`` hands a request to:
everything above it (``Client.invoke``, ``fetch_peers`` into the client's real storage,
parsing, the dispatcher) is hydrogram's own code, as with a real connection. So is
the media session hydrogram's ``save_file`` opens for an upload
(:mod:`bot.demo.simulator.uploads`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any, NoReturn, Self, cast

from hydrogram import Client, raw
from hydrogram.errors import RPCError
from hydrogram.raw.core import Bool, TLObject, Vector
from hydrogram.session import Session

from bot.demo.simulator import queries, sending, uploads
from bot.demo.simulator.model import SimRpcError
from bot.demo.simulator.store import decode
from bot.demo.simulator.world import SimWorld

Answer = Callable[[SimWorld, Any], object]

#: Requests that deliver messages: the ones whose answer can be lost after delivery.
SENDS: frozenset[type[TLObject]] = frozenset(
    {
        raw.functions.messages.SendMessage,
        raw.functions.messages.SendMedia,
        raw.functions.messages.SendMultiMedia,
        raw.functions.messages.ForwardMessages,
    }
)

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
    raw.functions.upload.SaveFilePart: queries.save_file_part,
    raw.functions.upload.SaveBigFilePart: queries.save_big_file_part,
}
#: Routes by constructor id, as a server reads a request: a class of another layer with
#: the same constructor (a paid send with ``allow_paid_floodskip``) is answered too.
BY_ID: dict[int, Answer] = {getattr(cls, "ID"): answer for cls, answer in ROUTES.items()}  # noqa: B009
SEND_IDS = frozenset(getattr(cls, "ID") for cls in SENDS)  # noqa: B009 (TLObject types no ID)


def wire_copy(reply: object) -> Any:
    """Return ``reply`` as hydrogram would parse it from the wire (a fresh, checked copy)."""
    if isinstance(reply, bool):
        data = Bool(reply)
    elif isinstance(reply, list):
        data = Vector(reply)
    else:
        data = cast(TLObject, reply).write()
    return decode(data)


def raise_rpc(code: int, message: str, query: TLObject) -> NoReturn:
    """Raise the hydrogram exception Telegram's ``code``/``message`` answer maps to."""
    RPCError.raise_it(raw.types.RpcError(error_code=code, error_message=message), type(query))
    raise AssertionError("RPCError.raise_it returned")


class SimulatedSession:
    """Stands where hydrogram's ``Session`` talks to Telegram: answers from the world.

    ``Client.invoke`` (hydrogram's own) calls :meth:`invoke` and then caches the peers
    of the reply in the client's storage, exactly as with a network session. It never
    sleeps or retries: every FloodWait reaches the caller, whatever threshold it passes.
    """

    def __init__(self, client: SimulatedClient) -> None:
        self.client = client

    async def invoke(
        self,
        query: TLObject,
        retries: int = Session.MAX_RETRIES,
        timeout: float = Session.WAIT_TIMEOUT,  # noqa: ASYNC109 (hydrogram's signature)
        sleep_threshold: float = Session.SLEEP_THRESHOLD,
    ) -> Any:
        """Answer ``query``; ``retries``, ``timeout`` and ``sleep_threshold`` are ignored."""
        return await self.client.answer(query)


class SimulatedMediaSession(SimulatedSession):
    """The session hydrogram's ``save_file`` opens to upload a file (a media session of its
    own, on a real connection): it answers from the same world, and has nothing to open
    or close."""

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""


def _media_session(client: object) -> SimulatedMediaSession | None:
    return SimulatedMediaSession(client) if isinstance(client, SimulatedClient) else None


class SimulatedClient(Client):
    """A hydrogram ``Client`` whose MTProto server is ``world``, answered in memory.

    Requests are answered from :data:`ROUTES`; anything else raises
    ``NotImplementedError``. Replies go through ``TLObject`` bytes and back, and errors
    through ``RPCError.raise_it``, so hydrogram parses exactly what the wire would give.
    The session never sleeps or retries: every ``FloodWait`` reaches the caller, even
    from methods that pass their own threshold (``copy_media_group`` passes 60, below
    which real hydrogram sleeps).

    Args:
        name: Client name.
        world: The simulated server's state.
        workers: Handler tasks of hydrogram's dispatcher.
        cold: Like a new session: hydrogram's peer storage starts empty and learns
            users only from updates and replies (sends to a user it never saw cost a
            ``users.GetUsers``). Otherwise every simulated user is put into it.
    """

    def __init__(self, name: str, world: SimWorld, *, workers: int, cold: bool = False) -> None:
        super().__init__(name, in_memory=True, sleep_threshold=0, workers=workers)
        self.world = world
        self.cold = cold
        #: Requests answered (with a result or an error), by name (``"messages.SendMessage"``).
        self.request_counts: Counter[str] = Counter()
        self._unregistered: list[int] = []

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
        # Duck-typed: Client.invoke needs only the session's invoke.
        self.session = cast(Session, SimulatedSession(self))
        self.is_connected = True
        directory = self.world.directory
        self._unregistered = [*directory.users, *directory.chats]
        await self.fetch_peers([directory.bot_user()])
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

    async def answer(self, query: TLObject) -> Any:
        """Answer a raw request as Telegram's server would (what the session sends it).

        Raises:
            ConnectionError: The client is not started.
            NotImplementedError: For a request the simulator does not answer.
            hydrogram.errors.RPCError: The subclass matching the simulated error.
            TimeoutError, ConnectionResetError: An answer lost after delivery (a fault).
        """
        if not self.is_connected:
            raise ConnectionError("Client has not been started yet")
        answer = ROUTES.get(type(query)) or BY_ID.get(getattr(query, "ID", 0))
        if answer is None:
            raise NotImplementedError(f"TelegramSimulator does not answer {query.QUALNAME}")
        name = query.QUALNAME.partition(".")[2]
        self.request_counts[name] += 1
        await self.register_peers()
        scripted = self.world.faults.scripted(name)
        if isinstance(scripted, SimRpcError):
            raise_rpc(scripted.code, scripted.message, query)
        delay = self.world.faults.delay()
        if delay:
            await asyncio.sleep(delay)
        try:
            reply = wire_copy(answer(self.world, query))
        except SimRpcError as error:
            raise_rpc(error.code, error.message, query)
        if getattr(query, "ID", 0) in SEND_IDS:
            self._lose_answer(query)
        return reply

    def _lose_answer(self, query: TLObject) -> None:
        """Raise what a client sees when a delivered message's answer is lost, if it is."""
        lost = self.world.faults.lost_answer()
        if lost is None:
            return
        if isinstance(lost, SimRpcError):
            raise_rpc(lost.code, lost.message, query)
        raise lost

    def queue_peers(self, ids: list[int]) -> None:
        """Register these user and chat ids in hydrogram's peer cache before the next request.

        A cold client registers only chats: users it must learn as a real session does.
        """
        self._unregistered.extend(i for i in ids if i < 0 or not self.cold)

    async def register_peers(self) -> None:
        """Put users and chats added since the last call into hydrogram's peer storage."""
        if not self._unregistered or not self.is_connected:
            return
        ids, self._unregistered = self._unregistered, []
        directory = self.world.directory
        await self.storage.update_peers(directory.storage_rows(i for i in ids if i > 0))
        await self.fetch_peers([directory.raw_chat(i) for i in ids if i < 0])


uploads.install(_media_session)
