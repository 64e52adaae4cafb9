"""Metrics: what the pipeline counts, and the endpoint scraped during a real broadcast."""

from __future__ import annotations

import asyncio
import socket
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.admin.install import BroadcastBot
from bot.app import Core, Tuning, build_core
from bot.delivery.errors import ErrorCategory
from bot.delivery.outage import OutagePolicy
from bot.delivery.ports import PipelineConfig
from bot.demo.simulator import TelegramSimulator, UserState
from bot.ops.metrics import Metrics
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from tests.botkit import as_awaitable, eventually, send_now, wait_status
from tests.conftest import Launch
from tests.support import broadcast, create_running, receipts, seed

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
FAILED = "broadcast_messages_failed_total"


def metered_core(db: Database, sim: TelegramSimulator, metrics: Metrics, **config: object) -> Core:
    loop = asyncio.get_running_loop()
    pipeline_config = PipelineConfig(concurrency=8, **config)  # type: ignore[arg-type]
    return build_core(
        db, sim, Tuning(rate=1000), clock=loop.time, config=pipeline_config, instruments=metrics
    )


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    assert found is not None, f"{name}{labels} is not exported"
    return found


async def test_outcomes_are_counted_by_category_once_settled(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 160))
    await seed(db, sim, range(200, 205), UserState.BLOCKED)
    await seed(db, sim, range(300, 303), UserState.DEACTIVATED)
    sim.fail_next(110, error_message="FLOOD_WAIT_0", error_code=420)  # a FloodWait, no wait
    metrics = Metrics()

    _, summary = await broadcast(metered_core(db, sim, metrics))

    assert value(metrics, "broadcast_messages_sent_total") == summary.sent == len(users)
    assert sum(receipts(sim, users).values()) == len(users)
    assert value(metrics, FAILED, category="blocked") == 5
    assert value(metrics, FAILED, category="deactivated") == 3
    for category in set(ErrorCategory) - {ErrorCategory.BLOCKED, ErrorCategory.DEACTIVATED}:
        assert value(metrics, FAILED, category=category.value) == 0
    assert value(metrics, "broadcast_flood_waits_total") == summary.flood_waits == 1
    assert value(metrics, "broadcast_db_outages_total") == 0


async def test_a_database_outage_is_counted_once_and_its_end_shown(
    db: Database, sim: TelegramSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    users = await seed(db, sim, range(100, 130))
    plan = FaultPlan(clock=asyncio.get_running_loop().time)
    metrics = Metrics()
    fast_retry = OutagePolicy(first_delay_s=0.01, max_delay_s=0.02)
    core = metered_core(FaultyDatabase(db, plan), sim, metrics, outage=fast_retry)
    bid = await create_running(core)
    plan.outage(count=3)  # the run's first three operations: one outage, waited out
    caplog.set_level("INFO", logger="bot.delivery")

    summary = await asyncio.wait_for(core.service.run(bid), 10)

    assert (summary.status, summary.sent) == ("completed", len(users))
    assert value(metrics, "broadcast_db_outages_total") == 1
    assert value(metrics, "broadcast_db_outage") == 0
    events = [(r.__dict__.get("broadcast"), r.__dict__.get("event")) for r in caplog.records]
    assert events.index((bid, "db.outage_started")) < events.index((bid, "db.outage_ended"))
    ended = next(r for r in caplog.records if r.__dict__.get("event") == "db.outage_ended")
    assert ended.__dict__["down_s"] > 0


async def test_a_settle_that_failed_is_counted_when_it_is_stored(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 140))
    plan = FaultPlan(clock=asyncio.get_running_loop().time)
    metrics = Metrics()
    fast_retry = OutagePolicy(first_delay_s=0.01, max_delay_s=0.02)
    core = metered_core(FaultyDatabase(db, plan), sim, metrics, outage=fast_retry)
    bid = await create_running(core)
    # Settles are bulk writes to the ledger: the first two fail, after reaching the database.
    plan.outage(count=2, after=True, collections=["deliveries"], operations=["bulk_write"])

    summary = await asyncio.wait_for(core.service.run(bid), 10)

    assert summary.sent == len(users) == value(metrics, "broadcast_messages_sent_total")
    assert plan.record.faults == 2


# the endpoint, through the installed bot --------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scrape(port: int) -> Samples:
    """GET /metrics over HTTP, as Prometheus does."""

    def get() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert answer.status == 200
            return str(answer.read().decode())

    text = await asyncio.to_thread(get)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def failed(samples: Samples, category: str) -> float:
    return samples[(FAILED, (("category", category),))]


async def test_the_endpoint_during_and_after_a_broadcast(
    db: Database, sim: TelegramSimulator, launch: Launch
) -> None:
    users = await seed(db, sim, range(2_000_000, 2_000_008))
    await seed(db, sim, [2_100_000, 2_100_001], UserState.BLOCKED)
    await seed(db, sim, [2_200_000], UserState.DEACTIVATED)
    # Telegram's shortest FloodWait: a second in which the broadcast is surely still on.
    sim.fail_next(users[1], error_message="FLOOD_WAIT_1", error_code=420)
    port = free_port()
    bot: BroadcastBot = await launch(metrics_port=port)
    assert bot.metrics is not None
    assert bot.metrics.port == port
    await eventually(lambda: as_awaitable(bot.leads))  # the first election may time out

    idle = await scrape(port)
    assert idle[("broadcast_leader", ())] == 1
    assert idle[("broadcast_sending", ())] == 0
    assert idle[("broadcast_messages_sent_total", ())] == 0

    sending = asyncio.create_task(send_now(sim, db, "/broadcast Metrics"))
    during: Samples = {}

    async def flood_seen() -> bool:
        during.update(await scrape(port))
        return during.get(("broadcast_flood_waits_total", ())) == 1

    await eventually(flood_seen)
    assert during[("broadcast_sending", ())] == 1
    assert during[("broadcast_queue_length", ())] == 0  # the one sending is not waiting
    assert during[("broadcast_leader", ())] == 1
    assert during[("broadcast_flood_wait_seconds_total", ())] == 1
    assert during[("broadcast_rate", ())] < during[("broadcast_rate_target", ())] == 1000
    bid = await sending

    after = await scrape(port)
    delivered = sum(receipts(sim, users).values())
    assert after[("broadcast_messages_sent_total", ())] == delivered == len(users)
    assert (failed(after, "blocked"), failed(after, "deactivated")) == (2, 1)
    assert failed(after, "unknown") == failed(after, "transient") == 0
    assert after[("broadcast_sending", ())] == 0

    assert after[("broadcast_leader", ())] == 1
    assert after[("broadcast_db_outages_total", ())] == 0
    assert ("process_cpu_seconds_total", ()) in after
    doc = await wait_status(db, bid, "completed")
    assert doc["sent_count"] == delivered

    # The queue's list of waiting broadcasts is as last read: it is read again right
    # after a run, and until then may still hold the one that just finished.
    async def nothing_waits() -> bool:
        return (await scrape(port))[("broadcast_queue_length", ())] == 0

    await eventually(nothing_waits)


async def test_stopping_the_bot_frees_the_port(db: Database, launch: Launch) -> None:
    port = free_port()
    bot = await launch(metrics_port=port)
    await eventually(lambda: as_awaitable(bot.leads))
    assert (await scrape(port))[("broadcast_leader", ())] == 1

    await bot.stop()

    with pytest.raises(urllib.error.URLError):
        await scrape(port)
    with socket.socket() as again:  # nobody listens there (TIME_WAIT of the scrape aside)
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("0.0.0.0", port))
        again.listen()


async def test_without_a_metrics_port_nothing_is_served(launch: Launch) -> None:
    bot = await launch()

    assert bot.metrics is None
    assert bot.core.pipeline.ports.ledger is bot.core.ledger  # nothing wrapped either
