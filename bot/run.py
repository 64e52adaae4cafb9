"""One run of one broadcast: snapshot, claim, send, settle, report.

Tasks of a run:
- the *producer* streams candidates: pending rows left by an earlier run, then
  the audience (written to the ledger as pending first), then sweeps the
  ledger for pending rows until a sweep finds none;
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
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.errors import ErrorCategory, FloodWaitError, SendError, classify_exception
from bot.ledger import Outcome
from bot.policy import Counters, ProgressGate, ProgressSnapshot, snapshot
from bot.report import Summary
from bot.store import ACTIVE, BroadcastStatus

if TYPE_CHECKING:
    from bot.pipeline import PipelineConfig, Ports, PreparedMessage, ProgressCallback

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
        self.p, self.cfg, self.bid, self.progress = ports, config, broadcast_id, progress
        self.counters = Counters()
        self.gate = ProgressGate(config.progress_every, config.progress_min_interval_s)
        self.ready: deque[int] = deque()
        self.candidates: deque[int] = deque()
        self.outcomes: list[Outcome] = []
        self.outstanding = 0
        self.in_flight = 0
        self.flood_waits = 0
        self.total = 0
        self.total_known = False
        self.unknown = 0
        self.source_done = False
        self.exhausted = False
        self.closing = False
        self.done_before = 0
        self.paused = False
        self.stop_reason: str | None = None
        self.wake = asyncio.Event()
        self.work = asyncio.Event()
        self.drained = asyncio.Event()
        self.want_more = asyncio.Event()
        self.run_started = ports.clock()
        self.reporting: asyncio.Task[None] | None = None

    async def execute(self) -> Summary:
        """Run to the end and return the stored summary."""
        doc = await self.p.store.get(self.bid)
        await self._restore(doc)
        prepared = await self._prepare(doc)
        tasks = [asyncio.create_task(self._produce(doc), name=f"{self.bid}:producer")]
        if prepared is not None:
            tasks += [
                asyncio.create_task(self._worker(prepared), name=f"{self.bid}:worker")
                for _ in range(self.cfg.concurrency)
            ]
            tasks.append(asyncio.create_task(self._watch(), name=f"{self.bid}:watcher"))
        try:
            if prepared is not None:
                await self._dispatch()
            await self._stop_workers(tasks)
            return await self._finish(doc)
        finally:
            for task in tasks:
                task.cancel()
            if self.reporting is not None:
                self.reporting.cancel()

    async def _restore(self, doc: dict[str, Any]) -> None:
        tally = await self.p.ledger.tally(self.bid)
        self.counters.sent, self.counters.failed = tally.sent, tally.failed
        self.counters.errors = dict(tally.errors)
        self.done_before = self.counters.done
        self.unknown = tally.sending  # claimed by a run that crashed: in doubt, never resent
        self.total = tally.total
        self.total_known = bool(doc.get("snapshot_complete"))

    async def _prepare(self, doc: dict[str, Any]) -> PreparedMessage | None:
        from bot.content import content_from_document

        try:
            return await self.p.sender.prepare(content_from_document(doc["content"]))
        except Exception as error:  # the content cannot go out: stop before any send
            self.stop_reason = f"content rejected before sending: {error}"
            return None

    # producer -------------------------------------------------------------------------------

    async def _produce(self, doc: dict[str, Any]) -> None:
        batch = self.cfg.snapshot_batch
        if doc.get("snapshot_started"):
            async for ids in self.p.ledger.pending(self.bid, batch):
                await self._offer(ids)
        if not doc.get("snapshot_complete"):
            await self._snapshot(doc["target"], batch)
        while True:  # sweep until a pass over the ledger finds nothing pending
            self.drained.clear()
            self.source_done = True
            self.wake.set()
            await self.drained.wait()
            self.source_done = False
            found = 0
            async for ids in self.p.ledger.pending(self.bid, batch):
                found += len(ids)
                await self._offer(ids)
            if not found:
                self.exhausted = True
                self.wake.set()
                return

    async def _snapshot(self, target: dict[str, Any], batch: int) -> None:
        await self.p.store.update(self.bid, {"snapshot_started": True})
        async for ids in self._audience(target, batch):
            self.total += await self.p.ledger.add_pending(self.bid, ids, self.p.wall_clock())
            await self._offer(ids)
        self.total_known = True
        await self.p.store.update(self.bid, {"snapshot_complete": True, "total_users": self.total})

    async def _audience(self, target: dict[str, Any], batch: int) -> AsyncIterator[list[int]]:
        if "user_ids" in target:
            ids: list[int] = list(dict.fromkeys(target["user_ids"]))
            for start in range(0, len(ids), batch):
                yield ids[start : start + batch]
            return
        async for chunk in self.p.users.stream_ids(target.get("filter", {}), batch):
            yield chunk

    async def _offer(self, ids: list[int]) -> None:
        """Hand candidates to the dispatcher, waiting while it has plenty."""
        while len(self.candidates) >= 2 * self.cfg.snapshot_batch:
            self.want_more.clear()
            await self.want_more.wait()
        self.candidates.extend(ids)
        self.wake.set()

    # dispatcher -----------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self.stop_reason:
            await self._flush()
            if not self.paused:
                await self._claim()
            if self._finished():
                return
            self._maybe_report()
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.cfg.flush_interval_s)

    def _finished(self) -> bool:
        idle = not (self.candidates or self.ready or self.outcomes or self.outstanding)
        if not idle:
            return False
        if self.exhausted:
            return True
        if self.source_done:
            self.drained.set()  # let the producer sweep the ledger once more
        return False

    async def _claim(self) -> None:
        free = self.cfg.concurrency - self.outstanding
        if free < max(1, self.cfg.concurrency // 2) and (self.ready or self.in_flight):
            return  # claim in batches, not one round trip per recipient
        while free > 0 and self.candidates:
            take = [self.candidates.popleft() for _ in range(min(free, len(self.candidates)))]
            claimed = await self.p.ledger.claim(self.bid, take, self.p.wall_clock())
            self.outstanding += len(claimed)
            self.ready.extend(claimed)
            free -= len(claimed)
        self.want_more.set()
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
            self.wake.set()

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
                self._report(force=True)

    def _snapshot_now(self) -> ProgressSnapshot:
        now = self.p.clock()
        return snapshot(
            self.bid,
            self.counters,
            total=self.total,
            total_known=self.total_known,
            unknown=self.unknown,
            elapsed_s=now - self.run_started,
            run_done=self.counters.done - self.done_before,
            run_elapsed_s=now - self.run_started,
            paused=self.paused,
        )

    def _maybe_report(self) -> None:
        if self.gate.due(self.counters.done, self.p.clock()):
            self._report()

    def _report(self, force: bool = False) -> None:
        if self.progress is None or (self.reporting and not self.reporting.done() and not force):
            return
        self.reporting = asyncio.create_task(self._deliver_report(self._snapshot_now()))

    async def _deliver_report(self, snap: ProgressSnapshot) -> None:
        try:
            await self.p.store.update(
                self.bid,
                {
                    "sent_count": snap.sent,
                    "failed_count": snap.failed,
                    "error_breakdown": snap.errors,
                },
            )
            if self.progress is not None:
                await self.progress(snap)
        except Exception:  # a failed progress report must never disturb the broadcast
            log.exception("progress report for %s failed", self.bid)

    # the end --------------------------------------------------------------------------------

    async def _stop_workers(self, tasks: list[asyncio.Task[None]]) -> None:
        self.closing = True
        self.work.set()
        await asyncio.gather(*tasks[1:-1], return_exceptions=True)
        await self._flush()
        if self.ready:  # claimed, never sent: back to pending for a later run
            await self.p.ledger.release(self.bid, list(self.ready))
            self.outstanding -= len(self.ready)
            self.ready.clear()
        if self.reporting is not None:
            with contextlib.suppress(Exception):
                await self.reporting

    async def _finish(self, doc: dict[str, Any]) -> Summary:
        tally = await self.p.ledger.tally(self.bid)
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
            total=tally.total,
            sent=tally.sent,
            failed=tally.failed,
            unknown=tally.sending,
            not_sent=tally.pending,
            errors=dict(tally.errors),
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
        )
        return summary


def as_utc(value: Any) -> datetime | None:
    """A datetime read back from MongoDB, made timezone-aware (drivers may return naive UTC)."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
