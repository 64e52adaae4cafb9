"""APScheduler 3 behind an asyncio API, with its job store kept off the event loop.

APScheduler 3's MongoDB job store is synchronous: every call blocks the thread
that makes it. So :class:`JobScheduler` runs a ``BackgroundScheduler`` (which
looks for due jobs on a thread of its own) and makes every other call into
APScheduler on one dedicated worker thread; the event loop only waits for
results. A due job is handed back to the loop as ``on_due(broadcast_id, run_time)``.

Every job runs :func:`fire`, named by text and given only the broadcast id, so
stored jobs survive a restart (and a deploy, as long as this module keeps its
name). ``fire`` finds the scheduler that is running the job through a context
variable that the scheduler's executor sets, not a global, so several
schedulers can live in one process.

APScheduler removes a one-off job from the store when it dispatches it, and
skips a run time missed by more than the grace time (``on_missed`` hears of
it). Keeping the broadcast itself safe across crashes is up to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TypeVar

import pymongo
from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.jobstores.base import BaseJobStore, JobLookupError
from apscheduler.jobstores.mongodb import MongoDBJobStore
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from scheduler.engine import HandOffExecutor, PollingScheduler, firing

log = logging.getLogger(__name__)

FIRE = "scheduler.jobs:fire"
"""The text reference stored with every job."""

Due = Callable[[str, datetime], Awaitable[None]]
"""``(broadcast_id, scheduled run time in UTC)``, called on the event loop."""

_T = TypeVar("_T")


def fire(broadcast_id: str) -> None:
    """The target of every job: hands the broadcast to the scheduler running the job.

    Called by APScheduler on the executor thread of a :class:`JobScheduler`; it
    only queues ``on_due`` on that scheduler's event loop and returns.

    Raises:
        RuntimeError: Called other than by a JobScheduler's executor, or its loop is closed.
    """
    try:
        deliver, run_time = firing.get()
    except LookupError:
        raise RuntimeError(f"job {broadcast_id!r} fired outside a JobScheduler") from None
    deliver(broadcast_id, run_time)


def mongo_store_factory(
    client: str | Callable[[], Any], database: str, collection: str = "scheduled_jobs"
) -> Callable[[], MongoDBJobStore]:
    """A function that makes a new MongoDB job store, with a new sync client, on each call.

    The store closes its client when the scheduler shuts down, so each start needs
    a new one.

    Args:
        client: A MongoDB URI (a ``pymongo.MongoClient`` with ``tz_aware=True`` is made
            for each store), or a function returning a new sync client on each call,
            e.g. ``lambda: mongomock.MongoClient(_store=server)`` for tests (mongomock
            clients made with one ``ServerStore`` see the same data; their ``close``
            does nothing).
        database: The database holding the jobs.
        collection: The collection holding the jobs.
    """

    def connect() -> Any:
        if isinstance(client, str):
            # Fail within seconds, not pymongo's 30: the lease must not run out meanwhile.
            return pymongo.MongoClient(client, tz_aware=True, serverSelectionTimeoutMS=5000)
        return client()

    def make_store() -> MongoDBJobStore:
        return MongoDBJobStore(database=database, collection=collection, client=connect())

    return make_store


class JobScheduler:
    """Scheduled jobs in a MongoDB job store, from asyncio code, never blocking the loop.

    Only one running scheduler may use a job store at a time (see
    ``scheduler.lease``): two would both run each due job.

    Args:
        store_factory: Makes a new job store for each start (see :func:`mongo_store_factory`);
            called on the worker thread.
        on_due: Called on the loop with the broadcast id and the scheduled run time (UTC)
            when a job fires; not awaited by the scheduler, its errors are logged.
        misfire_grace: How late a job may still run; rounded up to whole seconds, at least 1.
        timezone: The scheduler's time zone (APScheduler's default would be the local one).
        on_missed: Called like ``on_due`` for a run time missed by more than ``misfire_grace``.
        poll_s: The longest the scheduler waits before looking at the store again.
    """

    def __init__(
        self,
        store_factory: Callable[[], BaseJobStore],
        on_due: Due,
        *,
        misfire_grace: timedelta,
        timezone: tzinfo = UTC,
        on_missed: Due | None = None,
        poll_s: float = 30.0,
    ) -> None:
        if misfire_grace <= timedelta(0):
            raise ValueError(f"misfire_grace must be positive, got {misfire_grace}")
        if poll_s <= 0:
            raise ValueError(f"poll_s must be positive, got {poll_s}")
        self._store_factory, self._on_due, self._on_missed = store_factory, on_due, on_missed
        self._grace_s = max(1, math.ceil(misfire_grace.total_seconds()))
        self._timezone, self._poll_s = timezone, poll_s
        self._lifecycle = asyncio.Lock()
        self._worker: ThreadPoolExecutor | None = None
        self._scheduler: PollingScheduler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    @property
    def running(self) -> bool:
        """Whether the scheduler is started (possibly paused) and not shut down."""
        return self._scheduler is not None

    async def start(self, *, paused: bool = False) -> None:
        """Open a new job store and start the scheduler.

        Args:
            paused: Start without running jobs (jobs can still be added and removed)
                until :meth:`resume`.

        Raises:
            RuntimeError: Already started.
        """
        async with self._lifecycle:
            if self._worker is not None:
                raise RuntimeError("the job scheduler is already started")
            self._loop = asyncio.get_running_loop()
            worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-scheduler")
            opening = worker.submit(self._open, paused)
            try:
                self._scheduler = await asyncio.wrap_future(opening)
            except BaseException:
                worker.submit(_close_opened, opening)  # runs after _open: one worker
                worker.shutdown(wait=False)
                raise
            self._worker = worker

    async def shutdown(self) -> None:
        """Stop the scheduler and close its job store; later calls raise. Idempotent.

        Jobs already due are handed to ``on_due`` first (APScheduler has removed
        the one-off ones from the store already). Calls to ``on_due`` in progress
        are not waited for.
        """
        async with self._lifecycle:
            scheduler, worker = self._scheduler, self._worker
            self._scheduler = self._worker = None
            if scheduler is None or worker is None:
                return
            try:
                await asyncio.wrap_future(worker.submit(scheduler.shutdown, True))
            finally:
                worker.shutdown(wait=False)

    async def pause(self) -> None:
        """Stop running jobs; adding and removing them still works."""
        await self._on_worker(lambda scheduler: scheduler.pause())

    async def resume(self) -> None:
        """Run jobs again after :meth:`pause` or ``start(paused=True)``."""
        await self._on_worker(lambda scheduler: scheduler.resume())

    async def put(self, job_id: str, trigger: BaseTrigger) -> datetime | None:
        """Schedule ``fire(job_id)`` on ``trigger``, replacing any job with that id.

        Returns:
            The job's next run time (UTC), None if the trigger never fires.
        """

        def add(scheduler: PollingScheduler) -> datetime | None:
            job = scheduler.add_job(
                FIRE,
                trigger,
                args=[job_id],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=self._grace_s,
                coalesce=True,
                max_instances=1,
            )
            return _utc(job.next_run_time)

        return await self._on_worker(add)

    async def put_once(self, job_id: str, run_at: datetime) -> datetime | None:
        """Schedule ``fire(job_id)`` once at ``run_at`` (timezone-aware), replacing any job.

        Raises:
            ValueError: ``run_at`` is naive.
        """
        if run_at.tzinfo is None or run_at.utcoffset() is None:
            raise ValueError(f"run_at must be timezone-aware, got {run_at!r}")
        return await self.put(job_id, DateTrigger(run_date=run_at, timezone=self._timezone))

    async def remove(self, job_id: str) -> bool:
        """Remove a job; False if there was none with that id."""

        def remove(scheduler: PollingScheduler) -> bool:
            try:
                scheduler.remove_job(job_id)
            except JobLookupError:
                return False
            return True

        return await self._on_worker(remove)

    async def jobs(self) -> dict[str, datetime | None]:
        """Every stored job's id and next run time (UTC)."""

        def read(scheduler: PollingScheduler) -> dict[str, datetime | None]:
            return {job.id: _utc(job.next_run_time) for job in scheduler.get_jobs()}

        return await self._on_worker(read)

    async def _on_worker(self, call: Callable[[PollingScheduler], _T]) -> _T:
        scheduler, worker = self._scheduler, self._worker
        if scheduler is None or worker is None:
            raise RuntimeError("the job scheduler is not running")
        return await asyncio.wrap_future(worker.submit(call, scheduler))

    def _open(self, paused: bool) -> PollingScheduler:
        """Make and start a scheduler (worker thread)."""
        store = self._store_factory()
        executor = HandOffExecutor(self._deliver_due)
        scheduler = PollingScheduler(self._poll_s, timezone=self._timezone, daemon=True)
        scheduler.add_jobstore(store, "default")
        scheduler.add_executor(executor, "default")
        scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        try:
            scheduler.start(paused=paused)
        except BaseException:
            executor.shutdown(wait=False)
            store.shutdown()
            raise
        return scheduler

    def _deliver_due(self, broadcast_id: str, run_time: datetime) -> None:
        self._hand_over(self._on_due, broadcast_id, run_time)

    def _missed(self, event: Any) -> None:
        if self._on_missed is not None:
            self._hand_over(self._on_missed, event.job_id, event.scheduled_run_time)

    def _hand_over(self, callback: Due, job_id: str, run_time: datetime) -> None:
        """Queue ``callback`` on the loop (any thread); raises RuntimeError if it is closed."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._begin, callback, job_id, run_time.astimezone(UTC))

    def _begin(self, callback: Due, job_id: str, run_time: datetime) -> None:
        task = asyncio.ensure_future(callback(job_id, run_time))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scheduled job callback failed", exc_info=task.exception())


def _close_opened(opening: Future[PollingScheduler]) -> None:
    """Shut down a scheduler whose start was abandoned by its caller (worker thread)."""
    if not opening.cancelled() and opening.exception() is None:
        opening.result().shutdown(True)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def in_memory_job_store() -> Callable[[], Any]:
    """A factory of APScheduler job stores that all see one in-memory MongoDB server.

    The scheduler's store needs a sync client (and closes it on shutdown), so each
    start gets a new mongomock client on the same server: jobs survive a restart
    of the scheduler within the process, as they would on a real server.
    """
    import mongomock  # the demo extra: tests and the demo only

    server: Any = mongomock.MongoClient()._store
    return mongo_store_factory(lambda: mongomock.MongoClient(_store=server), "broadcast_jobs")
