"""Shared fixtures: a MongoDB database per test, in memory unless MONGO_TEST_URI is set."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.inmemory import in_memory_database, in_memory_job_store
from bot.mongo import Database
from bot.simulator import TelegramSimulator
from tests.support import ADMIN


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    """A fresh, empty database: mongomock by default, a real server with MONGO_TEST_URI."""
    uri = os.environ.get("MONGO_TEST_URI")
    if not uri:
        yield in_memory_database()
        return
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri, tz_aware=True)
    name = f"bm_test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


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
