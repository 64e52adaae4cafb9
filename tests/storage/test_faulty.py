"""The fault injector: PyMongo's real errors at the right moment, and nothing else changed.

Runs on the ``db`` fixture (mongomock, or a real server with MONGO_TEST_URI); time is a
fake clock the tests move, so no test waits.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, DeleteOne, InsertOne, ReturnDocument, UpdateOne
from pymongo.errors import (
    AutoReconnect,
    CursorNotFound,
    NetworkTimeout,
    NotPrimaryError,
    PyMongoError,
)

from bot.storage.faulty import FaultyCursor, FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Collection, Database, aggregate

IDLE = 60.0


class FakeTime:
    """A monotonic clock that moves only when told, and a sleep that moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def plan(fake_time: FakeTime) -> FaultPlan:
    return FaultPlan(clock=fake_time, sleep=fake_time.sleep, cursor_idle_timeout=IDLE)


@pytest.fixture
def faulty(db: Database, plan: FaultPlan) -> FaultyDatabase:
    return FaultyDatabase(db, plan)


async def failure(call: Awaitable[Any]) -> type[PyMongoError] | None:
    """The type of the PyMongo error ``call`` raised, or None if it succeeded."""
    try:
        await call
    except PyMongoError as error:
        return type(error)
    return None


async def state(collection: Collection) -> tuple[list[Any], list[str]]:
    """Every document by ``_id``, and the index names, read from the bare database."""
    documents = [doc async for doc in collection.find({}).sort("_id", ASCENDING)]
    return documents, sorted(await collection.index_information())


async def seed(db: Database, count: int) -> None:
    await db["items"].insert_many(
        [{"_id": i, "n": i % 5, "tag": "ab"[i % 2]} for i in range(count)]
    )


async def open_aggregate(collection: Any, pipeline: list[dict[str, Any]]) -> FaultyCursor:
    """The cursor, as either driver gives it (PyMongo's is awaited, and runs the command)."""
    cursor = collection.aggregate(pipeline)
    opened: FaultyCursor = await cursor if inspect.isawaitable(cursor) else cursor
    return opened


WRITES: dict[str, Callable[[Any], Awaitable[Any]]] = {
    "insert_one": lambda c: c.insert_one({"_id": 3, "n": 0}),
    "insert_many": lambda c: c.insert_many([{"_id": 3}, {"_id": 4}]),
    "update_one": lambda c: c.update_one({"_id": 1}, {"$inc": {"n": 1}}),
    "update_many": lambda c: c.update_many({}, {"$inc": {"n": 1}}),
    "bulk_write": lambda c: c.bulk_write(
        [UpdateOne({"_id": 1}, {"$inc": {"n": 1}}), DeleteOne({"_id": 2}), InsertOne({"_id": 5})]
    ),
    "find_one_and_update": lambda c: c.find_one_and_update({"_id": 2}, {"$set": {"n": 7}}),
    "delete_one": lambda c: c.delete_one({"_id": 1}),
    "delete_many": lambda c: c.delete_many({}),
    "create_index": lambda c: c.create_index("n"),
}


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("operation", sorted(WRITES))
async def test_an_outage_fails_a_write_before_it_reaches_the_database_or_after(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan, operation: str, after: bool
) -> None:
    for name in ("subject", "expected"):
        await db[name].insert_many([{"_id": 1, "n": 0}, {"_id": 2, "n": 0}])
    unchanged = await state(db["subject"])
    await WRITES[operation](db["expected"])
    plan.outage(after=after)

    assert await failure(WRITES[operation](faulty["subject"])) is AutoReconnect
    written = await state(db["expected"])
    assert written != unchanged
    assert await state(db["subject"]) == (written if after else unchanged)


@pytest.mark.parametrize("error", [AutoReconnect, NetworkTimeout, NotPrimaryError])
async def test_an_outage_raises_the_error_it_names_until_healed(
    faulty: FaultyDatabase, plan: FaultPlan, error: type[PyMongoError]
) -> None:
    plan.outage(errors=error)
    assert [await failure(faulty["items"].find_one({})) for _ in range(3)] == [error] * 3
    assert await failure(faulty["items"].find({}).to_list()) is error

    plan.heal()
    assert await failure(faulty["items"].insert_one({"_id": 1})) is None
    assert await faulty["items"].find({}).to_list() == [{"_id": 1}]
    assert plan.record.by_kind == {error.__name__: 4}
    assert plan.record.by_operation == {"find_one": 3, "find": 1}


async def test_an_outage_between_two_times_covers_exactly_that_window(
    faulty: FaultyDatabase, plan: FaultPlan, fake_time: FakeTime
) -> None:
    plan.outage(start=fake_time.now + 10, end=fake_time.now + 20, errors=NetworkTimeout)
    items = faulty["items"]
    seen = []
    for step in (0, 9.9, 0.1, 9.8, 0.2):
        fake_time.advance(step)
        seen.append(await failure(items.count_documents({})))
    assert seen == [None, None, NetworkTimeout, NetworkTimeout, None]


async def test_an_outage_of_n_operations_rotates_its_errors_then_ends(
    faulty: FaultyDatabase, plan: FaultPlan
) -> None:
    plan.outage(count=4, errors=(AutoReconnect, NetworkTimeout, NotPrimaryError))
    seen = [await failure(faulty["items"].find_one({})) for _ in range(6)]
    assert seen == [AutoReconnect, NetworkTimeout, NotPrimaryError, AutoReconnect, None, None]


async def test_an_outage_covers_only_the_named_collections_and_operations(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan
) -> None:
    plan.outage(collections="deliveries", operations={"update_one", "find"})
    deliveries, users = faulty["deliveries"], faulty.users
    assert await failure(deliveries.update_one({}, {"$set": {"a": 1}})) is AutoReconnect
    assert await failure(deliveries.find({}).to_list()) is AutoReconnect
    assert await failure(deliveries.find_one({})) is None
    assert await failure(users.update_one({}, {"$set": {"a": 1}})) is None
    # Attribute access gives wrapped collections, and the database's own attributes as they are.
    assert await failure(faulty.deliveries.update_one({}, {"$set": {"a": 1}})) is AutoReconnect
    assert await failure(faulty.get_collection("deliveries").find({}).to_list()) is AutoReconnect
    assert faulty.name == db.name


async def test_an_answer_lost_after_the_write_hides_the_writes_own_error(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan
) -> None:
    await db["items"].insert_one({"_id": 1})
    plan.outage(after=True, count=1)
    # A duplicate key error never reached the client: it sees only the dropped connection.
    assert await failure(faulty["items"].insert_one({"_id": 1})) is AutoReconnect
    plan.outage(after=True, count=2)
    assert await failure(faulty["items"].find({}).to_list()) is AutoReconnect
    assert await failure(faulty["items"].find({"_id": 2}).to_list()) is AutoReconnect
    assert await faulty["items"].find({}).to_list() == [{"_id": 1}]


async def test_slow_operations_wait_on_the_injected_sleep(
    faulty: FaultyDatabase, plan: FaultPlan, fake_time: FakeTime
) -> None:
    plan.slow(0.5, operations="insert_one")
    plan.slow(0.25, collections="items")
    await faulty["items"].insert_one({"_id": 1})
    await faulty["items"].find_one({})
    await faulty["other"].find_one({})
    assert fake_time.slept == [0.75, 0.25]
    assert plan.record.delays == {"insert_one": 1, "find_one": 1}
    assert plan.record.faults == 0
    plan.heal()
    await faulty["items"].find_one({})
    assert fake_time.slept == [0.75, 0.25]


async def failure_pattern(db: Database, seed: int, count: int = 60) -> list[str | None]:
    fake_time = FakeTime()
    plan = FaultPlan(clock=fake_time, sleep=fake_time.sleep, seed=seed)
    plan.random_faults(0.3)
    items = FaultyDatabase(db, plan)["items"]
    return [getattr(await failure(items.find_one({})), "__name__", None) for _ in range(count)]


async def test_random_faults_follow_their_seed(db: Database) -> None:
    pattern = await failure_pattern(db, seed=7)
    assert pattern == await failure_pattern(db, seed=7)
    assert pattern != await failure_pattern(db, seed=8)
    draws = random.Random(7)
    assert [kind is not None for kind in pattern] == [draws.random() < 0.3 for _ in pattern]
    raised = [kind for kind in pattern if kind]
    assert raised[:3] == ["AutoReconnect", "NetworkTimeout", "NotPrimaryError"]


async def scenario(items: Any) -> list[Any]:
    """Every operation the code base uses, with results reduced to plain values."""
    result = await items.insert_many(
        [{"_id": i, "n": i % 5, "tag": "ab"[i % 2]} for i in range(300)]
    )
    seen: list[Any] = [result.inserted_ids, (await items.insert_one({"_id": 300})).inserted_id]
    for update in (
        items.update_one({"_id": 1}, {"$set": {"x": 1}}),
        items.update_many({"n": 2}, {"$inc": {"n": 10}}),
    ):
        result = await update
        seen.append((result.matched_count, result.modified_count))
    result = await items.bulk_write(
        [UpdateOne({"_id": 2}, {"$set": {"y": 2}}), InsertOne({"_id": 301}), DeleteOne({"_id": 3})]
    )
    seen.append((result.inserted_count, result.modified_count, result.deleted_count))
    seen.append(
        await items.find_one_and_update(
            {"_id": 4}, {"$set": {"z": 4}}, return_document=ReturnDocument.AFTER
        )
    )
    seen.append((await items.delete_one({"_id": 5})).deleted_count)
    seen.append((await items.delete_many({"n": 12})).deleted_count)
    seen.append(await items.count_documents({"tag": "a"}))
    seen.append(await items.create_index([("n", ASCENDING)]))
    seen.append(sorted(await items.index_information()))
    seen.append(sorted(await items.distinct("n")))
    seen.append(await items.find_one({"_id": 6}))
    seen.append([d async for d in items.find({"n": 1}).sort("_id", DESCENDING).skip(2).limit(7)])
    seen.append([d["_id"] async for d in items.find({}, {"_id": 1}).sort("_id", 1).batch_size(50)])
    seen.append(await items.find({"tag": "b"}).sort("_id", ASCENDING).to_list())
    cursor = items.find({}).sort("_id", ASCENDING)
    seen.append([await cursor.next(), await cursor.next()])
    group = {"$group": {"_id": "$tag", "count": {"$sum": 1}}}
    seen.append(await aggregate(items, [group, {"$sort": {"_id": 1}}]))
    return seen


async def test_a_wrapped_database_answers_as_the_bare_one(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan
) -> None:
    plan.slow(0.001)  # counts every operation that went through the proxy
    assert await scenario(faulty["wrapped"]) == await scenario(db["bare"])
    assert set(plan.record.delays) == {
        *("insert_many", "insert_one", "update_one", "update_many", "bulk_write"),
        *("find_one_and_update", "delete_one", "delete_many", "count_documents"),
        *("create_index", "index_information", "distinct", "find_one", "find"),
        *("getMore", "aggregate"),
    }


async def read(cursor: Any, count: int, pause: float, fake_time: FakeTime) -> list[Any]:
    """``count`` documents, ``pause`` seconds apart (the consumer works on each)."""
    documents = []
    for _ in range(count):
        documents.append((await cursor.next())["_id"])
        fake_time.advance(pause)
    return documents


async def test_an_idle_cursor_fails_on_its_next_getmore_never_within_a_batch(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan, fake_time: FakeTime
) -> None:
    await seed(db, 25)
    cursor = faulty["items"].find({}).sort("_id", ASCENDING).batch_size(10)
    fake_time.advance(10 * IDLE)  # before the query: no server cursor to expire yet
    # Each document is handled quickly, but the batch as a whole outlasts the timeout.
    assert await read(cursor, 10, IDLE / 9, fake_time) == list(range(10))
    with pytest.raises(CursorNotFound) as raised:
        await cursor.next()
    assert raised.value.code == 43
    assert await cursor.to_list() == []  # the cursor is dead, as PyMongo's is
    assert plan.record.by_kind == {"CursorNotFound": 1}
    assert plan.record.by_operation == {"getMore": 1}


async def test_a_cursor_fetching_each_batch_in_time_lives_to_the_end(
    db: Database, faulty: FaultyDatabase, fake_time: FakeTime
) -> None:
    await seed(db, 25)
    cursor = faulty["items"].find({}).sort("_id", ASCENDING).batch_size(10)
    assert await read(cursor, 25, IDLE / 11, fake_time) == list(range(25))


async def test_the_first_batch_is_101_documents_by_default(
    db: Database, faulty: FaultyDatabase, fake_time: FakeTime
) -> None:
    await seed(db, 150)
    for cursor in (
        faulty["items"].find({}).sort("_id", ASCENDING),
        await open_aggregate(faulty["items"], [{"$sort": {"_id": 1}}]),
    ):
        assert await read(cursor, 1, 2 * IDLE, fake_time) == [0]
        assert await read(cursor, 100, 0, fake_time) == list(range(1, 101))
        with pytest.raises(CursorNotFound):
            await cursor.next()


async def test_a_result_within_the_first_batch_is_never_killed(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan, fake_time: FakeTime
) -> None:
    await seed(db, 100)
    cursor = faulty["items"].find({}).sort("_id", ASCENDING)
    assert await read(cursor, 1, 2 * IDLE, fake_time) == [0]
    plan.kill_open_cursors()
    assert len(await cursor.to_list()) == 99


async def test_a_cursor_without_timeout_outlives_idleness_but_not_a_failover(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan, fake_time: FakeTime
) -> None:
    await seed(db, 30)
    cursor = faulty["items"].find({}, no_cursor_timeout=True).sort("_id", ASCENDING).batch_size(10)
    assert await read(cursor, 15, 2 * IDLE, fake_time) == list(range(15))
    plan.kill_open_cursors()
    assert await read(cursor, 5, 0, fake_time) == list(range(15, 20))
    assert await failure(cursor.next()) is CursorNotFound


async def test_a_failover_kills_open_cursors_but_not_unopened_ones(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan, fake_time: FakeTime
) -> None:
    await seed(db, 30)
    opened = faulty["items"].find({}).sort("_id", ASCENDING).batch_size(10)
    unopened = faulty["items"].find({}).sort("_id", ASCENDING).batch_size(10)
    assert await read(opened, 1, 0, fake_time) == [0]
    plan.kill_open_cursors()
    assert await read(opened, 9, 0, fake_time) == list(range(1, 10))
    with pytest.raises(CursorNotFound):
        await opened.next()
    assert [doc["_id"] async for doc in unopened] == list(range(30))


async def test_an_outage_on_getmore_fails_the_cursor_mid_way(
    db: Database, faulty: FaultyDatabase, plan: FaultPlan, fake_time: FakeTime
) -> None:
    await seed(db, 30)
    cursor = faulty["items"].find({}).sort("_id", ASCENDING).batch_size(10)
    assert await read(cursor, 5, 0, fake_time) == list(range(5))
    plan.outage(operations="getMore", errors=NotPrimaryError)
    assert await read(cursor, 5, 0, fake_time) == list(range(5, 10))
    assert await failure(cursor.next()) is NotPrimaryError
    assert await cursor.to_list() == []
    assert plan.record.summary() == "1 fault (NotPrimaryError 1; getMore 1)"
