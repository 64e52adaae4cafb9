"""The one way to put the admin bot on a hydrogram client: :func:`install`.

A host bot (the design document's MovieBot) calls it on its own client and
database; ``python -m bot run`` calls it on a client built from the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import hydrogram
from apscheduler.jobstores.base import BaseJobStore
from hydrogram.errors import RPCError
from pymongo.errors import PyMongoError

from bot.admin.board import StatusBoard
from bot.admin.handlers import notices
from bot.admin.handlers.context import BotContext, Timing
from bot.admin.handlers.reactions import reaction_data
from bot.admin.handlers.router import handlers
from bot.admin.handlers.schedule import admin_zone
from bot.admin.handlers.visitors import RECORD_GROUP, RecentVisitors, visitor_handlers
from bot.admin.queue import BroadcastQueue
from bot.app import Core, Tuning, broadcast_client, build_core, open_database, utc_now
from bot.delivery.events import event
from bot.delivery.ports import PipelineConfig, WallClock
from bot.ops.logs import configure_logging, secrets_of
from bot.storage.mongo import Database
from config.settings import Settings
from scheduler.jobs import JobScheduler, mongo_store_factory
from scheduler.lease import MongoLease
from scheduler.runtime import RuntimeTiming, SchedulerRuntime
from scheduler.signal import ChangeSignal

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics, MetricsServer

log = logging.getLogger(__name__)
#: How long ``python -m bot run`` waits for Telegram before it gives up with one line.
CONNECT_TIMEOUT_S = 20.0

#: Our handlers run before a host bot's (group 0) and stop propagation of what they consume.
HANDLER_GROUP = -1
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
        self.board.start(self.core.service.now)

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
    await core.ensure_indexes(unique_user_ids=record_users)
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


class StartError(Exception):
    """The standalone bot could not start: Telegram unreachable, or refusing the bot."""


async def serve(settings: Settings, *, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Run the standalone bot until interrupted (Ctrl-C); the caller checks credentials.

    Logging goes to stderr, one line per event at ``LOG_LEVEL``, secrets masked
    (:mod:`bot.ops.logs`).

    Raises:
        StartError: Telegram could not be reached within ``connect_timeout_s``, or
            refused the bot.
    """
    configure_logging(settings.log_level, secrets_of(settings))
    if not settings.admin_ids:
        log.warning(
            "ADMIN_IDS is empty: only users with role 'admin' can use the bot",
            extra=event("config.no_admins"),
        )
    async with open_database(settings) as db:
        await reach_database(db, connect_timeout_s)
        client = broadcast_client(settings, db)
        await start_client(client, connect_timeout_s)
        try:
            bot = await install(client, db, settings, all_callbacks=True, record_users=True)
            try:
                await hydrogram.idle()  # type: ignore[no-untyped-call]
            finally:
                await bot.stop()
        finally:
            await client.stop()


async def reach_database(db: Database, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Ping MongoDB first: unreachable, it would hold the start up with nothing said.

    Raises:
        StartError: No answer within ``timeout_s`` (host and credentials never shown).
    """
    try:
        async with asyncio.timeout(timeout_s):
            await db.command("ping")
    except (TimeoutError, PyMongoError) as error:
        reason = "no answer" if isinstance(error, TimeoutError) else type(error).__name__
        raise StartError(
            f"MongoDB could not be reached within {timeout_s:g} s ({reason}); "
            "check MONGO_URI and that the server is running"
        ) from None


async def start_client(client: hydrogram.Client, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Start ``client``, or close what it opened and raise :class:`StartError`.

    hydrogram retries an unreachable Telegram for about 20 s (forever once it has a
    session), logging a warning per attempt, and when it gives up leaves its session
    storage open: aiosqlite's thread would keep the process alive. Here the attempts
    are counted instead of logged and the outcome is one error.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    attempts = _ConnectAttempts()
    chatter = logging.getLogger("hydrogram.connection.connection")
    chatter.addFilter(attempts)
    try:
        async with asyncio.timeout(timeout_s):
            await client.start()
    except BaseException as error:
        await _abandon(client)
        if isinstance(error, OSError | TimeoutError):  # ConnectionError is an OSError
            raise StartError(attempts.outcome(loop.time() - started)) from None
        if isinstance(error, RPCError):
            raise StartError(f"Telegram refused to start the bot: {error}") from None
        if isinstance(error, Exception):  # e.g. a proxy answering what is not MTProto
            raise StartError(
                f"Telegram's answer could not be read ({type(error).__name__}: {error}); "
                "is a proxy or a captive portal between this machine and Telegram?"
            ) from None
        raise
    finally:
        chatter.removeFilter(attempts)


class _ConnectAttempts(logging.Filter):
    """Counts hydrogram's "Unable to connect" warnings while the bot starts, and drops them."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = 0
        self.last: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep everything but warnings, which are counted."""
        if record.levelno != logging.WARNING:
            return True
        if record.args and str(record.msg).startswith("Unable to connect"):
            self.failed += 1
            self.last = str(record.args[0] if isinstance(record.args, tuple) else record.args)
        return False

    def outcome(self, elapsed_s: float) -> str:
        """The line that tells why the start failed."""
        advice = "check the network, a firewall or a proxy"
        if not self.failed:
            return f"Telegram did not answer within {elapsed_s:.2g} s; {advice}"
        attempts = "1 connection attempt" if self.failed == 1 else f"{self.failed} attempts"
        return (
            f"Telegram could not be reached: {attempts} failed in {elapsed_s:.2g} s "
            f"(last: {self.last}); {advice}"
        )


async def _abandon(client: hydrogram.Client) -> None:
    """Stop what a failed start left running: the session's tasks and the storage."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            session = getattr(client, "session", None)  # set once connect() got that far
            if session is not None:
                with contextlib.suppress(Exception):
                    await session.stop()
            await client.storage.close()
