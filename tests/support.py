"""Helpers shared by the pipeline tests: a simulated audience and a wired core."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.admin.install import SchedulerSetup
from bot.app import Core, Tuning, build_core, utc_now
from bot.delivery.content import Content, ParseMode, TextContent
from bot.delivery.policy import ProgressSnapshot
from bot.delivery.ports import PipelineConfig
from bot.delivery.report import Summary
from bot.delivery.service import Audience, TestMode
from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.inmemory import in_memory_database
from bot.storage.mongo import Database
from scheduler.runtime import RuntimeTiming

ADMIN = 1_000_001


@contextlib.asynccontextmanager
async def fresh_database(prefix: str = "test") -> AsyncIterator[Database]:
    """A fresh, empty database: mongomock by default, a real server with MONGO_TEST_URI
    (dropped afterwards)."""
    uri = os.environ.get("MONGO_TEST_URI")
    if not uri:
        yield in_memory_database(f"{prefix}_{uuid.uuid4().hex[:8]}")
        return
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    name = f"bm_{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


def make_core(
    db: Database,
    sim: TelegramSimulator,
    *,
    rate: float = 1000,
    concurrency: int = 8,
    progress_every: int = 1,
    test_mode: TestMode | None = None,
    **config: object,
) -> Core:
    """A core whose clock is the event loop's (so looptime can fast-forward it)."""
    loop = asyncio.get_running_loop()
    tuning = Tuning(rate=rate, concurrency=concurrency, test_mode=test_mode or TestMode())
    pipeline_config = PipelineConfig(
        concurrency=concurrency,
        progress_every=progress_every,
        **config,  # type: ignore[arg-type]
    )
    return build_core(db, sim, tuning, clock=loop.time, config=pipeline_config)


async def seed(
    db: Database, sim: TelegramSimulator, ids: Iterable[int], state: UserState = UserState.ACTIVE
) -> list[int]:
    """Add users to the simulator and to the users collection."""
    users = list(ids)
    sim.add_users(users, state)
    if users:
        now = utc_now()
        await db["users"].insert_many([{"user_id": u, "created_at": now} for u in users])
    return users


@dataclass
class ProgressLog:
    """Records the progress snapshots a run reports."""

    snaps: list[ProgressSnapshot] = field(default_factory=list)
    at: list[float] = field(default_factory=list)

    async def __call__(self, snap: ProgressSnapshot) -> None:
        self.snaps.append(snap)
        self.at.append(asyncio.get_running_loop().time())


async def create_running(
    core: Core, content: Content | None = None, audience: Audience | None = None
) -> str:
    """Create a broadcast and move it to running."""
    content = content or TextContent("<b>Hello</b> everyone", ParseMode.HTML)
    bid = await core.service.create(content, audience or Audience(query={}), admin_id=ADMIN)
    assert await core.service.start(bid, by=ADMIN)
    return bid


async def broadcast(
    core: Core, content: Content | None = None, audience: Audience | None = None
) -> tuple[str, Summary]:
    """Create, start and run a broadcast to the end."""
    bid = await create_running(core, content, audience)
    async with asyncio.timeout(600):
        return bid, await core.service.run(bid)


def receipts(sim: TelegramSimulator, users: Iterable[int]) -> dict[int, int]:
    """How many messages each of ``users`` received."""
    counts = sim.received_counts()
    return {u: counts.get(u, 0) for u in users}


def quick_scheduler(
    job_store: Callable[[], Any],
    grace: timedelta = timedelta(hours=1),
    holder: str | None = None,
    sweep_every_s: float = 0.5,
) -> SchedulerSetup:
    """A scheduler for tests: the lease renewed every 0.3 s and lost after 2 s of silence."""
    timing = RuntimeTiming(renew_every_s=0.3, sweep_every_s=sweep_every_s, grace=grace)
    return SchedulerSetup(job_store=job_store, timing=timing, lease_ttl_s=2.0, holder=holder)
