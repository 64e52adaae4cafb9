"""The one way to put the admin bot on a hydrogram client: :func:`install`.

A host bot (the design document's MovieBot) calls it on its own client and
database; ``python -m bot run`` calls it on a client built from the settings.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import hydrogram
from apscheduler.jobstores.base import BaseJobStore

from bot.admin.board import StatusBoard
from bot.admin.handlers import notices
from bot.admin.handlers.context import BotContext, Timing
from bot.admin.handlers.reactions import reaction_data
from bot.admin.handlers.router import handlers
from bot.admin.handlers.schedule import admin_zone
from bot.admin.handlers.visitors import RECORD_GROUP, RecentVisitors, visitor_handlers
from bot.admin.queue import BroadcastQueue
from bot.app import Core, Tuning, build_core, utc_now
from bot.delivery.events import event
from bot.delivery.outage import OutageGuard, OutagePolicy
from bot.delivery.ports import PipelineConfig, WallClock
from bot.storage.mongo import Database
from config.settings import Settings
from scheduler.jobs import JobScheduler, mongo_store_factory
from scheduler.lease import MongoLease
from scheduler.runtime import RuntimeTiming, SchedulerRuntime
from scheduler.signal import ChangeSignal

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics, MetricsServer

log = logging.getLogger(__name__)

#: Our handlers run before a host bot's (group 0) and stop propagation of what they consume.
HANDLER_GROUP = -1
#: How long :func:`install` waits for an unreachable database before it gives up.
STARTUP_OUTAGE_LIMIT_S = 60.0
LEASE_COLLECTION = "broadcast_leases"
SIGNAL_COLLECTION = "broadcast_signals"


@dataclass(frozen=True, slots=True)
class SchedulerSetup:
    """How the scheduler of an installed bot is built.

    Attributes:
        job_store: Makes the APScheduler job store for each election; by default a
            MongoDB store at ``MONGO_URI`` (a sync client, used off the event loop).
        timing: Lease renewal, sweep period and misfire grace (``SCHEDULE_MISFIRE_GRACE``
            by default).
        lease_ttl_s: How long a silent leader keeps the lease before another takes over.
        holder: This instance's name in the lease (host, pid and a random tag by default).
        enabled: False: this instance never runs scheduled broadcasts.
    """

    job_store: Callable[[], BaseJobStore] | None = None
    timing: RuntimeTiming | None = None
    lease_ttl_s: float = 30.0
    holder: str | None = None
    enabled: bool = True


@dataclass(slots=True)
class BroadcastBot:
    """The installed admin bot: its machinery, its queue, and how to take it out."""

    core: Core
    queue: BroadcastQueue
    context: BotContext
    board: StatusBoard
    registered: list[tuple[Any, int]] = field(default_factory=list)
    scheduler: SchedulerRuntime | None = None
    metrics: MetricsServer | None = None
    #: Installed without leader election: this instance always sends.
    unelected: bool = False

    @property
    def leads(self) -> bool:
        """Whether this instance sends broadcasts: the elected one, or any without election."""
        return self.scheduler.is_leader if self.scheduler is not None else self.unelected

    async def start_sending(self) -> None:
        """This instance sends: the queue runs, waiting broadcasts are shown their place."""
        await self.queue.start()
        self.board.start(self.core.service.now, self.queue.reread)

    async def stop_sending(self) -> None:
        """Stop sending (a broadcast being sent stops cleanly and stays ``running``)."""
        await self.board.stop()
        await self.queue.stop()

    async def stop(self) -> None:
        """Remove the handlers, drop open questions, stop the scheduler and the queue.

        A running broadcast stays ``running`` in MongoDB and resumes at the next start
        (here or on the instance that takes over); the lease is released, so another
        instance takes over at once. The metrics endpoint, if any, closes last.
        """
        for handler, group in self.registered:
            self.context.client.remove_handler(handler, group)
        self.registered.clear()
        self.context.pending.close_all()
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.stop_sending()
        if self.metrics is not None:
            await self.metrics.close()
            self.metrics = None


async def install(
    client: hydrogram.Client,
    db: Database,
    settings: Settings,
    *,
    config: PipelineConfig | None = None,
    timing: Timing | None = None,
    group: int = HANDLER_GROUP,
    all_callbacks: bool = False,
    record_users: bool = False,
    scheduler: SchedulerSetup | None = None,
    wall_clock: WallClock = utc_now,
) -> BroadcastBot:
    """Install the broadcast admin commands and buttons on ``client`` and start the queue.

    Args:
        client: A hydrogram bot client created with ``sleep_threshold=0``.
        db: The database holding the users collection; broadcasts are stored next to it.
        settings: Admins, rate, users collection, test mode.
        config: Pipeline tuning; from ``settings`` when None.
        timing: How long the bot waits for an asked message and a confirmation.
        group: The hydrogram handler group.
        all_callbacks: Answer every callback query (a standalone bot), not only
            those this package created (``bc:...``).
        record_users: Record everyone who writes to the bot in the users collection
            and answer /start (a standalone bot); a host bot keeps its own users.
        scheduler: How scheduled broadcasts are run; the defaults by default.
        wall_clock: The time of records, schedules and segments (tests move it).

    Returns:
        The running bot; call :meth:`BroadcastBot.stop` before stopping the client.

    Raises:
        OSError: ``METRICS_PORT`` is set and cannot be bound.
        OutageTooLongError: The database stayed unreachable for ``STARTUP_OUTAGE_LIMIT_S``
            (a shorter outage is waited out).
    """
    tuning = Tuning.from_settings(settings)
    if settings.rate_warning is not None:
        log.warning("%s", settings.rate_warning, extra=event("config.rate_warning"))
    metrics = _metrics() if settings.metrics_port is not None else None
    core = build_core(
        db,
        client,
        tuning,
        config=config,
        wall_clock=wall_clock,
        instruments=metrics,
        reaction_data=reaction_data,
    )
    await _wait_out_outages(lambda: core.ensure_indexes(unique_user_ids=record_users))
    context: BotContext | None = None

    async def zone_of(admin_id: int) -> ZoneInfo:
        assert context is not None  # set below, before any broadcast can run
        return await admin_zone(context, admin_id)

    timing = timing or Timing()
    board = StatusBoard(
        client,
        core,
        zone_of,
        remind_after_s=settings.pause_reminder_s,
        refresh_s=timing.status_refresh_s,
    )
    queue = BroadcastQueue(
        core,
        board.status_for,
        board.finished,
        on_trouble=board.trouble,
        on_moved=board.moved,
    )
    context = BotContext(
        client, core, queue, settings, timing, records_users=record_users, board=board
    )
    bot = BroadcastBot(core, queue, context, board)
    if metrics is not None and settings.metrics_port is not None:  # before anything runs
        metrics.watch(core.throttle.limiter, queue, lambda: bot.leads)
        bot.metrics = metrics.serve(settings.metrics_port)
        log.info("metrics served on port %d", bot.metrics.port, extra=event("metrics.serving"))
    registered = [(h, group) for h in handlers(context, all_callbacks=all_callbacks)]
    if record_users:
        visitors = RecentVisitors()
        core.users.on_marked(visitors.forget)
        registered += [(h, RECORD_GROUP) for h in visitor_handlers(context, visitors)]
    for handler, handler_group in registered:
        client.add_handler(handler, handler_group)
        bot.registered.append((handler, handler_group))
    await asyncio.sleep(0)  # hydrogram registers handlers in a task of its own
    setup = scheduler or SchedulerSetup()
    if setup.enabled:  # the elected instance runs the queue too: one sender, one rate
        bot.scheduler = await _start_scheduler(bot, db, setup)
    else:
        bot.unelected = True
        await bot.start_sending()
    log.info(
        "broadcast admin bot installed",
        extra=event(
            "bot.installed",
            rate=tuning.rate,
            concurrency=core.pipeline.config.concurrency,
            test_mode=tuning.test_mode.enabled,
            election=setup.enabled,
            leader=bot.leads,
        ),
    )
    return bot


async def _wait_out_outages(operation: Callable[[], Awaitable[None]]) -> None:
    """Run a start-up database operation, waiting out a short outage (a restart, an election).

    Raises:
        OutageTooLongError: The database stayed unreachable for ``STARTUP_OUTAGE_LIMIT_S``.
    """
    loop = asyncio.get_running_loop()
    guard: OutageGuard

    def changed() -> None:
        if guard.down:
            log.warning(
                "the database is unreachable at start-up (%s); waiting up to %g s",
                guard.last_error,
                STARTUP_OUTAGE_LIMIT_S,
                extra=event("bot.database_unreachable"),
            )

    policy = OutagePolicy(limit_s=STARTUP_OUTAGE_LIMIT_S)
    guard = OutageGuard(policy, loop.time, asyncio.sleep, changed)
    await guard(operation)


def _metrics() -> Metrics:
    from bot.ops.metrics import Metrics  # prometheus_client only when metrics are on

    return Metrics()


async def _start_scheduler(
    bot: BroadcastBot, db: Database, setup: SchedulerSetup
) -> SchedulerRuntime:
    context = bot.context
    core, settings = context.core, context.settings
    grace = timedelta(seconds=max(1.0, settings.misfire_grace_s))
    timing = setup.timing or RuntimeTiming(grace=grace)
    job_store = setup.job_store or mongo_store_factory(settings.mongo_uri, db.name)
    holder = setup.holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    lease = MongoLease(
        db[LEASE_COLLECTION], "scheduler", holder, timedelta(seconds=setup.lease_ttl_s)
    )

    def jobs_for(runtime: SchedulerRuntime) -> JobScheduler:
        return JobScheduler(
            job_store,
            runtime.due,
            misfire_grace=timing.grace,
            on_missed=runtime.missed,
            poll_s=timing.sweep_every_s,
        )

    runtime = SchedulerRuntime(
        core.schedules,
        lease,
        jobs_for,
        core.service.now,
        on_started=lambda fired: notices.scheduled_started(context, fired),
        on_missed=lambda fired: notices.scheduled_missed(context, fired),
        timing=timing,
        on_leading=bot.start_sending,
        on_standby=bot.stop_sending,
        signal=ChangeSignal(db[SIGNAL_COLLECTION], "schedules"),
    )
    context.on_schedules_changed = runtime.changed
    await runtime.start()
    return runtime
