"""A host bot's session storage made safe under concurrent sends, without changing it.

A host bot builds its client, usually with hydrogram's default ``SQLiteStorage``,
which fails when several coroutines use it at once (see :mod:`bot.telegram.session`).
:func:`make_storage_safe` puts a :class:`SerializedStorage` in front of it: every
call runs alone, under one lock, on the host's storage, which keeps storing what
and where it did.

hydrogram reaches its storage only through ``client.storage`` and the
``BaseStorage`` methods (``Client.__init__``'s ``isinstance`` check runs before
we replace it; nothing reads ``storage.conn``). A host's own code may read other
attributes (``storage.conn``, ``storage.database``): they are passed through, and
other coroutine methods (``SQLiteStorage.version``) run under the lock too.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import hydrogram
from hydrogram.storage import BaseStorage
from hydrogram.storage.base import InputPeer

from bot.telegram.peer_cache import PeerRow
from bot.telegram.session import MongoSessionStorage
from bot.telegram.session_values import UNSET, Unset

T = TypeVar("T")


class SerializedStorage(BaseStorage):
    """Delegates every call to ``inner``, one call at a time (one ``asyncio.Lock``).

    Args:
        inner: The storage being protected (it must not be used directly any more).
    """

    def __init__(self, inner: BaseStorage) -> None:
        super().__init__(inner.name)
        self.inner = inner
        self._lock = asyncio.Lock()

    def __getattr__(self, attribute: str) -> Any:
        # Only for what this class does not define: the inner storage's own attributes.
        if attribute in {"inner", "_lock"}:  # not yet set (copy, unpickling): no recursion
            raise AttributeError(attribute)
        value = getattr(self.inner, attribute)
        if inspect.iscoroutinefunction(value):
            return functools.partial(self._locked_call, value)
        return value

    async def _locked_call(
        self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        """Run ``method`` alone; a cancelled caller leaves it to finish, still alone.

        The call runs as a task that releases the lock when it ends: cancelling the
        caller mid-call (a worker stopped at shutdown) must not let the next call
        start while this one still runs on aiosqlite's thread.
        """
        await self._lock.acquire()
        try:
            call = asyncio.ensure_future(method(*args, **kwargs))
        except BaseException:
            self._lock.release()
            raise
        call.add_done_callback(self._call_ended)
        return await asyncio.shield(call)

    def _call_ended(self, call: asyncio.Future[Any]) -> None:
        self._lock.release()
        if not call.cancelled():
            call.exception()  # retrieved: a cancelled caller's KeyError is nobody's news

    async def open(self) -> None:
        """Open the inner storage."""
        await self._locked_call(self.inner.open)

    async def save(self) -> None:
        """Save the inner storage."""
        await self._locked_call(self.inner.save)

    async def close(self) -> None:
        """Close the inner storage."""
        await self._locked_call(self.inner.close)

    async def delete(self) -> None:
        """Delete the inner storage."""
        await self._locked_call(self.inner.delete)

    async def update_peers(self, peers: Sequence[PeerRow]) -> None:
        """Update the inner storage's peers."""
        await self._locked_call(self.inner.update_peers, peers)

    async def get_peer_by_id(self, peer_id: int) -> InputPeer:
        """The inner storage's peer with this id (``KeyError`` if unknown)."""
        return await self._locked_call(self.inner.get_peer_by_id, peer_id)

    async def get_peer_by_username(self, username: str) -> InputPeer:
        """The inner storage's peer with this username (``KeyError`` if unknown)."""
        return await self._locked_call(self.inner.get_peer_by_username, username)

    async def get_peer_by_phone_number(self, phone_number: str) -> InputPeer:
        """The inner storage's peer with this phone number (``KeyError`` if unknown)."""
        return await self._locked_call(self.inner.get_peer_by_phone_number, phone_number)

    async def peers_by_ids(self, ids: Sequence[int]) -> dict[int, InputPeer]:
        """The ``InputPeer`` of every known id among ``ids``; unknown ids are absent.

        One ``get_peer_by_id`` per id, each under the lock, so sends waiting for
        the storage get their turn between them.
        """
        found: dict[int, InputPeer] = {}
        for peer_id in dict.fromkeys(ids):
            try:
                peer = await self._locked_call(self.inner.get_peer_by_id, peer_id)
            except KeyError:
                continue
            if peer is not None:  # SQLiteStorage answers None when it is not open
                found[peer_id] = peer
        return found

    async def export_session_string(self) -> str:
        """The inner storage's session string."""
        return await self._locked_call(self.inner.export_session_string)

    async def _accessor(self, method: Callable[..., Awaitable[T]], value: object) -> T:
        if value is UNSET:
            return await self._locked_call(method)
        return await self._locked_call(method, value)

    async def dc_id(self, value: int | None | Unset = UNSET) -> int:
        """Get (no argument) or set the inner storage's data centre id."""
        return await self._accessor(self.inner.dc_id, value)

    async def api_id(self, value: int | None | Unset = UNSET) -> int:
        """Get (no argument) or set the inner storage's API id."""
        return await self._accessor(self.inner.api_id, value)

    async def test_mode(self, value: bool | None | Unset = UNSET) -> bool:
        """Get (no argument) or set the inner storage's test mode."""
        return await self._accessor(self.inner.test_mode, value)

    async def auth_key(self, value: bytes | None | Unset = UNSET) -> bytes:
        """Get (no argument) or set the inner storage's authorization key."""
        return await self._accessor(self.inner.auth_key, value)

    async def date(self, value: int | None | Unset = UNSET) -> int:
        """Get (no argument) or set the inner storage's date."""
        return await self._accessor(self.inner.date, value)

    async def user_id(self, value: int | None | Unset = UNSET) -> int:
        """Get (no argument) or set (also to None) the inner storage's user id."""
        return await self._accessor(self.inner.user_id, value)

    async def is_bot(self, value: bool | None | Unset = UNSET) -> bool:
        """Get (no argument) or set (also to None) the inner storage's bot flag."""
        return await self._accessor(self.inner.is_bot, value)


def make_storage_safe(client: hydrogram.Client) -> BaseStorage:
    """Put ``client``'s storage behind a :class:`SerializedStorage`, unless it is safe already.

    Safe already: a :class:`MongoSessionStorage`, or a storage this function wrapped
    (calling it again changes nothing). Call it before the client's storage is
    used concurrently; the client may be started or not.

    Returns:
        The storage the client now uses.
    """
    storage: BaseStorage = client.storage
    if not isinstance(storage, SerializedStorage | MongoSessionStorage):
        storage = SerializedStorage(storage)
        client.storage = storage  # type: ignore[assignment]  # hydrogram infers SQLiteStorage
    return storage
