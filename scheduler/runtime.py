"""The scheduler of one bot process: active only while it holds the scheduler lease.

While leader it runs a :class:`~scheduler.jobs.JobScheduler` (APScheduler with a
MongoDB job store) and keeps its jobs equal to the broadcasts collection: at
election, after every change an admin makes here, and every ``sweep_every``
seconds (which picks up changes made on another instance). Due broadcasts go
through :class:`scheduler.book.ScheduleBook`, whose compare-and-set updates make
each one start once even if two schedulers fire it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.events import event
from bot.delivery.ports import WallClock
from bot.delivery.tasks import stop_task
from scheduler.book import Fired, Plan, ScheduleBook, plan
from scheduler.jobs import JobScheduler
from scheduler.lease import Leadership, Lease
from scheduler.signal import ChangeSignal

log = logging.getLogger(__name__)

Notice = Callable[[Fired], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]
JobsFactory = Callable[["SchedulerRuntime"], JobScheduler]


@dataclass(frozen=True, slots=True)
class RuntimeTiming:
    """How often the lease is renewed and the collection swept; the misfire grace."""

    renew_every_s: float = 10.0
    sweep_every_s: float = 30.0
    grace: timedelta = timedelta(hours=1)
    #: How often the leader looks for a change another instance signalled.
    signal_poll_s: float = 1.0


class SchedulerRuntime:
    """Fires scheduled broadcasts while this process is the leader.

    Args:
        book: The scheduled broadcasts.
        lease: The lease that elects one scheduler among the instances.
        jobs_factory: Makes this runtime's job scheduler (called at each election);
            it must call :meth:`due` and :meth:`missed`.
        wall_clock: The time the broadcasts' ``scheduled_for`` is compared with.
        on_started: Told about each broadcast this instance queued (to show progress).
        on_missed: Told about each broadcast marked missed (to tell its admin).
        timing: Renewal, sweep and grace.
        on_leading: Run once the scheduler runs here (the bot starts its send queue,
            so only the leader sends and the bot's rate is one rate).
        on_standby: Run when it stops running here (the send queue stops; a broadcast
            it was sending stays ``running`` and the next leader resumes it).
    """

    def __init__(
        self,
        book: ScheduleBook,
        lease: Lease,
        jobs_factory: JobsFactory,
        wall_clock: WallClock,
        *,
        on_started: Notice,
        on_missed: Notice,
        timing: RuntimeTiming | None = None,
        on_leading: Hook | None = None,
        on_standby: Hook | None = None,
        signal: ChangeSignal | None = None,
    ) -> None:
        self.book, self.jobs_factory, self.wall_clock = book, jobs_factory, wall_clock
        self.on_started, self.on_missed = on_started, on_missed
        self.on_leading, self.on_standby = on_leading, on_standby
        self.timing = timing or RuntimeTiming()
        self.leadership = Leadership(
            lease,
            renew_every=self.timing.renew_every_s,
            on_elected=self._elected,
            on_deposed=self._deposed,
        )
        self.jobs: JobScheduler | None = None
        self.signal = signal
        self._leading = False
        self._sweeper: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def is_leader(self) -> bool:
        """Whether this instance leads: sweeps the schedule and sends broadcasts."""
        return self._leading

    async def start(self) -> None:
        """Take part in the election (returns after the first attempt)."""
        await self.leadership.start()

    async def stop(self) -> None:
        """Stop the scheduler and release the lease, so another instance takes over at once."""
        await self.leadership.stop()
        await self._deposed()

    async def abandon(self) -> None:
        """Stop as a crash would: the lease is kept until it expires (for tests)."""
        await self.leadership.abandon()
        await self._deposed()

    async def changed(self) -> None:
        """A broadcast was scheduled, moved or cancelled here: sync now if leader, else
        signal the leader (it syncs within ``signal_poll_s``)."""
        if self._leading:
            await self.sync()
        elif self.signal is not None:
            await self.signal.bump(self.wall_clock())

    async def sync(self) -> None:
        """Make the jobs match the broadcasts collection; fire or miss what is due.

        Whatever APScheduler's state (its store unreachable, before or after it
        started), the sweep still fires and misses what is due, at the sweep's pace
        instead of to the second; a job scheduler whose store fails is shut down and
        started again by a later sweep.
        """
        async with self._lock:
            if not self._leading:
                return
            for schedule in await self.book.store.with_pending_runs():
                fired = await self.book.settle_pending(schedule)  # a crash left it owed
                if fired is not None:
                    _logged("schedule.fired", str(schedule["_id"]), fired)
                    await _told(self.on_started, fired)
            current = await self._current_jobs()
            todo = plan(
                await self.book.store.scheduled(), current or {}, self.wall_clock(), self._grace
            )
            for bid in todo.fire:
                await self._fire(bid)
            for bid in todo.miss:
                await self._miss(bid)
            if current is not None:
                await self._apply(todo)

    async def _current_jobs(self) -> dict[str, datetime | None] | None:
        """The job scheduler's jobs; None without one (or when its store just failed)."""
        if self.jobs is None:
            return None
        try:
            return await self.jobs.jobs()
        except Exception:
            log.exception("the job store failed; the sweep fires due broadcasts meanwhile")
            await self._drop_jobs()
            return None

    async def _apply(self, todo: Plan) -> None:
        jobs = self.jobs
        if jobs is None:
            return
        try:
            for bid, at in todo.put.items():
                await jobs.put_once(bid, at)
            for bid in todo.remove:
                await jobs.remove(bid)
        except Exception:
            log.exception("the job store failed; the sweep fires due broadcasts meanwhile")
            await self._drop_jobs()

    async def _drop_jobs(self) -> None:
        jobs, self.jobs = self.jobs, None
        if jobs is not None:
            with contextlib.suppress(Exception):
                await jobs.shutdown()

    async def due(self, broadcast_id: str, run_time: datetime) -> None:
        """APScheduler fired ``broadcast_id``'s job."""
        async with self._lock:
            await self._fire(broadcast_id)

    async def missed(self, broadcast_id: str, run_time: datetime) -> None:
        """APScheduler found ``broadcast_id``'s job later than the grace."""
        async with self._lock:
            await self._miss(broadcast_id)

    @property
    def _grace(self) -> timedelta:
        return self.timing.grace

    async def _fire(self, broadcast_id: str) -> None:
        fired = await self.book.fire(broadcast_id, self.wall_clock())
        if fired is None:
            return
        _logged("schedule.fired", broadcast_id, fired)
        await self._next(broadcast_id, fired)
        await _told(self.on_started, fired)

    async def _miss(self, broadcast_id: str) -> None:
        fired = await self.book.miss(broadcast_id, self.wall_clock(), self._grace)
        if fired is None:
            return
        _logged("schedule.missed", broadcast_id, fired)
        await self._next(broadcast_id, fired)
        await _told(self.on_missed, fired)

    async def _next(self, schedule_id: str, fired: Fired) -> None:
        if fired.next_at is not None and self.jobs is not None:
            try:
                await self.jobs.put_once(schedule_id, fired.next_at)
            except Exception:  # the sweep fires it in time anyway
                log.exception("the job store failed; the sweep fires due broadcasts meanwhile")

    async def _elected(self) -> None:
        self._leading = True
        if self.on_leading is not None:
            await self.on_leading()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="schedule-sweeper")
        if self.signal is not None:
            self._watcher = asyncio.create_task(self._watch_signal(self.signal), name="signal")
        log.info(
            "this instance now leads: it sends broadcasts and runs the scheduler",
            extra=event("scheduler.started"),
        )

    async def _deposed(self) -> None:
        was_leading, self._leading = self._leading, False
        if self.on_standby is not None:  # first: another instance may be sending soon
            await self.on_standby()
        for task in (self._sweeper, self._watcher):
            await stop_task(task)
        self._sweeper = self._watcher = None
        async with self._lock:
            jobs, self.jobs = self.jobs, None
        if jobs is not None:
            await jobs.shutdown()
        if was_leading:
            log.info("this instance no longer leads", extra=event("scheduler.stopped"))

    async def _start_jobs(self) -> None:
        """Start the job scheduler if it is not running; a failure is retried next sweep."""
        if self.jobs is not None:
            return
        jobs = self.jobs_factory(self)
        try:
            await jobs.start()
        except Exception:
            log.exception("the job store cannot be reached; the sweep fires due broadcasts")
            return
        spare: JobScheduler | None = jobs
        async with self._lock:
            if self._leading and self.jobs is None:
                self.jobs, spare = jobs, None
        if spare is not None:  # deposed meanwhile
            await spare.shutdown()

    async def _sweep_forever(self) -> None:
        while True:  # the first sweep runs at once: what was due while nobody led
            try:
                await self._start_jobs()
                await self.sync()
            except Exception:
                log.exception("syncing the schedule failed; retrying")
            await asyncio.sleep(self.timing.sweep_every_s)

    async def _watch_signal(self, signal: ChangeSignal) -> None:
        seen: int | None = None
        while True:
            try:
                version = await signal.version()
                if seen is not None and version != seen:
                    await self.sync()
                seen = version
            except Exception:
                log.warning("reading the change signal failed; the sweep catches up", exc_info=True)
            await asyncio.sleep(self.timing.signal_poll_s)


def _logged(name: str, schedule_id: str, fired: Fired) -> None:
    """One line for a scheduled broadcast that fired or was missed; a repeating schedule's
    run names its schedule."""
    schedule = None if schedule_id == fired.broadcast_id else schedule_id
    fields = event(name, fired.broadcast_id, schedule=schedule, next_at=fired.next_at)
    level = logging.WARNING if name == "schedule.missed" else logging.INFO
    log.log(level, "%s: %s", fired.broadcast_id, name, extra=fields)


async def _told(notice: Notice, fired: Fired) -> None:
    try:
        await notice(fired)
    except Exception:
        failed = event("schedule.notice_failed", fired.broadcast_id)
        log.exception("telling the admin about %s failed", fired.broadcast_id, extra=failed)
