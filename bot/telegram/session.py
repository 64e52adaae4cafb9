"""hydrogram session storage for the standalone bot: safe under concurrent sends.

hydrogram 0.2.0's ``SQLiteStorage`` (aiosqlite) raises ``InterfaceError: bad
parameter or other API misuse`` when several coroutines use it at once, and every
send uses it twice (``resolve_peer`` before, ``fetch_peers`` on the reply after).

:class:`MongoSessionStorage` answers peer look-ups from memory without awaiting
(a read-modify-write never spans an ``await``), keeps the peers in a MongoDB
collection shared by every instance and restart, and keeps the session itself in
a private file or a MongoDB document. Pass it as
``Client(session_storage_engine=session_storage(...))``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hydrogram.storage import BaseStorage
from hydrogram.storage.base import InputPeer

from bot.storage.mongo import Collection, Database
from bot.telegram.peer_cache import PeerCache, PeerCollection, PeerRow, StoredPeer, peer_key
from bot.telegram.session_values import (
    FRESH,
    UNSET,
    SessionStoreKind,
    SessionValues,
    Unset,
    parse_session_string,
    session_values_for,
)

log = logging.getLogger(__name__)

PEERS_COLLECTION = "telegram_peers"
SESSIONS_COLLECTION = "telegram_sessions"
DEFAULT_CACHE_SIZE = 200_000


class MongoSessionStorage(BaseStorage):
    """hydrogram's session storage on MongoDB, with the peers in use held in memory.

    Peers: ``update_peers`` updates memory at once and queues a background write
    to ``peers`` (``_id`` = peer id; ``access_hash``, ``type``, ``username``,
    ``phone_number``, ``updated_at``), so every instance and restart shares what
    any of them learnt. A look-up is answered from memory (an LRU of
    ``cache_size`` peers), else by one ``find_one``. MongoDB errors on writes are
    logged and retried in the background, never raised to hydrogram.

    Access hashes belong to the Telegram account (the bot): use one peers
    collection per bot. A peer seen again unchanged is rewritten at most every
    ``REFRESH_S``.

    Session (``dc_id``, ``api_id``, ``test_mode``, ``auth_key``, ``date``,
    ``user_id``, ``is_bot``): in ``<session_dir>/<name>.session.json`` (``store="file"``,
    mode 0600) or in the document ``_id = name`` of ``sessions`` (``store="mongo"``).
    A ``session_string`` (``Client.export_session_string``) seeds it at :meth:`open`
    when the store is empty or holds another auth key.

    Args:
        name: The session name (the client's name).
        peers: The peers collection (``telegram_peers``).
        store: Where the session lives: ``"file"`` or ``"mongo"``.
        session_dir: The directory of the session file (``store="file"``).
        sessions: The sessions collection (``store="mongo"``).
        session_string: Seeds the session (containers without a disk).
        cache_size: Peers held in memory at most.
        clock: Unix seconds (username expiry, ``updated_at``, ``date``).
        coalesce_s: How long the peer writer gathers updates before a write.
        retry_delays: Seconds between retries of a failed peer write.

    Raises:
        ValueError: A ``store`` without its location, or a bad ``session_string``.
    """

    #: As hydrogram's SQLite storage: a username seen longer ago may belong to someone else.
    USERNAME_TTL = 8 * 60 * 60
    REFRESH_S = 60 * 60

    def __init__(
        self,
        name: str,
        peers: Collection,
        *,
        store: SessionStoreKind = "file",
        session_dir: str | Path | None = None,
        sessions: Collection | None = None,
        session_string: str | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
        coalesce_s: float = 0.05,
        retry_delays: Sequence[float] = (0.1, 0.5, 2.0, 10.0, 30.0),
    ) -> None:
        super().__init__(name)
        self.session: SessionValues = session_values_for(name, store, session_dir, sessions)
        self._seed = parse_session_string(session_string) if session_string else None
        self._values = dict(FRESH)
        self._save_lock = asyncio.Lock()
        self._cache = PeerCache(cache_size)
        self._peers = PeerCollection(peers, coalesce_s=coalesce_s, retry_delays=retry_delays)
        self._clock = clock

    @property
    def cached_peers(self) -> int:
        """Peers held in memory now."""
        return len(self._cache)

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Load the session (seeding it from the session string) and index the peers."""
        await self._peers.ensure_indexes()
        stored = await self.session.load()
        self._values = dict(FRESH) | (stored or {})
        if self._seed is not None and self._values["auth_key"] != self._seed["auth_key"]:
            log.info("session %s: seeded from the session string", self.name)
            self._values |= self._seed
            await self._save_values()

    async def save(self) -> None:
        """Record the session's date and write every pending peer (see :meth:`flush`).

        Called by ``Client.stop``: a failure is logged, not raised, so the client
        still stops (the date is informative; the auth key was saved when set).
        """
        self._values["date"] = int(self._clock())
        try:
            await self._save_values()
        except Exception:
            log.warning("session %s: saving the session failed", self.name, exc_info=True)
        await self.flush()

    async def flush(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109 (a deadline)
        """Write every peer learnt so far to MongoDB; False (logged) if ``timeout`` passed first."""
        return await self._peers.flush(timeout)

    async def close(self) -> None:
        """Write pending peers (for at most 10 s) and stop the background writer."""
        await self._peers.close()

    async def delete(self) -> None:
        """Delete the session (log out); the peers stay, still valid for this bot."""
        self._values = dict(FRESH)
        await self.session.delete()

    # -- peers -----------------------------------------------------------------------------

    async def update_peers(self, peers: Sequence[PeerRow]) -> None:
        """Remember these peers now; MongoDB gets them in the background."""
        now = self._clock()
        changed = []
        for row in peers:
            peer = StoredPeer.from_row(row, now)
            known = self._known(peer.id)
            if known and known.same_values(peer) and now - known.updated_at < self.REFRESH_S:
                self._cache.put(known)  # seen again, unchanged: no write
                continue
            self._cache.put(peer)
            changed.append(peer)
        self._peers.queue(changed)

    async def get_peer_by_id(self, peer_id: int | str) -> InputPeer:
        """The peer with this id, from memory or else MongoDB.

        Raises:
            KeyError: Not known (``resolve_peer`` then asks Telegram).
        """
        key = peer_key(peer_id)
        peer = None if key is None else self._known(key)
        if peer is None and key is not None:
            found = await self._peers.find(key)
            peer = None if found is None else self._remember(found)
        if peer is None:
            raise KeyError(f"ID not found: {peer_id}")
        return peer.input_peer()

    async def get_peer_by_username(self, username: str) -> InputPeer:
        """The peer last seen with this username, within :attr:`USERNAME_TTL`.

        Raises:
            KeyError: Not known, or seen too long ago.
        """
        peer = self._cache.by_username(username)
        if peer is None:
            found = await self._peers.find_by("username", username)
            peer = None if found is None else self._remember(found)
        if peer is None or peer.username != username:
            raise KeyError(f"Username not found: {username}")
        if abs(self._clock() - peer.updated_at) > self.USERNAME_TTL:
            raise KeyError(f"Username expired: {username}")
        return peer.input_peer()

    async def get_peer_by_phone_number(self, phone_number: str) -> InputPeer:
        """The peer with this phone number.

        Raises:
            KeyError: Not known.
        """
        peer = self._cache.by_phone_number(phone_number)
        if peer is None:
            found = await self._peers.find_by("phone_number", phone_number)
            peer = None if found is None else self._remember(found)
        if peer is None or peer.phone_number != phone_number:
            raise KeyError(f"Phone number not found: {phone_number}")
        return peer.input_peer()

    async def peers_by_ids(self, ids: Sequence[int]) -> dict[int, InputPeer]:
        """The ``InputPeer`` of every known id among ``ids``, for resolving recipients in bulk.

        Contract: ids held in memory are answered from it; the rest with one
        ``$in`` query (so pass a batch, a few thousand ids, not a whole audience
        of millions). Unknown ids are absent from the result, never an error:
        ``resolve_peer`` (which asks Telegram) is what to call for those.
        Duplicates are answered once; what MongoDB returns is held in memory.
        """
        found: dict[int, InputPeer] = {}
        missing: list[int] = []
        for peer_id in dict.fromkeys(ids):
            peer = self._known(peer_id)
            if peer is None:
                missing.append(peer_id)
            else:
                found[peer_id] = peer.input_peer()
        for stored in await self._peers.find_many(missing):
            found[stored.id] = self._remember(stored).input_peer()
        return found

    def _known(self, peer_id: int) -> StoredPeer | None:
        """The newest values of a peer held in memory (also if evicted before its write)."""
        peer = self._cache.get(peer_id)
        if peer is None:
            peer = self._peers.unwritten_peer(peer_id)
            if peer is not None:
                self._cache.put(peer)
        return peer

    def _remember(self, found: StoredPeer) -> StoredPeer:
        """Hold a peer read from MongoDB, unless newer values arrived during the read."""
        known = self._known(found.id)
        if known is not None:
            return known
        self._cache.put(found)
        return found

    # -- session values --------------------------------------------------------------------
    # Each getter answers None until the value is set (hydrogram tests that); a value
    # passed, None included, is set, as in hydrogram's SQLiteStorage.

    async def _accessor(self, field: str, value: Any) -> Any:
        if value is UNSET:
            return self._values[field]
        if self._values[field] != value:
            self._values[field] = value
            await self._save_values()
        return None

    async def _save_values(self) -> None:
        async with self._save_lock:  # the last writer writes the latest values
            await self.session.save(dict(self._values))

    async def dc_id(self, value: int | None | Unset = UNSET) -> Any:
        """Get (no argument) or set the data centre id."""
        return await self._accessor("dc_id", value)

    async def api_id(self, value: int | None | Unset = UNSET) -> Any:
        """Get (no argument) or set the API id."""
        return await self._accessor("api_id", value)

    async def test_mode(self, value: bool | None | Unset = UNSET) -> Any:
        """Get (no argument) or set whether the session is on Telegram's test servers."""
        return await self._accessor("test_mode", value)

    async def auth_key(self, value: bytes | None | Unset = UNSET) -> Any:
        """Get (no argument) or set the authorization key (a credential)."""
        return await self._accessor("auth_key", value)

    async def date(self, value: int | None | Unset = UNSET) -> Any:
        """Get (no argument) or set when the session was last saved (Unix seconds)."""
        return await self._accessor("date", value)

    async def user_id(self, value: int | None | Unset = UNSET) -> Any:
        """Get (no argument) or set (also to None) the logged-in account's id."""
        return await self._accessor("user_id", value)

    async def is_bot(self, value: bool | None | Unset = UNSET) -> Any:
        """Get (no argument) or set (also to None) whether the account is a bot."""
        return await self._accessor("is_bot", value)


def session_storage(
    name: str,
    db: Database,
    *,
    store: SessionStoreKind = "file",
    session_dir: str | Path | None = None,
    session_string: str | None = None,
    cache_size: int = DEFAULT_CACHE_SIZE,
) -> MongoSessionStorage:
    """The storage for ``Client(name, session_storage_engine=...)`` on ``db``.

    Peers go to ``telegram_peers``; the session to ``<session_dir>/<name>.session.json``
    (``store="file"``) or to ``telegram_sessions`` (``store="mongo"``). From the
    settings: ``SESSION_STORE``, ``SESSION_DIR``, ``SESSION_STRING``.
    """
    return MongoSessionStorage(
        name,
        db[PEERS_COLLECTION],
        store=store,
        session_dir=session_dir,
        sessions=db[SESSIONS_COLLECTION] if store == "mongo" else None,
        session_string=session_string,
        cache_size=cache_size,
    )
