"""Shared fixtures: a MongoDB database per test, in memory unless MONGO_TEST_URI is set."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from hypothesis import settings

from bot.admin.handlers import Timing
from bot.admin.install import BroadcastBot, install
from bot.delivery.ports import PipelineConfig
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from config.settings import Settings
from scheduler.jobs import in_memory_job_store
from tests.botkit import FAST, ShiftedClock
from tests.support import ADMIN, fresh_database, quick_scheduler

# Property tests draw the same examples on every run, so a run's outcome is the code's, not
# the draw's. HYPOTHESIS_PROFILE=explore draws new ones (run it a few times after a change).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    """A fresh, empty database: mongomock by default, a real server with MONGO_TEST_URI."""
    async with fresh_database() as database:
        yield database


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    """A started simulator allowing 1000 msg/s, on the loop's clock, with the admin known.

    The per-chat limit is lifted: the admin's chat gets many replies in a row.
    """
    simulator = TelegramSimulator(
        telegram_limit=1000, chat_burst=1000, clock=asyncio.get_running_loop().time
    )
    await simulator.start()
    simulator.add_user(ADMIN, first_name="Admin", username="boss")
    yield simulator
    await simulator.stop()


@pytest.fixture
def job_store(db: Database) -> Callable[[], Any]:
    """APScheduler job stores for the test's database: in memory, or on MONGO_TEST_URI.

    Every store made sees the same jobs, as two bot instances on one database would.
    """
    uri = os.environ.get("MONGO_TEST_URI")
    if not uri:
        return in_memory_job_store()
    from scheduler.jobs import mongo_store_factory

    return mongo_store_factory(uri, db.name)  # dropped with the database


@pytest.fixture
def clock() -> ShiftedClock:
    """The bots' wall clock, which a test moves forward."""
    return ShiftedClock()


Launch = Callable[..., Awaitable[BroadcastBot]]


@pytest.fixture
async def launch(
    db: Database, sim: TelegramSimulator, job_store: Callable[[], Any], clock: ShiftedClock
) -> AsyncIterator[Launch]:
    """Install bot instances on the simulator, the database, the job store and ``clock``.

    Keyword arguments: ``rate``, ``ask_timeout_s``, ``record_users``, ``holder``,
    ``jobs`` (another job store factory), ``sweep_every_s``, ``client`` (another
    connection to the simulated Telegram), ``refresh_s`` (waiting messages), ``config``,
    ``database`` (e.g. the test's database behind a fault injector);
    the rest are settings. Every instance is stopped at the end.
    """
    bots: list[BroadcastBot] = []

    async def launch_bot(
        *,
        rate: float = 1000,
        ask_timeout_s: float = 60.0,
        record_users: bool = False,
        holder: str | None = None,
        jobs: Callable[[], Any] | None = None,
        sweep_every_s: float = 0.5,
        client: TelegramSimulator | None = None,
        refresh_s: float = 30.0,
        config: PipelineConfig = FAST,
        database: Database | None = None,
        **settings: Any,
    ) -> BroadcastBot:
        options = Settings.for_tests(admin_ids=frozenset({ADMIN}), rate_limit=rate, **settings)
        scheduler = quick_scheduler(jobs or job_store, holder=holder, sweep_every_s=sweep_every_s)
        bot = await install(
            client or sim,
            db if database is None else database,
            options,
            config=config,
            timing=Timing(ask_timeout_s, status_refresh_s=refresh_s),
            record_users=record_users,
            scheduler=scheduler,
            wall_clock=clock,
        )
        bots.append(bot)
        return bot

    yield launch_bot
    for bot in bots:
        await bot.stop()
