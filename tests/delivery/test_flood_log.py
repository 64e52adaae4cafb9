"""Each FloodWait of a run is recorded on its broadcast (for the report's chart), and
recording it can never stop the run."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from bot.app import utc_now
from bot.delivery.model import as_utc
from bot.delivery.pipeline import Pipeline
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from bot.storage.store import FLOOD_WAIT_LOG_MAX, MongoBroadcastStore
from tests.support import create_running, make_core, receipts, seed


async def test_every_flood_wait_is_recorded_with_when_and_how_long(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 160))
    # Telegram's shortest FloodWait (1 s), twice, near the end (a lowered rate costs little).
    sim.fail_next(users[-2], error_message="FLOOD_WAIT_1", error_code=420)
    sim.fail_next(users[-1], error_message="FLOOD_WAIT_1", error_code=420)
    core = make_core(db, sim, rate=1000)
    before = utc_now()
    bid = await create_running(core)

    summary = await core.service.run(bid)

    doc = await core.store.get(bid)
    log = doc["flood_wait_log"]
    assert summary.flood_waits == doc["flood_waits"] == len(log) == 2
    assert [entry["seconds"] for entry in log] == [1.0, 1.0]
    for entry in log:
        at = as_utc(entry["at"])
        assert at is not None
        assert before <= at <= utc_now()
    assert summary.sent == len(users)


async def test_the_log_keeps_the_latest_episodes(db: Database) -> None:
    store = MongoBroadcastStore(db)
    await store.insert({"broadcast_id": "bc_x", "status": "running"})
    start = datetime(2026, 1, 1, tzinfo=utc_now().tzinfo)
    episodes = [(start + timedelta(seconds=i), float(i)) for i in range(FLOOD_WAIT_LOG_MAX + 20)]

    await store.add_flood_waits("bc_x", episodes[:300])
    await store.add_flood_waits("bc_x", episodes[300:])
    await store.add_flood_waits("bc_x", [])

    log = (await store.get("bc_x"))["flood_wait_log"]
    assert [entry["seconds"] for entry in log] == [float(i) for i in range(20, 520)]


class FloodLogRefused(MongoBroadcastStore):
    """A broadcasts collection that takes every write but the FloodWait log's."""

    async def add_flood_waits(
        self, broadcast_id: str, episodes: Sequence[tuple[datetime, float]]
    ) -> None:
        raise RuntimeError("the log cannot be written")


async def test_a_log_that_cannot_be_written_never_stops_the_run(
    db: Database, sim: TelegramSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    users = await seed(db, sim, range(100, 200))
    sim.fail_next(users[5], error_message="FLOOD_WAIT_1", error_code=420)
    core = make_core(db, sim, rate=1000)
    ports = dataclasses.replace(core.pipeline.ports, store=FloodLogRefused(db))
    bid = await create_running(core)

    with caplog.at_level(logging.WARNING):
        summary = await Pipeline(ports, core.pipeline.config).run(bid)

    assert (summary.status, summary.sent, summary.flood_waits) == ("completed", len(users), 1)
    assert set(receipts(sim, users).values()) == {1}
    assert "1 FloodWaits not recorded" in caplog.text
    assert "flood_wait_log" not in await core.store.get(bid)
