"""Shared set-up of the benchmarks: a simulated audience in an in-memory database."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.app import Core, Tuning, build_core, utc_now
from bot.delivery.content import ParseMode, TextContent
from bot.delivery.report import Summary
from bot.delivery.service import Audience
from bot.demo.simulator import TelegramSimulator
from bot.storage.inmemory import in_memory_database
from bot.storage.mongo import Database

T = TypeVar("T")
ADMIN = 1_000_001
FIRST_USER = 2_000_000
TEXT = TextContent("<b>Benchmark</b> broadcast", ParseMode.HTML)


async def simulated_audience(
    users: int, *, telegram_limit: int, latency_ms: float, name: str = "bench"
) -> tuple[Database, TelegramSimulator, list[int]]:
    """A started simulator and a database holding ``users`` active users."""
    sim = TelegramSimulator(name, telegram_limit=telegram_limit, latency_ms=latency_ms)
    db, ids = await audience_on(sim, users, name=name)
    return db, sim, ids


async def pipeline_broadcast(core: Core) -> Summary:
    """One broadcast to every user, through the pipeline."""
    bid = await core.service.create(TEXT, Audience(query={}), admin_id=ADMIN)
    await core.service.start(bid, by=ADMIN)
    return await core.service.run(bid)


def make_core(db: Database, sim: TelegramSimulator, rate: float, concurrency: int) -> Core:
    """The production wiring with the benchmark's rate."""
    return build_core(db, sim, Tuning(rate=rate, concurrency=concurrency, progress_every=10**9))


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds spent by one piece of work."""

    wall: float
    loop_cpu: float  # the event loop's thread: our code, hydrogram and the simulator
    process_cpu: float  # also the in-memory database's thread


async def timed(work: Callable[[], Awaitable[T]]) -> tuple[T, Timing]:
    """Run ``work``; returns its result and how long it took."""
    wall, loop_cpu, cpu = time.perf_counter(), time.thread_time(), time.process_time()
    result = await work()
    return result, Timing(
        time.perf_counter() - wall, time.thread_time() - loop_cpu, time.process_time() - cpu
    )


async def audience_on(
    sim: TelegramSimulator, users: int, *, name: str = "bench"
) -> tuple[Database, list[int]]:
    """Start ``sim`` (built by the caller: jitter, cold session...) with ``users`` active
    users and the admin, and a database holding the users."""
    db = in_memory_database(name)
    await sim.start()
    ids = list(range(FIRST_USER, FIRST_USER + users))
    sim.add_users(ids)
    sim.add_user(ADMIN)
    await sim.register_peers()
    now = utc_now()
    for start in range(0, users, 10_000):
        chunk = ids[start : start + 10_000]
        await db["users"].insert_many([{"user_id": u, "created_at": now} for u in chunk])
    # The seeded audience lives in this process only because the database and Telegram
    # are simulated; keep the garbage collector from rescanning it during the run.
    gc.collect()
    gc.freeze()
    return db, ids
