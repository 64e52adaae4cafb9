"""Prometheus metrics of one bot process, served on ``METRICS_PORT``.

Counted as they happen, through the hooks of :class:`bot.app.Instruments`:

- ``broadcast_messages_sent_total``: recipients who got a message, counted when
  the ledger records it (a repeat Telegram refused as a duplicate counts: it was
  delivered);
- ``broadcast_messages_failed_total{category}``: recipients who did not, by error
  category (``blocked``, ``deactivated``, ``invalid``, ``forbidden``, ``content``,
  ``transient``, ``unknown``);
- ``broadcast_flood_waits_total`` and ``broadcast_flood_wait_seconds_total``: the
  FloodWaits Telegram answered and the seconds they asked for;
- ``broadcast_db_outages_total``: outages a broadcast run met (each run counts the
  outages it waits out), and ``broadcast_db_outage``: 1 while a run waits for it.

Read at every scrape (:class:`StateCollector`):

- ``broadcast_rate`` and ``broadcast_rate_target``: the limiter's current rate and
  the configured one, in messages per second (lower after a FloodWait);
- ``broadcast_queue_length``: broadcasts waiting for the one sending now;
- ``broadcast_sending``: 1 while a broadcast is being sent here;
- ``broadcast_leader``: 1 while this instance leads (sends and runs the scheduler).

Plus the client library's ``process_*``, ``python_gc_*`` and ``python_info``.
The registry is the instance's own, so two bots in one process do not collide.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.delivery.errors import ErrorCategory
from bot.delivery.limiter import RateLimiter
from bot.delivery.model import DeliveryStatus, Outcome, Tally
from bot.delivery.ports import DeliveryLedger

if TYPE_CHECKING:
    from threading import Thread
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.metrics_core import Metric


class QueueView(Protocol):
    """What the metrics read of the send queue (:class:`bot.admin.queue.BroadcastQueue`)."""

    @property
    def current(self) -> str | None:
        """The broadcast being sent now."""

    @property
    def waiting(self) -> list[str]:
        """The broadcasts waiting, in order."""


@dataclass(slots=True)
class Sources:
    """What :class:`StateCollector` reads at each scrape.

    Read from the HTTP server's thread while the event loop runs: each read is one
    attribute or a list copy, which the interpreter does atomically.
    """

    limiter: RateLimiter
    queue: QueueView
    leading: Callable[[], bool]


class StateCollector(Collector):
    """The gauges read at scrape time; none before :meth:`Metrics.watch` gave sources."""

    def __init__(self) -> None:
        self.sources: Sources | None = None

    def describe(self) -> Iterable[Metric]:
        """The metric names this collector yields (checked for clashes on registration)."""
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        """The current values."""
        return self._families(self.sources) if self.sources is not None else []

    @staticmethod
    def _families(sources: Sources | None) -> list[Metric]:
        names = {
            "broadcast_rate": "The send rate the limiter allows now, messages per second",
            "broadcast_rate_target": "The configured send rate, messages per second",
            "broadcast_queue_length": "Broadcasts waiting for the one being sent",
            "broadcast_sending": "1 while a broadcast is being sent by this instance",
            "broadcast_leader": "1 while this instance leads: sends and runs the scheduler",
        }
        families = {name: GaugeMetricFamily(name, text) for name, text in names.items()}
        if sources is not None:
            current = sources.queue.current
            # The queue's waiting list is as last read: it may still hold the one sending.
            waiting = [bid for bid in sources.queue.waiting if bid != current]
            values = {
                "broadcast_rate": sources.limiter.rate,
                "broadcast_rate_target": sources.limiter.target,
                "broadcast_queue_length": len(waiting),
                "broadcast_sending": current is not None,
                "broadcast_leader": sources.leading(),
            }
            for name, value in values.items():
                families[name].add_metric([], float(value))
        return list(families.values())


class Metrics:
    """The metrics of one bot (see the module docstring); implements :class:`bot.app.Instruments`.

    Args:
        registry: Where they are registered; a new registry by default.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.sent = Counter("broadcast_messages_sent", "Recipients who got a message", registry=r)
        self.failed = Counter(
            "broadcast_messages_failed",
            "Recipients who did not get a message, by error category",
            ["category"],
            registry=r,
        )
        for category in ErrorCategory:  # every category shows, 0 until it happens
            self.failed.labels(category.value)
        self.flood_waits = Counter("broadcast_flood_waits", "FloodWaits from Telegram", registry=r)
        self.flood_wait_seconds = Counter(
            "broadcast_flood_wait_seconds", "Seconds Telegram asked senders to wait", registry=r
        )
        self.db_outages = Counter(
            "broadcast_db_outages", "Database outages a broadcast run met", registry=r
        )
        self.db_outage = Gauge(
            "broadcast_db_outage", "1 while a broadcast run waits for the database", registry=r
        )
        self.state = StateCollector()
        r.register(self.state)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)

    # Instruments -------------------------------------------------------------------------------

    def ledger(self, ledger: DeliveryLedger) -> DeliveryLedger:
        """``ledger``, counting every outcome it settles."""
        return CountingLedger(ledger, self.settled)

    def flood_waited(self, seconds: float) -> None:
        """Count a FloodWait of ``seconds``.

        The seconds first: a scrape between the two (from the server's thread) never
        shows a FloodWait without its seconds.
        """
        self.flood_wait_seconds.inc(max(0.0, seconds))
        self.flood_waits.inc()

    def outage(self, down: bool) -> None:
        """A run started (True) or stopped (False) waiting for the database."""
        if down:
            self.db_outages.inc()
        self.db_outage.set(1 if down else 0)

    # ------------------------------------------------------------------------------------------

    def settled(self, outcomes: Sequence[Outcome]) -> None:
        """Count outcomes the ledger recorded."""
        sent = sum(1 for o in outcomes if o.error is None)
        if sent:
            self.sent.inc(sent)
        for outcome in outcomes:
            if outcome.error is not None:
                self.failed.labels(outcome.error.value).inc()

    def watch(self, limiter: RateLimiter, queue: QueueView, leading: Callable[[], bool]) -> None:
        """Read these at every scrape: the rate, the queue, and whether this instance leads."""
        self.state.sources = Sources(limiter, queue, leading)

    def serve(self, port: int, addr: str = "0.0.0.0") -> MetricsServer:
        """Serve ``/metrics`` on ``addr:port`` from a thread of its own (port 0: any free one).

        Raises:
            OSError: The port cannot be bound.
        """
        server, thread = start_http_server(port, addr, self.registry)
        return MetricsServer(server, thread)


class MetricsServer:
    """The HTTP server of :meth:`Metrics.serve`; :meth:`close` stops it."""

    def __init__(self, server: WSGIServer, thread: Thread) -> None:
        self._server, self._thread = server, thread

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return int(self._server.server_address[1])

    async def close(self) -> None:
        """Stop serving and free the port (waits for the server's poll, up to 0.5 s)."""
        await asyncio.to_thread(self._server.shutdown)
        self._server.server_close()
        await asyncio.to_thread(self._thread.join)


class CountingLedger:
    """A :class:`DeliveryLedger` that reports what it settled, once it is stored.

    An outcome is counted after ``settle`` returned: a settle that failed (the
    database down) is retried by the run and counted when it succeeds, once.
    """

    def __init__(self, inner: DeliveryLedger, settled: Callable[[Sequence[Outcome]], None]) -> None:
        self.inner, self._settled = inner, settled

    async def settle(self, broadcast_id: str, outcomes: Sequence[Outcome]) -> None:
        """Record results of claimed rows, then count them."""
        await self.inner.settle(broadcast_id, outcomes)
        self._settled(outcomes)

    async def add_pending(self, broadcast_id: str, user_ids: Sequence[int], now: datetime) -> int:
        """See :meth:`DeliveryLedger.add_pending`."""
        return await self.inner.add_pending(broadcast_id, user_ids, now)

    async def claim(
        self, broadcast_id: str, user_ids: Sequence[int], now: datetime, token: str
    ) -> list[int]:
        """See :meth:`DeliveryLedger.claim`."""
        return await self.inner.claim(broadcast_id, user_ids, now, token)

    async def release_claim(self, broadcast_id: str, token: str) -> None:
        """See :meth:`DeliveryLedger.release_claim`."""
        await self.inner.release_claim(broadcast_id, token)

    async def release(self, broadcast_id: str, user_ids: Sequence[int]) -> None:
        """See :meth:`DeliveryLedger.release`."""
        await self.inner.release(broadcast_id, user_ids)

    async def pending_page(self, broadcast_id: str, after: int | None, limit: int) -> list[int]:
        """See :meth:`DeliveryLedger.pending_page`."""
        return await self.inner.pending_page(broadcast_id, after, limit)

    async def sent_page(
        self, broadcast_id: str, after: int | None, limit: int, excluding: Sequence[str] = ()
    ) -> tuple[list[int], int | None]:
        """See :meth:`DeliveryLedger.sent_page`."""
        return await self.inner.sent_page(broadcast_id, after, limit, excluding)

    async def retry_in_doubt(self, broadcast_id: str, claimed_since: datetime) -> int:
        """See :meth:`DeliveryLedger.retry_in_doubt`."""
        return await self.inner.retry_in_doubt(broadcast_id, claimed_since)

    async def tally(self, broadcast_id: str) -> Tally:
        """See :meth:`DeliveryLedger.tally`."""
        return await self.inner.tally(broadcast_id)

    async def status_of(self, broadcast_id: str, user_id: int) -> DeliveryStatus | None:
        """See :meth:`DeliveryLedger.status_of`."""
        return await self.inner.status_of(broadcast_id, user_id)
