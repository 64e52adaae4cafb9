"""Query cost: documents the in-memory MongoDB examines per query of the pipeline and the bot.

Fills an indexed in-memory database with ``size`` users and ``size`` ledger rows
of earlier broadcasts, plus one broadcast with a fixed number of rows, then runs
each query shape the pipeline and the bot send once and reads the database's
counter of examined documents (and of full scans). Flat across sizes means a
query's cost does not grow with the collection. Wall time is printed too.

    python -m benchmarks.queries [--sizes 10000 100000 1000000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bson import ObjectId

from bot.app import utc_now
from bot.delivery.errors import ErrorCategory
from bot.delivery.model import BroadcastStatus, Outcome
from bot.demo.audience import user_document
from bot.storage.inmemory import in_memory_database, query_stats
from bot.storage.ledger import MongoDeliveryLedger
from bot.storage.store import MongoBroadcastStore
from bot.storage.users import MongoUserDirectory, UserProfile
from segments import SegmentCatalog, index_fields

PAGE = 500
FIRST_USER = 2_000_000
TARGET = "target"  # the broadcast whose ledger the shapes read: always the same rows
TARGET_ROWS = 4 * PAGE
#: Pages are read after the 1000th user, and the target's rows are the first users.
MIN_SIZE = max(TARGET_ROWS, 1000 + 2 * PAGE)
COLLECTIONS = ("users", "deliveries", "broadcasts")


@dataclass
class Fixture:
    """A filled database and the repositories over it."""

    db: Any
    users: MongoUserDirectory
    ledger: MongoDeliveryLedger
    store: MongoBroadcastStore
    size: int
    after_id: ObjectId | None = None  # where the audience pages start: after user 1000


async def fill(size: int) -> Fixture:
    """``size`` users, ``size`` old ledger rows, the target broadcast's rows, some broadcasts."""
    db = in_memory_database("queries")
    now = utc_now()
    for start in range(FIRST_USER, FIRST_USER + size, 10_000):
        chunk = range(start, min(start + 10_000, FIRST_USER + size))
        docs = [user_document(uid, now) for uid in chunk]
        for doc in docs[::25]:
            doc["bot_blocked_at"] = now
        await db["users"].insert_many(docs)
    fixture = Fixture(
        db, MongoUserDirectory(db), MongoDeliveryLedger(db), MongoBroadcastStore(db), size
    )
    await fixture.users.ensure_indexes(index_fields(fixture.users.fields), unique_ids=True)
    await fixture.ledger.ensure_indexes()
    await fixture.store.ensure_indexes()
    for n, start in enumerate(range(0, size, 10_000)):
        ids = list(range(FIRST_USER + start, FIRST_USER + min(start + 10_000, size)))
        await fixture.ledger.add_pending(f"old-{n}", ids, now)
    await fixture.ledger.add_pending(TARGET, list(range(FIRST_USER, FIRST_USER + TARGET_ROWS)), now)
    for n in range(20):
        status = BroadcastStatus.COMPLETED if n else BroadcastStatus.QUEUED
        await fixture.store.insert({"broadcast_id": f"b{n}", "status": status, "created_at": now})
    start = await db["users"].find_one({"user_id": FIRST_USER + 1000}, {"_id": 1})
    fixture.after_id = start["_id"]
    return fixture


async def _page(fixture: Fixture, segment: dict[str, Any]) -> None:
    query = {"$and": [segment, {"_id": {"$gt": fixture.after_id}}]}
    cursor = fixture.db["users"].find(query, {"user_id": 1}).sort("_id", 1).limit(PAGE)
    assert [doc async for doc in cursor]


async def _ledger_page(fixture: Fixture, status: str) -> None:
    query = {"broadcast_id": TARGET, "status": status, "user_id": {"$gt": FIRST_USER + 10}}
    cursor = fixture.db["deliveries"].find(query, {"user_id": 1, "_id": 0})
    assert [doc async for doc in cursor.sort("user_id", 1).limit(PAGE)]


def _users(start: int, count: int) -> list[int]:
    return list(range(FIRST_USER + start, FIRST_USER + start + count))


async def _settle(fixture: Fixture) -> None:
    now = utc_now()
    blocked = ErrorCategory.BLOCKED
    outcomes = [
        Outcome(uid, 1, (1,), at=now) if uid % 9 else Outcome(uid, 1, error=blocked, at=now)
        for uid in _users(0, PAGE)
    ]
    await fixture.ledger.settle(TARGET, outcomes)


async def _is_admin(fixture: Fixture) -> None:
    await fixture.db["users"].find_one({"user_id": FIRST_USER + 7, "role": "admin"}, {"_id": 1})


async def _transition(fixture: Fixture) -> None:
    statuses = [BroadcastStatus.QUEUED]
    await fixture.store.transition("b0", statuses, BroadcastStatus.RUNNING, at=utc_now())


def _segment(*names: str) -> dict[str, Any]:
    return SegmentCatalog().compile(list(names), [], utc_now() + timedelta(days=1))


Shape = Callable[[Fixture], Awaitable[Any]]
#: In order: claims move the first page to sending, settlements settle it.
SHAPES: dict[str, Shape] = {
    "audience page: all": lambda f: _page(f, {}),
    "audience page: eligible": lambda f: _page(f, _segment("all")),
    "audience page: inactive_7d": lambda f: _page(f, _segment("inactive_7d")),
    "audience page: lang:de premium": lambda f: _page(f, _segment("lang:de", "premium")),
    "ledger insert (half repeated)": lambda f: f.ledger.add_pending(
        TARGET, _users(TARGET_ROWS - PAGE // 2, PAGE), utc_now()
    ),
    "ledger claim": lambda f: f.ledger.claim(TARGET, _users(0, PAGE), utc_now(), "bench"),
    "ledger page: pending": lambda f: _ledger_page(f, "pending"),
    "ledger page: sending": lambda f: _ledger_page(f, "sending"),
    "ledger settle": _settle,
    "ledger count": lambda f: f.db["deliveries"].count_documents(
        {"broadcast_id": TARGET, "status": "sent"}
    ),
    "ledger tally": lambda f: f.ledger.tally(TARGET),
    "users mark blocked": lambda f: f.users.mark_unreachable(_users(100, 50), [], utc_now()),
    "users record (upsert, unique)": lambda f: f.users.record(UserProfile(7), utc_now()),
    "users is admin": _is_admin,
    "broadcast get": lambda f: f.store.get("b3"),
    "broadcast transition": _transition,
    "broadcasts by status": lambda f: f.store.with_status([BroadcastStatus.RUNNING]),
}


async def costs(size: int) -> dict[str, dict[str, float]]:
    """Documents examined, full scans and milliseconds of each shape, in order, at ``size``."""
    fixture = await fill(size)
    stats = [query_stats(fixture.db[name]) for name in COLLECTIONS]
    result = {}
    for name, shape in SHAPES.items():
        examined, scans = sum(s.examined for s in stats), sum(s.scans for s in stats)
        started = time.perf_counter()
        await shape(fixture)
        elapsed = time.perf_counter() - started
        result[name] = {
            "examined": sum(s.examined for s in stats) - examined,
            "scans": sum(s.scans for s in stats) - scans,
            "ms": round(1000 * elapsed, 2),
        }
    return result


async def measure(sizes: list[int]) -> dict[str, Any]:
    """Every shape's cost at every size."""
    return {"page": PAGE, "sizes": {size: await costs(size) for size in sizes}}


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if min(args.sizes) < MIN_SIZE:
        parser.error(f"every size must be at least {MIN_SIZE} (got {min(args.sizes)})")
    result = asyncio.run(measure(sorted(args.sizes)))
    if args.json:
        print(json.dumps(result))
        return
    sizes = list(result["sizes"])
    print(f"documents examined (full scans) [ms] per query; pages of {PAGE}")
    print(f"{'':32}" + "".join(f"{size:>24,}" for size in sizes))
    for name in SHAPES:
        cells = [result["sizes"][size][name] for size in sizes]
        row = "".join(f"{c['examined']:>12,} ({c['scans']}) [{c['ms']:>6.1f}]" for c in cells)
        print(f"{name:32}{row}")


if __name__ == "__main__":
    main()
