"""Shared fixtures: a MongoDB database per test, in memory unless MONGO_TEST_URI is set."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.inmemory import in_memory_database
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
    """A started simulator allowing 1000 msg/s, on the loop's clock, with the admin known."""
    simulator = TelegramSimulator(telegram_limit=1000, clock=asyncio.get_running_loop().time)
    await simulator.start()
    simulator.add_user(ADMIN)
    yield simulator
    await simulator.stop()
