"""The APScheduler adapter: jobs fire on the loop, survive restarts, and never block it.

Jobs are stored by APScheduler's MongoDB job store: on mongomock by default, on a
real server (a fresh database) with MONGO_TEST_URI.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pymongo
import pytest
from apscheduler.jobstores.mongodb import MongoDBJobStore
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.jobs import JobScheduler, fire, mongo_store_factory

GRACE = timedelta(seconds=5)
ClientFactory = Callable[[], Any]


@pytest.fixture
def new_client() -> Iterator[ClientFactory]:
    """Makes a new sync client per call, every one seeing the same server."""
    uri = os.environ.get("MONGO_TEST_URI")
    if not uri:
        server: Any = mongomock.MongoClient()._store  # clients made on one store share data
        yield lambda: mongomock.MongoClient(_store=server)
        return
    yield lambda: pymongo.MongoClient(uri, tz_aware=True)


@pytest.fixture
def database(new_client: ClientFactory) -> Iterator[str]:
    name = f"bm_jobs_{uuid.uuid4().hex[:12]}"
    yield name
    with new_client() as client:
        client.drop_database(name)


class Recorder:
    """Collects the calls a scheduler makes, and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime]] = []
        self.called = asyncio.Event()

    async def __call__(self, broadcast_id: str, run_time: datetime) -> None:
        self.calls.append((broadcast_id, run_time))
        self.called.set()

    async def wait(self, limit_s: float = 3.0) -> None:
        async with asyncio.timeout(limit_s):
            await self.called.wait()


@pytest.fixture
async def schedulers() -> AsyncIterator[list[JobScheduler]]:
    """Schedulers a test made, shut down at the end whatever happened."""
    made: list[JobScheduler] = []
    yield made
    for scheduler in made:
        await scheduler.shutdown()


@pytest.fixture
def make(
    new_client: ClientFactory, database: str, schedulers: list[JobScheduler]
) -> Callable[..., JobScheduler]:
    def make_scheduler(
        on_due: Recorder, *, collection: str = "scheduled_jobs", **options: Any
    ) -> JobScheduler:
        store_factory = options.pop("store_factory", None) or mongo_store_factory(
            new_client, database, collection
        )
        options.setdefault("misfire_grace", GRACE)
        schedulers.append(JobScheduler(store_factory, on_due, **options))
        return schedulers[-1]

    return make_scheduler


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_one_off_job_fires_once_with_its_id_and_run_time(
    make: Callable[..., JobScheduler],
) -> None:
    due = Recorder()
    scheduler = make(due)
    await scheduler.start()
    run_at = soon(0.2)
    assert await scheduler.put_once("b1", run_at) == run_at
    await due.wait()
    assert due.calls == [("b1", run_at)]
    assert due.calls[0][1].tzinfo == UTC
    assert await scheduler.jobs() == {}  # a one-off job is gone once dispatched


async def test_put_replaces_a_job_with_the_same_id(make: Callable[..., JobScheduler]) -> None:
    scheduler = make(Recorder())
    await scheduler.start()
    await scheduler.put_once("b1", soon(3600))
    later = soon(7200)
    assert await scheduler.put_once("b1", later) == later
    assert await scheduler.jobs() == {"b1": later}


async def test_remove_says_whether_there_was_a_job(make: Callable[..., JobScheduler]) -> None:
    scheduler = make(Recorder())
    await scheduler.start()
    await scheduler.put_once("b1", soon(3600))
    assert await scheduler.remove("b1")
    assert not await scheduler.remove("b1")
    assert await scheduler.jobs() == {}


async def test_jobs_lists_next_run_times(make: Callable[..., JobScheduler]) -> None:
    scheduler = make(Recorder())
    await scheduler.start()
    once, start = soon(3600), soon(60)
    every_day = IntervalTrigger(days=1, start_date=start, timezone=UTC)
    assert await scheduler.put("daily", every_day) == start
    await scheduler.put_once("once", once)
    assert await scheduler.jobs() == {"daily": start, "once": once}


async def test_a_job_survives_a_restart(make: Callable[..., JobScheduler]) -> None:
    first_due, second_due = Recorder(), Recorder()
    first = make(first_due)
    await first.start()
    run_at = soon(0.3)
    await first.put_once("b1", run_at)
    await first.shutdown()
    second = make(second_due)  # another app instance, on the same job collection
    await second.start()
    assert await second.jobs() == {"b1": run_at}
    await second_due.wait()
    assert second_due.calls == [("b1", run_at)]
    assert first_due.calls == []


async def test_a_job_missed_by_more_than_the_grace_does_not_fire(
    make: Callable[..., JobScheduler],
) -> None:
    due, missed = Recorder(), Recorder()
    writer = make(Recorder())
    # Paused: it stores the job and runs none. Shutting it down with a job due must not
    # consume that job (APScheduler 3.11 would, in a last look at the store).
    await writer.start(paused=True)
    run_at = soon(-10)
    await writer.put_once("late", run_at)
    await writer.shutdown()
    scheduler = make(due, on_missed=missed, misfire_grace=timedelta(seconds=1))
    await scheduler.start()
    await missed.wait()
    assert missed.calls == [("late", run_at)]
    assert due.calls == []
    assert await scheduler.jobs() == {}


async def test_a_paused_scheduler_stores_jobs_and_runs_them_on_resume(
    make: Callable[..., JobScheduler],
) -> None:
    due = Recorder()
    scheduler = make(due)
    await scheduler.start(paused=True)
    run_at = soon(0.05)
    await scheduler.put_once("b1", run_at)
    await asyncio.sleep(0.1)  # the job falls due while paused
    assert due.calls == []
    await scheduler.resume()
    await due.wait()
    assert due.calls == [("b1", run_at)]


async def test_two_schedulers_in_one_process_each_fire_their_own(
    make: Callable[..., JobScheduler],
) -> None:
    due_a, due_b = Recorder(), Recorder()
    a, b = make(due_a, collection="jobs_a"), make(due_b, collection="jobs_b")
    await a.start()
    await b.start()
    await a.put_once("for-a", soon(0.1))
    await b.put_once("for-b", soon(0.1))
    await due_a.wait()
    await due_b.wait()
    assert [call[0] for call in due_a.calls + due_b.calls] == ["for-a", "for-b"]


def test_fire_outside_a_scheduler_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="b1"):
        fire("b1")


async def test_calls_before_start_or_after_shutdown_are_errors(
    make: Callable[..., JobScheduler],
) -> None:
    scheduler = make(Recorder())
    with pytest.raises(RuntimeError, match="not running"):
        await scheduler.jobs()
    await scheduler.start()
    await scheduler.shutdown()
    await scheduler.shutdown()
    assert not scheduler.running
    with pytest.raises(RuntimeError, match="not running"):
        await scheduler.put_once("b1", soon(60))


STORE_DELAY_S = 0.5


def _slowed(method: Callable[..., Any]) -> Callable[..., Any]:
    def slow(self: Any, *args: Any) -> Any:
        self.threads.add(threading.get_ident())
        time.sleep(STORE_DELAY_S)
        return method(self, *args)

    return slow


class SlowStore(MongoDBJobStore):  # type: ignore[misc]
    """Every call takes half a second, as a distant or overloaded server would."""

    threads: set[int]


for _name in (
    "start",
    "shutdown",
    "lookup_job",
    "get_due_jobs",
    "get_next_run_time",
    "get_all_jobs",
    "add_job",
    "update_job",
    "remove_job",
):
    setattr(SlowStore, _name, _slowed(getattr(MongoDBJobStore, _name)))


async def _measure_lag(lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(0.01)
        lags.append(loop.time() - started - 0.01)


async def test_slow_store_calls_never_block_the_event_loop(
    make: Callable[..., JobScheduler], new_client: ClientFactory, database: str
) -> None:
    threads: set[int] = set()

    def slow_store() -> SlowStore:
        store = SlowStore(database=database, collection="scheduled_jobs", client=new_client())
        store.threads = threads
        return store

    due = Recorder()
    scheduler = make(due, store_factory=slow_store, misfire_grace=timedelta(seconds=10))
    lags: list[float] = []
    ticker = asyncio.create_task(_measure_lag(lags))
    try:
        await scheduler.start()
        await scheduler.put("later", IntervalTrigger(hours=1, timezone=UTC))
        run_at = soon(0.5)
        await scheduler.put_once("soon", run_at)  # late by the store's delays, within grace
        assert "later" in await scheduler.jobs()
        assert await scheduler.remove("later")
        await due.wait(limit_s=5)
        await scheduler.shutdown()
    finally:
        ticker.cancel()
    assert due.calls == [("soon", run_at)]
    assert threads
    assert threading.get_ident() not in threads
    assert max(lags) < 0.05, f"the event loop stalled for {max(lags):.3f} s"
