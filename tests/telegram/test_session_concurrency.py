"""Session storage under concurrent sends: hydrogram's fault, and the two storages that avoid it.

The load is the issue's: 16 tasks, each recording a peer (``update_peers``) and
then looking it up (``get_peer_by_id``), 3,008 pairs in all, on one storage.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import hydrogram
import pytest
from hydrogram import raw
from hydrogram.raw.core import TLObject
from hydrogram.storage import BaseStorage, SQLiteStorage

from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from bot.telegram.serialized import SerializedStorage, make_storage_safe
from bot.telegram.session import MongoSessionStorage, session_storage
from tests.conftest import Launch
from tests.support import broadcast, make_core, seed
from tests.telegram.session_kit import access_hash, is_user

TASKS, PAIRS = 16, 3008
FIRST_PEER = 5_000_000
#: Rounds the unprotected storage gets to fail in. One round failed in 78% of 40 tries
#: on the 2-core development machine, so 15 rounds all pass by chance about once in 10**10.
MAX_ROUNDS = 15

Pair = Callable[[int], Awaitable[None]]


async def concurrent_load(pair: Pair, tasks: int = TASKS, pairs: int = PAIRS) -> Counter[str]:
    """Run ``pair`` once per peer id, from ``tasks`` tasks at once; errors by type."""
    errors: Counter[str] = Counter()
    per_task = pairs // tasks

    async def worker(first: int) -> None:
        for peer_id in range(first, first + per_task):
            try:
                await pair(peer_id)
            except Exception as error:  # every failure counts, whatever it is
                errors[type(error).__name__] += 1

    await asyncio.gather(*(worker(FIRST_PEER + t * per_task) for t in range(tasks)))
    return errors


def storage_pair(storage: BaseStorage) -> Pair:
    """Record a peer, then look it up, as a send does (``fetch_peers``, ``resolve_peer``)."""

    async def pair(peer_id: int) -> None:
        row: Any = (peer_id, access_hash(peer_id), "user", None, None)  # as fetch_peers makes
        await storage.update_peers([row])
        peer = await storage.get_peer_by_id(peer_id)
        if not is_user(peer, peer_id):
            raise AssertionError(f"peer {peer_id} came back as {peer}")

    return pair


def client_pair(client: hydrogram.Client) -> Pair:
    """The same through hydrogram's own ``fetch_peers`` and ``resolve_peer``."""

    async def pair(peer_id: int) -> None:
        user = raw.types.User(id=peer_id, access_hash=access_hash(peer_id), first_name="U")
        await client.fetch_peers([user])
        peer = await client.resolve_peer(peer_id)
        if not is_user(peer, peer_id):
            raise AssertionError(f"peer {peer_id} came back as {peer}")

    return pair


# -- the fault --------------------------------------------------------------------------------


async def test_hydrogram_sqlite_storage_fails_under_concurrent_use() -> None:
    """hydrogram 0.2.0's SQLiteStorage, as it is, fails under the issue's load.

    The ``sqlite3`` cursor that aiosqlite's ``executemany`` returns is dropped on
    the event loop's thread, which resets its statement while aiosqlite's thread
    runs another task's statement on the same connection: ``update_peers`` raises
    ``InterfaceError``, and the look-up after it a ``KeyError``. (Closing or keeping
    those cursors makes the errors vanish.) It needs that overlap in time, so a
    round may pass clean: the test runs rounds until one fails, at most MAX_ROUNDS.
    """
    errors: Counter[str] = Counter()
    rounds = 0
    while not errors and rounds < MAX_ROUNDS:
        rounds += 1
        storage = SQLiteStorage("unprotected", use_memory=True)
        await storage.open()
        try:
            errors = await concurrent_load(storage_pair(storage))
        finally:
            await storage.close()
    assert errors["InterfaceError"] > 0, f"no failure in {rounds} rounds"
    assert set(errors) <= {"InterfaceError", "KeyError"}


# -- the same load, safe -------------------------------------------------------------------------


@pytest.fixture
async def storage(db: Database, tmp_path: Path) -> AsyncIterator[MongoSessionStorage]:
    made = session_storage("bot", db, session_dir=tmp_path)
    await made.open()
    yield made
    await made.close()


async def test_mongo_session_storage_has_no_error_under_the_load(
    storage: MongoSessionStorage, db: Database
) -> None:
    assert await concurrent_load(storage_pair(storage)) == Counter()
    assert await storage.flush()
    assert await db["telegram_peers"].count_documents({}) == PAIRS


async def test_a_default_client_storage_made_safe_has_no_error_under_the_load() -> None:
    client = hydrogram.Client("host", in_memory=True)
    inner = client.storage
    await inner.open()
    safe = make_storage_safe(client)
    try:
        assert client.storage is safe
        assert isinstance(safe, SerializedStorage)
        for _ in range(3):  # as many pairs as three rounds of the failing test
            assert await concurrent_load(storage_pair(safe)) == Counter()
        # What a host's own code reads of its storage still answers, coroutines under the lock.
        assert safe.conn is inner.conn
        assert await safe.version() == SQLiteStorage.VERSION
        await safe.user_id(42)
        await safe.user_id(None)  # hydrogram's load_session sets None this way
        assert (await safe.user_id(), await inner.user_id()) == (None, None)
    finally:
        await safe.close()


class GatedStorage(SQLiteStorage):
    """A host's storage whose ``update_peers`` waits at a gate first."""

    def __init__(self) -> None:
        super().__init__("host", use_memory=True)
        self.entered, self.gate = asyncio.Event(), asyncio.Event()

    async def update_peers(self, peers: Any) -> None:
        self.entered.set()
        await self.gate.wait()
        await super().update_peers(peers)


async def test_a_cancelled_caller_keeps_the_storage_until_its_call_ends() -> None:
    client = hydrogram.Client("host", in_memory=True)
    inner = client.storage = GatedStorage()
    await inner.open()
    safe = make_storage_safe(client)
    row: Any = (1, access_hash(1), "user", None, None)
    writer = asyncio.create_task(safe.update_peers([row]))
    await inner.entered.wait()
    writer.cancel()  # a worker stopped at shutdown, in the middle of a storage call
    reader = asyncio.create_task(safe.get_peer_by_id(1))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not reader.done()  # waits for the cancelled caller's call
    inner.gate.set()
    assert is_user(await reader, 1)  # which completed
    with pytest.raises(asyncio.CancelledError):
        await writer
    await safe.close()


async def test_install_makes_the_simulator_storage_safe(
    launch: Launch, sim: TelegramSimulator
) -> None:
    assert isinstance(sim.storage, SQLiteStorage)  # the simulator is a default hydrogram client
    await launch()
    assert isinstance(sim.storage, SerializedStorage)
    assert await concurrent_load(client_pair(sim)) == Counter()
    assert await concurrent_load(storage_pair(sim.storage)) == Counter()


async def test_making_storage_safe_again_changes_nothing(storage: MongoSessionStorage) -> None:
    client = hydrogram.Client("host", in_memory=True)
    wrapped = make_storage_safe(client)
    assert make_storage_safe(client) is wrapped
    ours = hydrogram.Client("ours", session_storage_engine=storage)
    assert make_storage_safe(ours) is storage


class FetchingSimulator(TelegramSimulator):
    """Records every reply's peers in the storage, as hydrogram's own ``Client.invoke`` does."""

    async def invoke(self, query: TLObject, *args: Any, **kwargs: Any) -> Any:
        reply = await super().invoke(query, *args, **kwargs)
        await self.fetch_peers(getattr(reply, "users", []))
        await self.fetch_peers(getattr(reply, "chats", []))
        return reply


async def test_a_broadcast_runs_on_the_mongo_storage(db: Database, tmp_path: Path) -> None:
    sim = FetchingSimulator(telegram_limit=1000)
    sim.storage = session_storage("sim", db, session_dir=tmp_path)  # type: ignore[assignment]
    await sim.start()
    try:
        users = await seed(db, sim, range(FIRST_PEER, FIRST_PEER + 300))
        core = make_core(db, sim, concurrency=16)
        assert isinstance(sim.storage, MongoSessionStorage)  # left as it is
        _, summary = await broadcast(core)
        assert (summary.sent, summary.failed, summary.unknown) == (300, 0, 0)
    finally:
        await sim.stop()  # closes the storage: its peers are written
    assert await db["telegram_peers"].count_documents({"_id": {"$in": users}}) == 300
