"""Leader election over MongoDB, so that one instance at a time runs the job scheduler.

A lease is one document, ``{_id: name, holder, expires_at}``. Its holder renews
it well before it expires; an instance that dies stops renewing and, ``ttl``
later, another takes over. Expiry is judged by each instance's own clock, so
the clocks of the hosts must agree to well within the ttl.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pymongo.errors import DuplicateKeyError

from bot.delivery.events import event
from bot.delivery.model import as_utc
from bot.delivery.tasks import stop_task
from bot.storage.mongo import Collection

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Lease(Protocol):
    """A named, expiring lock that one holder at a time can take."""

    @property
    def ttl(self) -> timedelta:
        """How long a lease lasts after it was taken or renewed."""

    async def acquire(self) -> bool:
        """Take or renew the lease for ``ttl``; False if someone else holds it."""

    async def release(self) -> None:
        """Give the lease up if we hold it, so others can take it at once."""


class MongoLease:
    """A lease stored as one document in a MongoDB collection (pymongo async or motor).

    Args:
        collection: The collection holding leases.
        name: The lease's name, its document ``_id``.
        holder: Who we are, unique per process (e.g. host and pid); kept as ``identity``.
        ttl: How long the lease lasts after each acquire.
        clock: The current time, timezone-aware.
    """

    def __init__(
        self,
        collection: Collection,
        name: str,
        holder: str,
        ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, got {ttl}")
        self.collection, self.name, self.identity = collection, name, holder
        self._ttl, self._clock = ttl, clock

    @property
    def ttl(self) -> timedelta:
        """How long the lease lasts after each acquire."""
        return self._ttl

    async def acquire(self) -> bool:
        """Take the lease if it is free, expired or ours, until now + ttl, atomically.

        Returns:
            True if we hold it now; False if someone else does.
        """
        now = self._now()
        try:
            await self.collection.update_one(
                {
                    "_id": self.name,
                    "$or": [{"holder": self.identity}, {"expires_at": {"$lte": now}}],
                },
                {"$set": {"holder": self.identity, "expires_at": now + self._ttl}},
                upsert=True,
            )
        except DuplicateKeyError:  # the document exists and matched neither: it is someone else's
            return False
        return True

    async def release(self) -> None:
        """Give the lease up if we hold it; does nothing otherwise."""
        await self.collection.delete_one({"_id": self.name, "holder": self.identity})

    async def holder(self) -> str | None:
        """Who holds the lease now, None if nobody (or it expired)."""
        document = await self.collection.find_one({"_id": self.name})
        if document is None:
            return None
        expires_at = as_utc(document.get("expires_at"))
        holder: str = document["holder"]
        return holder if expires_at is not None and expires_at > self._now() else None

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"the lease clock must return aware datetimes, got {now!r}")
        return now.astimezone(UTC)


class Leadership:
    """Keeps trying to take a lease, and tells us when we become or stop being the leader.

    Each attempt must finish within ``renew_every`` seconds or counts as failed.
    A leader keeps leading through failed renewals (a slow or briefly unreachable
    database) until ``ttl - 2 * renew_every`` has passed since its last renewal,
    so it steps down before its lease can expire and another take over; a
    renewal that finds another holder deposes it at once. Callbacks run in the
    renewal task, one at a time (elected, then deposed, ...), and should be quick
    next to the ttl; their errors are logged.

    Args:
        lease: The lease to hold.
        renew_every: Seconds between attempts.
        on_elected: Called when we take the lease.
        on_deposed: Called when we lose it: another holder has it, the database
            failed, or :meth:`stop`.
    """

    def __init__(
        self,
        lease: Lease,
        *,
        renew_every: float,
        on_elected: Callback,
        on_deposed: Callback,
    ) -> None:
        if renew_every <= 0 or lease.ttl.total_seconds() <= 2 * renew_every:
            raise ValueError(
                f"renew_every must be positive and under half the lease ttl "
                f"({lease.ttl.total_seconds()} s), got {renew_every}"
            )
        self.lease, self.renew_every = lease, renew_every
        self._on_elected, self._on_deposed = on_elected, on_deposed
        self._leader = False
        self._renewed_at = float("-inf")  # the loop's clock at the last successful acquire
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """Whether we held the lease at the last attempt."""
        return self._leader

    async def start(self) -> None:
        """Try once now (``on_elected`` has run when this returns, if we won), then keep trying.

        Raises:
            RuntimeError: Already started.
        """
        if self._task is not None:
            raise RuntimeError("leadership is already started")
        await self._attempt()
        self._task = asyncio.create_task(self._renew_forever(), name="leadership")

    async def stop(self) -> None:
        """Stop trying; if we lead, call ``on_deposed`` and then release the lease."""
        await self._cancel()
        if self._leader:
            self._leader = False
            gave_up = event("leadership.released", holder=getattr(self.lease, "identity", None))
            log.info("leadership released", extra=gave_up)
            await self._notify(self._on_deposed)
            try:
                await self.lease.release()
            except Exception:
                log.exception(
                    "could not release the lease; it will expire",
                    extra=event("leadership.release_failed"),
                )

    async def abandon(self) -> None:
        """Stop renewing without a word: what a crash looks like (for tests and demos).

        Neither ``on_deposed`` runs nor is the lease released; others take over
        once it expires.
        """
        await self._cancel()
        self._leader = False

    async def _cancel(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            await self._attempt()

    async def _attempt(self) -> None:
        clock = asyncio.get_running_loop().time
        try:
            async with asyncio.timeout(self.renew_every):
                won = await self.lease.acquire()
        except Exception:
            if self._leader and clock() - self._renewed_at < self._patience:
                log.warning(
                    "could not renew the lease; still ours for a while",
                    exc_info=True,
                    extra=event("leadership.renew_failed"),
                )
                return
            log.warning(
                "could not take or renew the lease",
                exc_info=True,
                extra=event("leadership.attempt_failed"),
            )
            won = False
        if won:
            self._renewed_at = clock()
        if won == self._leader:
            return
        self._leader = won
        holder = getattr(self.lease, "identity", None)
        change = event("leadership.taken" if won else "leadership.lost", holder=holder)
        log.log(
            logging.INFO if won else logging.WARNING,
            "leadership %s",
            "taken" if won else "lost",
            extra=change,
        )
        if not await self._notify(self._on_elected if won else self._on_deposed) and won:
            # A leader that could not start its work must not hold the lease: another
            # instance (or the next attempt here) takes over.
            self._leader = False
            await self._notify(self._on_deposed)
            with contextlib.suppress(Exception):
                await self.lease.release()

    @property
    def _patience(self) -> float:
        """How long after its last renewal a leader may go on without renewing."""
        return self.lease.ttl.total_seconds() - 2 * self.renew_every

    async def _notify(self, callback: Callback) -> bool:
        try:
            await callback()
        except Exception:
            log.exception("leadership callback failed")
            return False
        return True
