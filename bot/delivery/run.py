"""One run of one broadcast: snapshot, claim, send, settle, report.

Tasks of a run:
- the *feed* (:mod:`bot.delivery.feed`) produces candidates: pending rows left by an
  earlier run, the audience snapshot, then sweeps of the ledger;
- the *dispatcher* (``execute``'s loop) settles finished sends and claims new
  recipients in batches, never holding more than ``concurrency`` claimed rows
  (so a crash leaves at most that many in doubt);
- the *workers* take claimed recipients, wait on the shared throttle, send,
  retry transient failures and put FloodWait victims back at the front;
- the *watcher* reads the broadcast's status so pause and cancel act within
  ``control_poll_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.delivery.errors import ErrorCategory, FloodWaitError, SendError, classify_exception
from bot.delivery.feed import AudienceFeed
from bot.delivery.model import ACTIVE, BroadcastStatus, Outcome
from bot.delivery.policy import Counters, ProgressGate, ProgressSnapshot, snapshot
from bot.delivery.progress import ProgressReporter
from bot.delivery.report import Summary

if TYPE_CHECKING:
    from bot.delivery.ports import PipelineConfig, Ports, PreparedMessage, ProgressCallback

log = logging.getLogger(__name__)

CANCELLED = "cancelled by an admin"


class BroadcastRun:
    """State and tasks of one run; use :meth:`Pipeline.run`."""

    def __init__(
        self,
        ports: Ports,
        config: PipelineConfig,
        broadcast_id: str,
        progress: ProgressCallback | None,
    ) -> None:
        self.p, self.cfg, self.bid = ports, config, broadcast_id
        self.counters = Counters()
        self.wake = asyncio.Event()
        self.feed = AudienceFeed(ports, broadcast_id, config.snapshot_batch, self.wake)
        self.ready: deque[int] = deque()
        self.outcomes: list[Outcome] = []
        self.outstanding = 0
        self.in_flight = 0
        self.flood_waits = 0
        self.unknown = 0
        self.closing = False
        self.done_before = 0
        self.paused = False
        self.stop_reason: str | None = None
        self.work = asyncio.Event()
        self.flush_batch = max(1, config.concurrency // 4)
        self.run_started = ports.clock()
        self.reporter = ProgressReporter(
            broadcast_id,
            progress,
            self._snapshot_now,
            ports.store,
            ProgressGate(config.progress_every, config.progress_min_interval_s),
            ports.clock,
            ports.sleep,
        )

    async def execute(self) -> Summary:
        """Run to the end and return the stored summary."""
        doc = await self.p.store.get(self.bid)
        await self._restore(doc)
        prepared = await self._prepare(doc)
        helpers: list[asyncio.Task[None]] = []
        workers: list[asyncio.Task[None]] = []
        try:
            if prepared is not None:
                self.paused = doc.get("status") == BroadcastStatus.PAUSED.value
                feed = asyncio.create_task(self.feed.produce(doc), name=f"{self.bid}:feed")
                feed.add_done_callback(self._feed_ended)
                helpers = [feed, asyncio.create_task(self._watch(), name=f"{self.bid}:watcher")]
                workers = [
                    asyncio.create_task(self._worker(prepared), name=f"{self.bid}:worker")
                    for _ in range(self.cfg.concurrency)
                ]
                await self._dispatch()
            await self._stop_workers(workers)
            return await self._finish(doc)
        finally:  # on a crash (cancellation) too: nothing of this run may linger
            for task in [*helpers, *workers]:
                task.cancel()
            self.reporter.cancel()

    def _feed_ended(self, feed: asyncio.Task[None]) -> None:
        if not feed.cancelled() and feed.exception() is not None:
            log.error("reading the audience of %s failed", self.bid, exc_info=feed.exception())
            self._stop(f"the audience could not be read: {feed.exception()}")

    async def _restore(self, doc: dict[str, Any]) -> None:
        """Pick up the counts of earlier runs of this broadcast from the ledger."""
        if not doc.get("snapshot_started"):
            return  # a first run: the ledger holds nothing yet
        tally = await self.p.ledger.tally(self.bid)
        self.counters.sent, self.counters.failed = tally.sent, tally.failed
        self.counters.errors = dict(tally.errors)
        self.done_before = self.counters.done
        self.unknown = tally.sending  # claimed by a run that crashed: in doubt, never resent
        self.feed.total = tally.total

    async def _prepare(self, doc: dict[str, Any]) -> PreparedMessage | None:
        from bot.delivery.content import content_from_document

        try:
            return await self.p.sender.prepare(content_from_document(doc["content"]))
        except Exception as error:  # the content cannot go out: stop before any send
            self.stop_reason = f"content rejected before sending: {error}"
            return None

    # dispatcher -----------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self.stop_reason:
            await self._flush()
            if not self.paused:
                await self._claim()
            if self._finished():
                return
            self.reporter.maybe(self.counters.done)
            self.wake.clear()
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.cfg.flush_interval_s):
                    await self.wake.wait()

    def _finished(self) -> bool:
        idle = not (self.feed.candidates or self.ready or self.outcomes or self.outstanding)
        if idle:
            self.feed.drained()
        return idle and self.feed.exhausted

    async def _claim(self) -> None:
        free = self.cfg.concurrency - self.outstanding
        if free < max(1, self.cfg.concurrency // 2) and (self.ready or self.in_flight):
            return  # claim in batches, not one round trip per recipient
        while free > 0 and self.feed.candidates:
            take = self.feed.take(free)
            claimed = await self.p.ledger.claim(self.bid, take, self.p.wall_clock())
            self.outstanding += len(claimed)
            self.ready.extend(claimed)
            free -= len(claimed)
        if self.ready:
            self.work.set()

    async def _flush(self) -> None:
        if not self.outcomes:
            return
        batch, self.outcomes = self.outcomes, []
        await self.p.ledger.settle(self.bid, batch)
        self.outstanding -= len(batch)
        blocked = [o.user_id for o in batch if o.error is ErrorCategory.BLOCKED]
        gone = [o.user_id for o in batch if o.error is ErrorCategory.DEACTIVATED]
        if blocked or gone:
            await self.p.users.mark_unreachable(blocked, gone, self.p.wall_clock())

    # workers --------------------------------------------------------------------------------

    async def _worker(self, prepared: PreparedMessage) -> None:
        while (user_id := await self._next()) is not None:
            self.in_flight += 1
            try:
                outcome = await self._deliver(prepared, user_id)
            finally:
                self.in_flight -= 1
            if outcome is not None:
                self._record(outcome)
            if len(self.outcomes) >= self.flush_batch or not self.ready:
                self.wake.set()  # else the dispatcher's timer picks the outcomes up

    async def _next(self) -> int | None:
        while not (self.stop_reason or self.closing):
            if self.ready and not self.paused:
                return self.ready.popleft()
            self.work.clear()
            await self.work.wait()
        return None

    async def _deliver(self, prepared: PreparedMessage, user_id: int) -> Outcome | None:
        """Send with retries; None when the recipient went back to the queue."""
        attempt = 0
        while True:
            await self.p.throttle.acquire()
            if self.stop_reason or self.closing or self.paused:
                self.ready.appendleft(user_id)  # never started: keep it claimed for later
                return None
            attempt += 1
            try:
                message_id = await prepared.send(user_id)
            except FloodWaitError as flood:
                self.flood_waits += 1
                self.p.throttle.flood_wait(flood.seconds)
                self.ready.appendleft(user_id)
                return None
            except SendError as error:
                category, code = error.category, error.code
            except Exception as error:  # one recipient must never stop the broadcast
                category, code = classify_exception(error), f"{type(error).__name__}: {error}"
            else:
                return Outcome(user_id, attempt, message_id=message_id, at=self.p.wall_clock())
            delay = self.cfg.retry.delay_before(attempt, category)
            if delay is None:
                return Outcome(
                    user_id, attempt, error=category, error_code=code[:200], at=self.p.wall_clock()
                )
            await self.p.sleep(delay)

    def _record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.counters.record(outcome.error)
        content = self.counters.errors.get(ErrorCategory.CONTENT.value, 0)
        if outcome.error is ErrorCategory.CONTENT and self.cfg.guard.should_stop(
            content, self.counters.sent
        ):
            self._stop(f"Telegram rejected the content ({outcome.error_code})")

    def _stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.work.set()
        self.wake.set()

    # control and progress -------------------------------------------------------------------

    async def _watch(self) -> None:
        while not self.stop_reason:
            await self.p.sleep(self.cfg.control_poll_s)
            status = await self.p.store.status(self.bid)
            if status is BroadcastStatus.CANCELLED:
                self._stop(CANCELLED)
            elif (status is BroadcastStatus.PAUSED) != self.paused:
                self.paused = status is BroadcastStatus.PAUSED
                self.work.set()
                self.wake.set()
                self.reporter.now()

    def _snapshot_now(self) -> ProgressSnapshot:
        now = self.p.clock()
        return snapshot(
            self.bid,
            self.counters,
            total=self.feed.total,
            total_known=self.feed.total_known,
            unknown=self.unknown,
            elapsed_s=now - self.run_started,
            run_done=self.counters.done - self.done_before,
            run_elapsed_s=now - self.run_started,
            paused=self.paused,
        )

    # the end --------------------------------------------------------------------------------

    async def _stop_workers(self, workers: list[asyncio.Task[None]]) -> None:
        self.closing = True
        self.work.set()
        await asyncio.gather(*workers, return_exceptions=True)
        await self._flush()
        if self.ready:  # claimed, never sent: back to pending for a later run
            await self.p.ledger.release(self.bid, list(self.ready))
            self.outstanding -= len(self.ready)
            self.ready.clear()
        await self.reporter.close()

    async def _finish(self, doc: dict[str, Any]) -> Summary:
        """Store and return the summary.

        The counts need no scan of the ledger: earlier runs' counts were read
        at the start, every outcome of this run has been settled, and claims
        that never went out were released back to pending.
        """
        c = self.counters
        total = self.feed.total
        status = BroadcastStatus.COMPLETED
        if self.stop_reason == CANCELLED:
            status = BroadcastStatus.CANCELLED
        elif self.stop_reason:
            status = BroadcastStatus.FAILED
        now = self.p.wall_clock()
        started = as_utc(doc.get("started_at"))
        summary = Summary(
            broadcast_id=self.bid,
            status=status.value,
            total=total,
            sent=c.sent,
            failed=c.failed,
            unknown=self.unknown,
            not_sent=max(0, total - c.done - self.unknown),
            errors=dict(c.errors),
            flood_waits=self.flood_waits + int(doc.get("flood_waits") or 0),
            started_at=started,
            completed_at=now,
            duration_s=(now - started).total_seconds() if started else 0.0,
            stop_reason=self.stop_reason,
        )
        await self.p.store.transition(
            self.bid,
            ACTIVE | {BroadcastStatus.CANCELLED},
            status,
            at=now,
            fields=summary.to_document(),
            # A cancel was already recorded with who did it; the run records that it stopped.
            action="stopped" if status is BroadcastStatus.CANCELLED else None,
        )
        return summary


def as_utc(value: Any) -> datetime | None:
    """A datetime read back from MongoDB, made timezone-aware (drivers may return naive UTC)."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
