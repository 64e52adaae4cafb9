"""The MongoDB session storage's peers: shared, cached, written in the background, looked up
as hydrogram looks them up."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hydrogram import raw
from pymongo.errors import AutoReconnect

from bot.delivery.errors import StorageUnavailableError
from bot.delivery.model import as_utc
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from bot.telegram.session import MongoSessionStorage
from tests.telegram.session_kit import access_hash, hash_of, user_of


class CountedCollection:
    """A driver collection that counts reads and can refuse the next writes (an outage)."""

    def __init__(self, collection: Any, *, failing_writes: int = 0) -> None:
        self.collection = collection
        self.failing_writes = failing_writes
        self.calls: Counter[str] = Counter()
        self.wrote = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)

    async def find_one(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["find_one"] += 1
        return await self.collection.find_one(*args, **kwargs)

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["find"] += 1
        return self.collection.find(*args, **kwargs)

    async def bulk_write(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["bulk_write"] += 1
        if self.failing_writes:
            self.failing_writes -= 1
            raise AutoReconnect("connection refused")
        result = await self.collection.bulk_write(*args, **kwargs)
        self.wrote.set()
        return result


def rows(ids: range, username: str | None = None) -> list[Any]:
    return [(i, access_hash(i), "user", username and f"{username}{i}", None) for i in ids]


async def opened(peers: Any, tmp_path: Path, **options: Any) -> MongoSessionStorage:
    made = MongoSessionStorage("bot", peers, session_dir=tmp_path, **options)
    await made.open()
    return made


async def test_peers_survive_a_restart(db: Database, tmp_path: Path) -> None:
    first = await opened(db["telegram_peers"], tmp_path)
    await first.update_peers(rows(range(1, 4), username="user"))
    await first.close()
    second = await opened(db["telegram_peers"], tmp_path)
    assert second.cached_peers == 0
    assert hash_of(await second.get_peer_by_id(2)) == access_hash(2)
    assert user_of(await second.get_peer_by_username("user3")) == 3
    await second.close()


async def test_peers_are_shared_between_instances(db: Database, tmp_path: Path) -> None:
    a = await opened(db["telegram_peers"], tmp_path / "a")
    b = await opened(db["telegram_peers"], tmp_path / "b")
    await a.update_peers(rows(range(10, 12)))
    with pytest.raises(KeyError):
        await b.get_peer_by_id(10)  # not written yet: a miss, as hydrogram expects
    assert await a.flush()
    assert hash_of(await b.get_peer_by_id(10)) == access_hash(10)
    assert await b.peers_by_ids([10, 11]) == await a.peers_by_ids([10, 11])
    await a.close()
    await b.close()


async def test_an_evicted_peer_is_read_from_mongodb(db: Database, tmp_path: Path) -> None:
    peers = CountedCollection(db["telegram_peers"])
    made = await opened(peers, tmp_path, cache_size=10)
    await made.update_peers(rows(range(100, 130)))
    assert made.cached_peers == 10
    assert hash_of(await made.get_peer_by_id(100)) == access_hash(100)  # evicted, unwritten
    assert await made.flush()
    assert hash_of(await made.get_peer_by_id(101)) == access_hash(101)
    assert hash_of(await made.get_peer_by_id(101)) == access_hash(101)
    assert hash_of(await made.get_peer_by_id(129)) == access_hash(129)
    assert peers.calls["find_one"] == 1  # 101 once; then memory
    assert made.cached_peers == 10
    await made.close()


async def test_peers_by_ids_reads_the_misses_in_one_query(db: Database, tmp_path: Path) -> None:
    peers = CountedCollection(db["telegram_peers"])
    made = await opened(peers, tmp_path, cache_size=10)
    await made.update_peers(rows(range(200, 230)))
    assert await made.flush()
    wanted = [*range(195, 232), 201, 229]  # unknown ids, evicted ones, held ones, duplicates
    found = await made.peers_by_ids(wanted)
    assert sorted(found) == list(range(200, 230))
    assert {i: hash_of(p) for i, p in found.items()} == {i: access_hash(i) for i in found}
    assert peers.calls["find"] == 1
    assert await made.peers_by_ids([]) == {}
    assert peers.calls["find"] == 1
    await made.close()


async def test_a_look_up_while_mongodb_is_unreachable_raises_our_outage_error(
    db: Database, tmp_path: Path
) -> None:
    plan = FaultPlan()
    made = await opened(FaultyDatabase(db, plan)["telegram_peers"], tmp_path, cache_size=10)
    await made.update_peers(rows(range(400, 430)))
    assert await made.flush()
    plan.outage(collections=["telegram_peers"])  # the pipeline waits this error out
    with pytest.raises(StorageUnavailableError):
        await made.get_peer_by_id(400)  # evicted: read from MongoDB
    with pytest.raises(StorageUnavailableError):
        await made.peers_by_ids([401, 429])
    with pytest.raises(StorageUnavailableError):
        await made.get_peer_by_username("nobody")
    plan.heal()
    assert hash_of(await made.get_peer_by_id(400)) == access_hash(400)
    await made.close()


async def test_a_failed_write_is_retried_in_the_background(db: Database, tmp_path: Path) -> None:
    peers = CountedCollection(db["telegram_peers"], failing_writes=2)
    made = await opened(peers, tmp_path, retry_delays=(0.01,), coalesce_s=0.0)
    await made.update_peers(rows(range(300, 310)))  # returns: MongoDB is not waited for
    assert hash_of(await made.get_peer_by_id(305)) == access_hash(305)
    async with asyncio.timeout(5):
        await peers.wrote.wait()  # by the background writer: nothing else writes
    assert peers.calls["bulk_write"] == 3
    assert await db["telegram_peers"].count_documents({}) == 10
    await made.close()


async def test_a_peer_seen_again_unchanged_is_not_rewritten(db: Database, tmp_path: Path) -> None:
    now = [1_000_000.0]
    peers = CountedCollection(db["telegram_peers"])
    made = await opened(peers, tmp_path, clock=lambda: now[0])
    for _ in range(3):  # every send's reply names its recipient again
        await made.update_peers(rows(range(500, 505)))
        assert await made.flush()
    assert peers.calls["bulk_write"] == 1
    await made.update_peers([(500, 1, "user", None, None)])  # a new access hash
    now[0] += MongoSessionStorage.REFRESH_S  # and the others are due a refresh
    await made.update_peers(rows(range(501, 505)))
    assert await made.flush()
    assert peers.calls["bulk_write"] == 2
    assert (await db["telegram_peers"].find_one({"_id": 500}))["access_hash"] == 1
    refreshed = await db["telegram_peers"].find_one({"_id": 504})
    assert as_utc(refreshed["updated_at"]) == datetime.fromtimestamp(now[0], UTC)
    await made.close()


async def test_flush_gives_up_at_its_deadline_and_keeps_the_peers(
    db: Database, tmp_path: Path
) -> None:
    peers = CountedCollection(db["telegram_peers"], failing_writes=10**6)
    made = await opened(peers, tmp_path, retry_delays=(0.01,))
    await made.update_peers(rows(range(400, 405)))
    assert not await made.flush(timeout=0.05)
    peers.failing_writes = 0
    assert await made.flush()
    assert await db["telegram_peers"].count_documents({}) == 5
    await made.close()


async def test_lookups_follow_hydrogram_semantics(db: Database, tmp_path: Path) -> None:
    now = [1_000_000.0]
    made = await opened(db["telegram_peers"], tmp_path, clock=lambda: now[0])
    await made.update_peers([(1, 11, "user", "alice", "15550001"), (-5, 0, "group", None, None)])
    await made.update_peers([(-1000000001234, 9, "channel", "news", None)])
    assert isinstance(await made.get_peer_by_id(-5), raw.types.InputPeerChat)
    channel = await made.get_peer_by_id("-1000000001234")  # digits, as in SQLite
    assert isinstance(channel, raw.types.InputPeerChannel)
    assert channel.channel_id == 1234
    assert user_of(await made.get_peer_by_phone_number("15550001")) == 1
    for missing in ("me", "alice", 2):  # resolve_peer asks ids and names alike
        with pytest.raises(KeyError):
            await made.get_peer_by_id(missing)
    await made.update_peers([(1, 11, "user", "alice_2", None)])  # renamed
    with pytest.raises(KeyError):
        await made.get_peer_by_username("alice")
    now[0] += MongoSessionStorage.USERNAME_TTL + 1
    with pytest.raises(KeyError, match="expired"):
        await made.get_peer_by_username("alice_2")
    await made.close()
