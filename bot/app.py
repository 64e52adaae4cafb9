"""Composition root: builds the repositories, the pipeline and the service from settings.

Everything that runs broadcasts (the bot, the demo, the benchmarks, the tests)
wires the pieces here, so they all run the same code.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import hydrogram

from bot.delivery.limiter import Clock, RateLimiter
from bot.delivery.outage import OutagePolicy
from bot.delivery.pipeline import Pipeline
from bot.delivery.ports import DeliveryLedger, PipelineConfig, Ports, WallClock
from bot.delivery.service import BroadcastService, TestMode
from bot.delivery.throttle import Throttle
from bot.storage.admins import AdminPreferences
from bot.storage.ledger import MongoDeliveryLedger
from bot.storage.mongo import Database
from bot.storage.reactions import MongoReactionStore
from bot.storage.store import MongoBroadcastStore
from bot.storage.testers import TesterList
from bot.storage.users import MongoUserDirectory
from bot.telegram.operations import OperationSupport
from bot.telegram.reactions import ReactionData
from bot.telegram.sender import HydrogramSender
from bot.telegram.serialized import make_storage_safe
from bot.telegram.session import session_storage
from config.settings import ConfigError, Settings
from scheduler.book import ScheduleBook
from segments import SegmentCatalog, index_fields, load_catalog


def utc_now() -> datetime:
    """The current time, timezone-aware, at MongoDB's millisecond precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class Tuning:
    """The knobs of the send path, usually read from :class:`Settings`."""

    rate: float = 25.0
    concurrency: int = 16
    progress_every: int = 100
    users_collection: str = "users"
    test_mode: TestMode = field(default_factory=TestMode)
    segments: SegmentCatalog = field(default_factory=SegmentCatalog)
    in_doubt_window_s: float = 3600.0
    outage_limit_s: float = 600.0
    paid: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Tuning:
        """The tuning that ``settings`` configure; reads ``SEGMENTS_FILE``.

        Raises:
            SegmentFileError: The segments file is missing or invalid.
        """
        path = Path(settings.segments_file) if settings.segments_file else None
        catalog = load_catalog(
            path, admin_ids=settings.admin_ids, require_terms=settings.require_terms
        )
        return cls(
            rate=settings.rate_limit,
            concurrency=settings.concurrency,
            progress_every=settings.progress_interval,
            users_collection=settings.users_collection,
            test_mode=TestMode(settings.test_mode, settings.test_users),
            segments=catalog,
            in_doubt_window_s=settings.in_doubt_retry_window_s,
            outage_limit_s=settings.db_outage_limit_s,
            paid=settings.paid_broadcast,
        )


class Instruments(Protocol):
    """What observes the send path, e.g. :class:`bot.ops.metrics.Metrics`."""

    def ledger(self, ledger: DeliveryLedger) -> DeliveryLedger:
        """The ledger the pipeline uses, wrapping ``ledger`` (to count what it settles)."""

    def flood_waited(self, seconds: float) -> None:
        """Telegram asked every sender to wait ``seconds``."""

    def outage(self, down: bool) -> None:
        """A run started (True) or stopped (False) waiting out an unreachable database."""


@dataclass(frozen=True, slots=True)
class Core:
    """The wired broadcast machinery of one process."""

    store: MongoBroadcastStore
    ledger: MongoDeliveryLedger
    users: MongoUserDirectory
    throttle: Throttle
    pipeline: Pipeline
    service: BroadcastService
    segments: SegmentCatalog
    schedules: ScheduleBook
    admins: AdminPreferences
    reactions: MongoReactionStore
    testers: TesterList

    async def ensure_indexes(self, *, unique_user_ids: bool = False) -> None:
        """Create every index the queries need (idempotent), the segments' included.

        ``unique_user_ids``: the bot records users itself (a host bot's collection
        is left as it is).
        """
        await self.store.ensure_indexes()
        await self.ledger.ensure_indexes()
        await self.reactions.ensure_indexes()
        fields = index_fields(self.segments.fields)
        await self.users.ensure_indexes(fields, unique_ids=unique_user_ids)


def build_core(
    db: Database,
    client: hydrogram.Client,
    tuning: Tuning,
    *,
    clock: Clock = time.monotonic,
    wall_clock: WallClock = utc_now,
    config: PipelineConfig | None = None,
    instruments: Instruments | None = None,
    reaction_data: ReactionData | None = None,
) -> Core:
    """Wire the broadcast machinery over ``db`` and a hydrogram ``client``.

    The client must have been created with ``sleep_threshold=0``. ``instruments``
    observe the pipeline's ledger, FloodWaits and database outages (metrics).
    ``reaction_data`` writes the callback data of reaction buttons (the admin bot's,
    which answers them); without it a broadcast with reactions is refused.
    """
    store = MongoBroadcastStore(db)
    ledger = MongoDeliveryLedger(db)
    catalog = tuning.segments
    users = MongoUserDirectory(db, tuning.users_collection, catalog.fields)
    on_flood_wait = instruments.flood_waited if instruments else None
    throttle = Throttle(RateLimiter(tuning.rate), clock, on_flood_wait)

    def compile_target(target: dict[str, Any], now: datetime) -> dict[str, Any]:
        return catalog.compile(target["segments"], target.get("excludes", ()), now)

    make_storage_safe(client)  # hydrogram's default SQLiteStorage fails under concurrent sends
    sender = HydrogramSender(
        client, paid=tuning.paid, profiles=users.profiles, reaction_data=reaction_data
    )
    sender.operations = OperationSupport(ledger.sent_copies, wall_clock)
    observed = instruments.ledger(ledger) if instruments else ledger
    ports = Ports(
        store, observed, users, sender, throttle, clock, wall_clock, compile_target=compile_target
    )
    config = config or PipelineConfig(
        concurrency=tuning.concurrency,
        progress_every=tuning.progress_every,
        in_doubt_window_s=tuning.in_doubt_window_s,
        outage=OutagePolicy(limit_s=tuning.outage_limit_s),
    )
    if instruments is not None:
        config = replace(config, outage=replace(config.outage, observe=instruments.outage))
    pipeline = Pipeline(ports, config)
    service = BroadcastService(store, pipeline, wall_clock, tuning.test_mode)
    schedules = ScheduleBook(store, service)
    admins = AdminPreferences(db)
    reactions, testers = MongoReactionStore(db), TesterList(db)
    return Core(
        store,
        ledger,
        users,
        throttle,
        pipeline,
        service,
        catalog,
        schedules,
        admins,
        reactions,
        testers,
    )


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured database over PyMongo's ``AsyncMongoClient``, closed on exit.

    Host bots that already hold a motor or PyMongo database pass it to
    :func:`build_core` directly instead; this opens and owns a client.
    """
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_uri, tz_aware=True, appname="broadcast-manager"
    )
    try:
        yield client[settings.mongo_db]
    finally:
        await client.close()


def broadcast_client(
    settings: Settings, db: Database, name: str = "broadcast_manager"
) -> hydrogram.Client:
    """The hydrogram bot client, set up for broadcasting.

    ``sleep_threshold=0``: hydrogram must never sleep through a FloodWait on its
    own, or the pipeline's limiter would not see it. Its session storage is ours
    (:mod:`bot.telegram.session`): safe under concurrent sends, peers served from
    memory and kept in MongoDB for every instance; the session itself (the auth key,
    a credential) in ``SESSION_DIR`` or, with ``SESSION_STORE=mongo``, in MongoDB,
    seeded from ``SESSION_STRING`` when given. Call inside the running loop.
    """
    missing = settings.missing_credentials()
    if missing:
        raise ConfigError(
            *(f"{name_}: required to run the bot; try `python -m bot demo`" for name_ in missing)
        )
    if settings.session_store == "file":
        Path(settings.session_dir).mkdir(parents=True, exist_ok=True)
    storage = session_storage(
        name,
        db,
        store=settings.session_store,  # type: ignore[arg-type]  # validated: file | mongo
        session_dir=settings.session_dir,
        session_string=settings.session_string,
    )
    # No session_string= here: with it hydrogram would ignore the storage engine.
    return hydrogram.Client(
        name,
        api_id=settings.api_id,
        api_hash=settings.api_hash,
        bot_token=settings.bot_token,
        session_storage_engine=storage,
        sleep_threshold=0,
    )
