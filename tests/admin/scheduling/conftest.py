"""The scheduling tests' ``start``: bot instances on one database, job store and clock."""

from __future__ import annotations

from typing import Any

import pytest

from bot.admin.install import BroadcastBot
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.conftest import Start
from tests.admin.scheduling.kit import USERS
from tests.conftest import Launch
from tests.support import seed


@pytest.fixture
async def start(db: Database, sim: TelegramSimulator, launch: Launch) -> Start:
    """Start bot instances (holder "a", "b"...) on the shared database, job store and clock."""
    await seed(db, sim, USERS)

    async def start_bot(holder: str = "a", **options: Any) -> BroadcastBot:
        return await launch(holder=holder, **options)

    return start_bot
