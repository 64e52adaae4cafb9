"""A simulated bot whose hydrogram peer storage is the standalone bot's (peers in
MongoDB), behind the database fault injector: for the peer store's outage tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.demo.simulator import TelegramSimulator
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from bot.telegram.session import DEFAULT_CACHE_SIZE, session_storage
from tests.support import ADMIN


def faulty(db: Database) -> tuple[FaultPlan, FaultyDatabase]:
    """A fault plan on the loop's clock and ``db`` behind it."""
    plan = FaultPlan(clock=asyncio.get_running_loop().time)
    return plan, FaultyDatabase(db, plan)


@asynccontextmanager
async def on_peer_store(
    sim: TelegramSimulator,
    fdb: FaultyDatabase,
    tmp_path: Path,
    cache_size: int = DEFAULT_CACHE_SIZE,
) -> AsyncIterator[TelegramSimulator]:
    """``sim`` started with its peers in ``fdb`` (``cache_size`` of them in memory) and
    the admin known; stopped at the end."""
    storage = session_storage("sim", fdb, session_dir=tmp_path, cache_size=cache_size)
    sim.storage = storage  # type: ignore[assignment]  # hydrogram infers SQLiteStorage
    await sim.start()
    try:
        sim.add_user(ADMIN, first_name="Admin")
        yield sim
    finally:
        await sim.stop()
