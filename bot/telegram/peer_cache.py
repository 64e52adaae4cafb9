"""hydrogram's peer cache kept in MongoDB, with the peers in use held in memory.

hydrogram records every user and chat it sees (``Client.fetch_peers``) and looks
them up before every request (``Client.resolve_peer``): two storage calls per
send. :class:`PeerCache` answers the look-ups from memory (a bounded LRU) with no
``await``, so concurrent senders never interleave inside one; :class:`PeerCollection`
reads what memory does not hold from MongoDB and writes changes there in the
background, in coalesced batches, so a send never waits on (or fails with) a write.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from hydrogram import raw, utils
from hydrogram.storage.base import InputPeer
from pymongo import UpdateOne

from bot.delivery.model import as_utc
from bot.storage.mongo import Collection
from bot.storage.outage import outages_translated

log = logging.getLogger(__name__)

#: What hydrogram passes to ``update_peers``: id, access hash, type, username, phone.
PeerRow = tuple[int, int, str, str | None, str | None]
_INTEGER = re.compile(r"-?\d+")


class StoredPeer(NamedTuple):
    """One peer as hydrogram knows it, and when it was last seen (Unix seconds)."""

    id: int
    access_hash: int
    type: str
    username: str | None
    phone_number: str | None
    updated_at: float

    @classmethod
    def from_row(cls, row: PeerRow, now: float) -> StoredPeer:
        """A row of ``update_peers``, seen at ``now``."""
        peer_id, access_hash, peer_type, username, phone_number = row
        return cls(peer_id, access_hash, peer_type, username, phone_number, now)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> StoredPeer:
        """A document of the peers collection."""
        seen = as_utc(doc.get("updated_at"))
        return cls(
            int(doc["_id"]),
            int(doc.get("access_hash") or 0),
            str(doc["type"]),
            doc.get("username"),
            doc.get("phone_number"),
            seen.timestamp() if seen else 0.0,
        )

    def same_values(self, other: StoredPeer) -> bool:
        """Whether ``other`` is this peer with the same values (when seen aside)."""
        return self[:5] == other[:5]

    def upsert(self) -> UpdateOne:
        """The upsert that stores this peer (absent username or phone are removed)."""
        values = {"access_hash": self.access_hash, "type": self.type}
        values |= {"updated_at": datetime.fromtimestamp(self.updated_at, UTC)}
        optional = {"username": self.username, "phone_number": self.phone_number}
        change: dict[str, Any] = {"$set": values | {k: v for k, v in optional.items() if v}}
        absent = {k: "" for k, v in optional.items() if not v}
        if absent:
            change["$unset"] = absent
        return UpdateOne({"_id": self.id}, change, upsert=True)

    def input_peer(self) -> InputPeer:
        """The ``InputPeer`` hydrogram sends for this peer (as its ``SQLiteStorage`` builds it).

        Raises:
            ValueError: The stored type is not one hydrogram writes.
        """
        if self.type in {"user", "bot"}:
            return raw.types.InputPeerUser(user_id=self.id, access_hash=self.access_hash)
        if self.type == "group":
            return raw.types.InputPeerChat(chat_id=-self.id)
        if self.type in {"channel", "supergroup"}:
            channel_id = utils.get_channel_id(self.id)
            return raw.types.InputPeerChannel(channel_id=channel_id, access_hash=self.access_hash)
        raise ValueError(f"Invalid peer type: {self.type}")


def peer_key(peer_id: int | str) -> int | None:
    """``peer_id`` as a stored id, or None if it cannot be one.

    ``resolve_peer`` asks for ids, usernames and ``"me"`` alike; a string of digits
    finds the peer, as in hydrogram's SQLite storage (SQLite compares it as a number).
    """
    if isinstance(peer_id, int):
        return peer_id
    return int(peer_id) if _INTEGER.fullmatch(peer_id) else None


class PeerCache:
    """The most recently used peers, at most ``capacity``, with username and phone indexes.

    Every method is synchronous: a read-modify-write never spans an ``await``.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        self._peers: OrderedDict[int, StoredPeer] = OrderedDict()
        self._by_username: dict[str, int] = {}
        self._by_phone: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._peers)

    def __contains__(self, peer_id: object) -> bool:
        return peer_id in self._peers

    def get(self, peer_id: int) -> StoredPeer | None:
        """The peer, now the most recently used; None if not held."""
        peer = self._peers.get(peer_id)
        if peer is not None:
            self._peers.move_to_end(peer_id)
        return peer

    def by_username(self, username: str) -> StoredPeer | None:
        """The peer last seen with ``username``, if held."""
        peer_id = self._by_username.get(username)
        return None if peer_id is None else self.get(peer_id)

    def by_phone_number(self, phone_number: str) -> StoredPeer | None:
        """The peer last seen with ``phone_number``, if held."""
        peer_id = self._by_phone.get(phone_number)
        return None if peer_id is None else self.get(peer_id)

    def put(self, peer: StoredPeer) -> None:
        """Hold ``peer`` (replacing what was held for its id), evicting the least recently used."""
        old = self._peers.pop(peer.id, None)
        if old is not None:
            self._unindex(old)
        self._peers[peer.id] = peer
        if peer.username:
            self._by_username[peer.username] = peer.id
        if peer.phone_number:
            self._by_phone[peer.phone_number] = peer.id
        while len(self._peers) > self.capacity:
            _, evicted = self._peers.popitem(last=False)
            self._unindex(evicted)

    def _unindex(self, peer: StoredPeer) -> None:
        if peer.username and self._by_username.get(peer.username) == peer.id:
            del self._by_username[peer.username]
        if peer.phone_number and self._by_phone.get(peer.phone_number) == peer.id:
            del self._by_phone[peer.phone_number]


@outages_translated
class PeerCollection:
    """The peers collection (``_id`` = peer id): look-ups, and writes in background batches.

    :meth:`queue` is synchronous and never fails; a background task writes what
    was queued in bulk upserts of at most ``batch_size`` (a peer queued twice
    before its write is written once, newest values). A failed write is logged,
    put back (unless newer values were queued meanwhile) and retried after
    ``retry_delays`` (the last one repeats). :meth:`flush` writes everything now.
    A read while MongoDB cannot be reached raises StorageUnavailableError.

    Args:
        collection: The MongoDB collection (PyMongo async or motor).
        batch_size: Peers per bulk write.
        coalesce_s: How long the writer waits after the first queued peer, so a
            burst of ``update_peers`` calls becomes one write.
        retry_delays: Seconds before each retry of a failed write.
    """

    def __init__(
        self,
        collection: Collection,
        *,
        batch_size: int = 1000,
        coalesce_s: float = 0.05,
        retry_delays: Sequence[float] = (0.1, 0.5, 2.0, 10.0, 30.0),
    ) -> None:
        self.collection = collection
        self.batch_size = batch_size
        self.coalesce_s = coalesce_s
        self.retry_delays = tuple(retry_delays) or (1.0,)
        self._pending: dict[int, StoredPeer] = {}
        self._writing: dict[int, StoredPeer] = {}
        self._write_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def unwritten(self) -> int:
        """Peers queued or being written, not yet confirmed by MongoDB."""
        return len(self._pending) + len(self._writing)

    async def ensure_indexes(self) -> None:
        """The username and phone number look-ups' indexes (idempotent)."""
        await self.collection.create_index("username", sparse=True)
        await self.collection.create_index("phone_number", sparse=True)

    def queue(self, peers: Iterable[StoredPeer]) -> None:
        """Write these peers soon, in the background."""
        for peer in peers:
            self._pending.pop(peer.id, None)  # re-inserted last: written after older ones
            self._pending[peer.id] = peer
        if self._pending:
            self._wake.set()
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._write_forever())

    def unwritten_peer(self, peer_id: int) -> StoredPeer | None:
        """The newest values of a peer whose write is not confirmed yet, if any."""
        return self._pending.get(peer_id) or self._writing.get(peer_id)

    async def find(self, peer_id: int) -> StoredPeer | None:
        """The stored peer with this id (one ``find_one``)."""
        doc = await self.collection.find_one({"_id": peer_id})
        return None if doc is None else StoredPeer.from_document(doc)

    async def find_by(self, field: str, value: str) -> StoredPeer | None:
        """The peer last seen with this ``username`` or ``phone_number`` (one ``find_one``)."""
        doc = await self.collection.find_one({field: value}, sort=[("updated_at", -1)])
        return None if doc is None else StoredPeer.from_document(doc)

    async def find_many(self, peer_ids: Sequence[int]) -> list[StoredPeer]:
        """The stored peers among ``peer_ids`` (one ``$in`` query)."""
        if not peer_ids:
            return []
        cursor = self.collection.find({"_id": {"$in": list(peer_ids)}})
        return [StoredPeer.from_document(doc) async for doc in cursor]

    async def flush(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109 (a deadline, not a wait)
        """Write every queued peer now, retrying failed writes until ``timeout`` seconds.

        Returns:
            True when everything queued before and during the call is in MongoDB;
            False (logged) if the deadline passed first: the peers stay queued.
        """
        failures = 0
        try:
            async with asyncio.timeout(timeout):
                while self._pending or self._writing:
                    failures = 0 if await self._write_batch() else failures + 1
                    if failures:
                        await asyncio.sleep(self._delay(failures))
        except TimeoutError:
            log.warning("%d peers not yet written to MongoDB after %.1f s", self.unwritten, timeout)
            return False
        return True

    async def close(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109
        """Flush (see :meth:`flush`), then stop the background writer."""
        flushed = await self.flush(timeout)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return flushed

    def _delay(self, failures: int) -> float:
        return self.retry_delays[min(failures, len(self.retry_delays)) - 1]

    async def _write_forever(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.coalesce_s)
            while self._pending:
                failures = 0 if await self._write_batch() else failures + 1
                if failures:
                    await asyncio.sleep(self._delay(failures))
            self._wake.clear()

    async def _write_batch(self) -> bool:
        """Write up to ``batch_size`` queued peers; False if MongoDB refused (they stay queued)."""
        async with self._write_lock:  # one write in flight: a peer's newer values land last
            ids = list(itertools.islice(self._pending, self.batch_size))
            if not ids:
                return True
            self._writing = {peer_id: self._pending.pop(peer_id) for peer_id in ids}
            written = False
            try:
                await self.collection.bulk_write(
                    [peer.upsert() for peer in self._writing.values()], ordered=False
                )
                written = True
            except Exception:  # any driver or server error: the peers are retried, never lost
                log.warning("writing %d peers to MongoDB failed", len(ids), exc_info=True)
            finally:
                if not written:  # also when cancelled
                    for peer_id, peer in self._writing.items():
                        self._pending.setdefault(peer_id, peer)
                self._writing = {}
            return written
