"""Fixtures of the admin bot's end-to-end tests: the bot installed on the simulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.admin.install import BroadcastBot
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.conftest import Launch
from tests.support import seed

OUTSIDER = 3_000_001
USERS = list(range(2_000_000, 2_000_006))


Start = Callable[..., Awaitable[BroadcastBot]]


@pytest.fixture
def start(db: Database, sim: TelegramSimulator, launch: Launch) -> Start:
    """Installs the bot on the simulator; seeds ``users`` users first."""

    async def start_bot(
        users: list[int] = USERS, rate: float = 1000, ask_timeout_s: float = 60.0
    ) -> BroadcastBot:
        await seed(db, sim, users)
        return await launch(rate=rate, ask_timeout_s=ask_timeout_s)

    return start_bot


@pytest.fixture
async def bot(start: Start) -> BroadcastBot:
    return await start()
