"""The indexed in-memory MongoDB: the queries of the pipeline and the bot, without scans.

Each scenario runs on an indexed database and on plain mongomock and returns
what it saw (documents in order, counts, errors); the two logs must be equal.
The indexed database also counts the documents its queries examined, which
shows that they came off an index and do not grow with the collection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from benchmarks.queries import SHAPES, costs
from bot.delivery.errors import ErrorCategory
from bot.delivery.model import BroadcastStatus, Outcome
from bot.storage.inmemory import in_memory_database, query_stats
from bot.storage.ledger import MongoDeliveryLedger
from bot.storage.mongo import Database
from bot.storage.store import MongoBroadcastStore
from bot.storage.users import MongoUserDirectory, UserProfile
from segments import SegmentCatalog, index_fields
from tests.storage.twins import comparable

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
PAGE = 50
Scenario = Callable[[Database], Awaitable[list[Any]]]


async def on_both(scenario: Scenario) -> Database:
    """Run ``scenario`` on both databases, check the logs agree; returns the indexed one."""
    indexed, plain = in_memory_database("t"), in_memory_database("t", indexed=False)
    got, expected = await scenario(indexed), await scenario(plain)
    assert got == expected
    return indexed


async def attempt(call: Awaitable[Any]) -> Any:
    """The call's result, or its error's type and code (errors are behaviour too)."""
    try:
        return comparable(await call)
    except (DuplicateKeyError, BulkWriteError) as error:
        return type(error).__name__, error.code, error.details


async def seed_users(db: Database, count: int) -> MongoUserDirectory:
    """Users with languages, premium flags, activity; every 25th blocked; indexes as the bot."""
    users = MongoUserDirectory(db)
    docs = [
        {
            "user_id": uid,
            "language_code": ["en", "de", "ru"][uid % 3],
            "is_premium": uid % 4 == 0,
            "last_seen": NOW - timedelta(days=uid % 30),
            **({"bot_blocked_at": NOW} if uid % 25 == 0 else {}),
        }
        for uid in range(count)
    ]
    await db["users"].insert_many(docs)
    await users.ensure_indexes(index_fields(users.fields), unique_ids=True)
    return users


SEGMENTS = [[], ["inactive_7d"], ["lang:de", "premium"]]


@pytest.mark.parametrize("segments", SEGMENTS)
async def test_audience_pages_in_id_order_read_what_plain_mongomock_reads(
    segments: list[str],
) -> None:
    segment = SegmentCatalog().compile(segments, [], NOW) if segments else {}

    async def pages(db: Database) -> list[Any]:
        await seed_users(db, 1200)
        seen: list[list[int]] = []
        last = None
        while True:
            query = segment if last is None else {"$and": [segment, {"_id": {"$gt": last}}]}
            cursor = db["users"].find(query, {"user_id": 1}).sort("_id", 1).limit(PAGE)
            page = [doc async for doc in cursor]
            if not page:
                return seen
            seen.append([doc["user_id"] for doc in page])
            last = page[-1]["_id"]

    indexed = await on_both(pages)
    assert query_stats(indexed["users"]).scans == 0


async def test_ledger_shapes_answer_as_plain_mongomock_without_scanning() -> None:
    async def ledger_life(db: Database) -> list[Any]:
        ledger, rows, log = MongoDeliveryLedger(db), db["deliveries"], list[Any]()
        await ledger.ensure_indexes()
        await ledger.add_pending("other", list(range(300)), NOW)
        log.append(await ledger.add_pending("b", list(range(0, 200, 2)), NOW))
        log.append(await ledger.add_pending("b", list(range(100, 300)), NOW))  # half repeated
        log.append(await ledger.claim("b", list(range(0, 120)), NOW, "t1"))
        log.append(await ledger.claim("b", list(range(100, 140)), NOW, "t2"))  # some taken
        await ledger.settle("b", [Outcome(u, 1, (u,), at=NOW) for u in range(0, 60)])
        failed = ErrorCategory.BLOCKED
        await ledger.settle("b", [Outcome(u, 2, error=failed, at=NOW) for u in range(60, 80)])
        await ledger.release("b", list(range(80, 100)))
        for status in ("pending", "sending", "sent", "failed"):
            last = -1
            while True:  # the owner's paging: by user_id, no long-lived cursor
                query = {"broadcast_id": "b", "status": status, "user_id": {"$gt": last}}
                cursor = rows.find(query, {"user_id": 1, "_id": 0}).sort("user_id", 1)
                page = [doc["user_id"] async for doc in cursor.limit(PAGE)]
                if not page:
                    break
                log.append((status, page))
                last = page[-1]
            log.append(await rows.count_documents({"broadcast_id": "b", "status": status}))
        log.append(await ledger.tally("b"))
        log.append(await ledger.pending_page("b", None, 40))
        return log

    indexed = await on_both(ledger_life)
    assert query_stats(indexed["deliveries"]).scans == 0


async def test_user_writes_and_lookups_answer_as_plain_mongomock() -> None:
    async def users_life(db: Database) -> list[Any]:
        users, log = await seed_users(db, 300), list[Any]()
        await users.record(UserProfile(5, first_name="Again"), NOW)  # an upsert that updates
        await users.record(UserProfile(1000, first_name="New"), NOW)  # one that inserts
        await users.mark_unreachable([7, 8, 1000], [9], NOW)
        await db["users"].update_one({"user_id": 8}, {"$set": {"role": "admin"}})
        for uid in (7, 8, 1000, 4000):
            log.append(await db["users"].find_one({"user_id": uid, "role": "admin"}, {"_id": 0}))
        log.append(await attempt(db["users"].insert_one({"user_id": 5})))
        log.append(await attempt(db["users"].update_one({"user_id": 6}, {"$set": {"user_id": 5}})))
        log.append(await users.count(SegmentCatalog().base_filter()))
        log.append([doc async for doc in db["users"].find({}, {"_id": 0})])
        return log

    indexed = await on_both(users_life)
    assert query_stats(indexed["users"]).scans == 2  # the count and the listing of everyone


async def test_broadcast_lookups_and_transitions_answer_as_plain_mongomock() -> None:
    async def broadcasts_life(db: Database) -> list[Any]:
        store, log = MongoBroadcastStore(db), list[Any]()
        await store.ensure_indexes()
        for n, status in enumerate(["draft", "queued", "running", "completed", "queued"]):
            at = NOW + timedelta(minutes=n)
            await store.insert({"broadcast_id": f"b{n}", "status": status, "created_at": at})
        log.append(await store.get("b2"))
        queued, running = [BroadcastStatus.QUEUED], BroadcastStatus.RUNNING
        log.append(await store.transition("b1", queued, running, at=NOW, by=1))
        log.append(await store.transition("b1", queued, running, at=NOW))  # lost the race
        log.append(await store.with_status([BroadcastStatus.QUEUED, BroadcastStatus.RUNNING]))
        log.append(await store.recent(3))
        log.append(await store.insert_once({"broadcast_id": "b0", "status": "draft"}))
        return log

    indexed = await on_both(broadcasts_life)
    assert query_stats(indexed["broadcasts"]).scans == 0


async def test_every_write_path_keeps_the_indexes_in_step() -> None:
    async def writes(db: Database) -> list[Any]:
        docs, log = db["docs"], list[Any]()
        await docs.create_index([("group", 1), ("rank", 1)])
        await docs.create_index("tag")
        await docs.insert_many(
            [{"_id": n, "group": n % 3, "rank": n, "tag": f"t{n % 4}"} for n in range(30)]
        )
        await docs.update_one({"_id": 4}, {"$set": {"group": 2, "rank": -1}})  # moves it
        await docs.update_many({"group": 1, "rank": {"$gte": 20}}, {"$set": {"tag": "late"}})
        await docs.replace_one({"_id": 7}, {"group": 0, "rank": 100, "tag": "r"})
        await docs.replace_one({"_id": 99}, {"group": 1, "rank": 0}, upsert=True)
        await docs.update_one({"group": 2, "rank": 55}, {"$set": {"tag": "u"}}, upsert=True)
        await docs.delete_one({"_id": 10})
        await docs.delete_many({"tag": "late"})
        await docs.find_one_and_update({"group": 0}, {"$unset": {"group": ""}}, sort=[("rank", -1)])
        await docs.bulk_write(
            [
                UpdateOne({"_id": 1}, {"$set": {"group": 1, "tag": "bulk"}}),
                InsertOne({"_id": 200, "group": 2, "rank": 3}),
                ReplaceOne({"_id": 2}, {"group": 0, "rank": 2}),
            ],
            ordered=False,
        )
        for group in (0, 1, 2, None):  # (the upsert's generated _id differs between the two)
            query = {"group": group, "rank": {"$gt": -5}}
            cursor = docs.find(query, {"_id": 0}).sort("rank", 1)
            log.append([doc async for doc in cursor])
        for tag in ("t0", "t1", "t2", "t3", "late", "r", "u", "bulk", None):
            log.append(await docs.count_documents({"tag": tag}))
        return log

    indexed = await on_both(writes)
    assert query_stats(indexed["docs"]).scans == 0


async def test_unique_indexes_still_refuse_duplicates_and_roll_back() -> None:
    async def duplicates(db: Database) -> list[Any]:
        users, log = db["users"], list[Any]()
        await users.create_index("user_id", unique=True)
        await users.insert_many([{"_id": n, "user_id": n * 10} for n in range(5)])
        log.append(await attempt(users.insert_one({"_id": 9, "user_id": 20})))
        log.append(await attempt(users.insert_many([{"_id": 9}, {"_id": 1}], ordered=False)))
        log.append(await attempt(users.update_one({"_id": 3}, {"$set": {"user_id": 40}})))
        log.append(
            await attempt(users.update_one({"user_id": 40}, {"$set": {"x": 1}}, upsert=True))
        )
        log.append(await attempt(users.replace_one({"_id": 2}, {"user_id": 10})))
        new = {"_id": 7, "user_id": 77}  # (a generated _id would differ between the two)
        log.append(await attempt(users.update_one(new, {"$set": {"y": 1}}, upsert=True)))
        for value in (0, 10, 20, 30, 40, 77):  # the failed writes left the index as it was
            log.append(await users.find_one({"user_id": value}, {"_id": 0, "user_id": 1}))
        return log

    indexed = await on_both(duplicates)
    assert query_stats(indexed["users"]).scans == 0


async def test_a_query_no_index_serves_is_scanned() -> None:
    db = in_memory_database()
    await db["docs"].insert_many([{"n": n} for n in range(100)])
    await db["docs"].create_index("n")
    assert await db["docs"].count_documents({"m": {"$exists": False}}) == 100
    assert await db["docs"].count_documents({"n": {"$in": [1, 2]}}) == 2
    assert query_stats(db["docs"]) == type(query_stats(db["docs"]))(examined=102, scans=1)


async def test_documents_examined_per_query_do_not_grow_with_the_collection() -> None:
    small, large = await costs(5_000), await costs(25_000)
    for name in SHAPES:
        assert large[name]["scans"] == 0, name
        if name == "audience page: lang:de premium":
            # A selective filter no index serves: a page costs at most about its length
            # over the filter's selectivity (2.3%), whatever the audience.
            assert large[name]["examined"] <= 2 * 500 / 0.023, large[name]
        else:
            assert large[name]["examined"] == small[name]["examined"], name
