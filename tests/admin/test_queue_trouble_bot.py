"""The queue through trouble: a database outage longer than a run may wait, and errors
between runs. The admin is told in words (never the driver's), the status says what
stopped it, and the queue goes on by itself, from where it stood, once it clears."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from pymongo.errors import OperationFailure

from bot.delivery.outage import OutagePolicy
from bot.demo.simulator import TelegramSimulator
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from tests.admin.queue_kit import SLOW, USERS, confirmed, copies, sent_some, status_of
from tests.botkit import (
    ADMIN,
    FAST,
    as_awaitable,
    eventually,
    summarised,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

# A run gives up after half a second of outage (DB_OUTAGE_LIMIT is at least 10 s);
# progress is shown every 0.1 s, so the outage shows before the run gives up.
SHORT = replace(
    FAST,
    outage=OutagePolicy(limit_s=0.5, first_delay_s=0.05, max_delay_s=0.1),
    progress_min_interval_s=0.1,
)
DRIVER_WORDS = ("AutoReconnect", "injected", "connection closed", "OperationFailure")


def notices(sim: TelegramSimulator) -> list[str]:
    return [t for t in texts(sim, ADMIN) if t.startswith("⚠️ Broadcast")]


async def test_a_long_outage_is_told_in_words_shown_and_outlived(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    plan = FaultPlan(clock=asyncio.get_running_loop().time)
    await launch(database=FaultyDatabase(db, plan), rate=SLOW, config=SHORT)
    bid = await confirmed(sim, "/broadcast Through it")
    await eventually(lambda: sent_some(sim, "Through it"))
    plan.outage()

    await eventually(lambda: as_awaitable(bool(notices(sim))))
    (notice,) = notices(sim)
    assert notice.startswith(f"⚠️ Broadcast {bid} stopped: the database stayed unreachable")
    assert "continues by itself" in notice
    status = (await status_of(sim, db, bid)).text or ""
    assert "⚠️ Stopped: the database stayed unreachable for too long" in status
    assert "goes on by itself" in status
    assert "Database unreachable since" in status  # the run's own line, while it waited
    for text in (notice, status):
        assert not any(word in text for word in DRIVER_WORDS), text
    held = sum(copies(sim, "Through it").values())
    await asyncio.sleep(1.0)  # the queue keeps trying, in vain, while it is down
    assert sum(copies(sim, "Through it").values()) == held

    plan.heal()
    await wait_status(db, bid, "completed")
    assert copies(sim, "Through it") == dict.fromkeys(USERS, 1)
    await eventually(lambda: summarised(sim, db, bid))
    assert len(notices(sim)) == 1


async def test_the_queue_outlives_an_error_reading_it(
    sim: TelegramSimulator, db: Database, launch: Launch, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(db, sim, USERS)
    loop = asyncio.get_running_loop()
    plan = FaultPlan(clock=loop.time)
    bot = await launch(database=FaultyDatabase(db, plan))
    # Not an outage (no code, no label): an error nobody expected, as a bug would raise.
    failing = plan.outage(
        errors=OperationFailure,
        collections=["broadcasts"],
        operations=["find"],
        end=loop.time() + 1.5,
    )
    await eventually(lambda: as_awaitable(failing.raised >= 2))  # the queue reads each second
    await eventually(lambda: as_awaitable(loop.time() >= failing.end))

    bid = await confirmed(sim, "/broadcast After the error")
    await wait_status(db, bid, "completed")
    assert copies(sim, "After the error") == dict.fromkeys(USERS, 1)
    assert bot.queue.running
    errors = [r for r in caplog.records if getattr(r, "event", None) == "queue.error"]
    pauses = [getattr(r, "pause_s", None) for r in errors]
    assert pauses[:2] == [1.0, 2.0]  # logged, with a growing pause between tries


async def test_a_broadcast_confirmed_during_the_queues_pause_is_not_held_by_it(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    plan = FaultPlan(clock=asyncio.get_running_loop().time)
    bot = await launch(database=FaultyDatabase(db, plan))
    bot.queue.retry_first_s = 20.0  # a pause grown long during an outage
    failing = plan.outage(errors=OperationFailure, collections=["broadcasts"], operations=["find"])
    await eventually(lambda: as_awaitable(failing.raised >= 1))
    plan.heal()

    bid = await confirmed(sim, "/broadcast Back already")

    await wait_status(db, bid, "completed")  # within 10 s, not after the 20 s pause
    assert copies(sim, "Back already") == dict.fromkeys(USERS, 1)
