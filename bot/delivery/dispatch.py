"""The sending half of a run: the dispatcher, the workers, and the state they share.

- the *dispatcher* settles finished sends and claims new recipients in batches,
  never holding more than ``concurrency`` claimed rows (so a crash leaves at most
  that many in doubt); recipients Telegram does not know are settled unsent;
- the *workers* take claimed recipients, wait on the shared throttle, send with the
  broadcast's idempotency key, retry transient failures (the same ``random_id``: a
  lost answer cannot deliver twice) and put FloodWait victims back at the front.

Sending stops at once on a pause, a cancel, a stop or an unreachable database: the
throttle lets its waiters go (:meth:`~bot.delivery.throttle.Throttle.interrupt`), so a
FloodWait of minutes does not hold a cancel back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.delivery.errors import (
    ErrorCategory,
    FloodWaitError,
    SendError,
    classify_exception,
    failure_kind,
)
from bot.delivery.events import event
from bot.delivery.feed import AudienceFeed
from bot.delivery.floods import FloodLog
from bot.delivery.lookups import AbandonedError, send_through_outages
from bot.delivery.model import Outcome
from bot.delivery.outage import OutageGuard, OutageTooLongError
from bot.delivery.policy import Counters, PauseClock, ProgressGate, ProgressSnapshot, snapshot
from bot.delivery.progress import ProgressReporter

if TYPE_CHECKING:
    from bot.delivery.ports import PipelineConfig, Ports, PreparedMessage, ProgressCallback

log = logging.getLogger(__name__)

CANCELLED = "cancelled by an admin"
#: Recorded for a recipient Telegram does not know (``users.GetUsers`` did not return it).
NOT_A_USER = "PEER_ID_INVALID (Telegram does not know this user)"


class Dispatch:
    """Claims, sends and settles; :class:`bot.delivery.run.BroadcastRun` adds the lifecycle."""

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
        self.work = asyncio.Event()
        self.db = OutageGuard(config.outage, ports.clock, ports.sleep, self._outage_changed)
        self.flood_log = FloodLog(broadcast_id, ports.store, self.db)
        self.feed = AudienceFeed(ports, broadcast_id, config.snapshot_batch, self.wake, self.db)
        self.ready: deque[int] = deque()
        #: Stopped between attempts after an ambiguous failure: left in doubt, never released.
        self.doubtful: list[int] = []
        self.outcomes: list[Outcome] = []
        self.helpers: list[asyncio.Task[None]] = []
        self.workers: list[asyncio.Task[None]] = []
        self.tasks: list[asyncio.Task[None]] = []  # the run's own (BroadcastRun)
        self.outstanding = self.in_flight = self.flood_waits = self.unknown = self.done_before = 0
        self.closing = self.yielding = False
        self.stop_reason: str | None = None
        self.outage: OutageTooLongError | None = None
        self.claiming: str | None = None  # the token of a claim whose answer is awaited
        #: Why a recipient the prepared message reported is not sent (an operation's refusals).
        self.refusal: Callable[[int], SendError | None] | None = None
        self.flush_batch = max(1, config.concurrency // 4)
        self.run_started = ports.clock()
        self.pauses = PauseClock()  # FloodWaits: not sending time
        self.active_before = self.flood_waited_before = 0.0  # earlier runs' (restored)
        self.flood_waits_before = 0
        self.reporter = ProgressReporter(
            broadcast_id,
            progress,
            self._snapshot_now,
            ports.store,
            ProgressGate(config.progress_every, config.progress_min_interval_s),
            ports.clock,
            ports.sleep,
        )

    @property
    def may_send(self) -> bool:
        """Whether workers may start sends now."""
        return not (self.closing or self.yielding or self.stop_reason or self.db.down)

    # dispatcher -----------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not (self.stop_reason or self.yielding):
            await self._flush()
            await self.flood_log.write()
            if self.may_send:
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
        feed = self.feed
        idle = not (feed.candidates or feed.unknown or self.ready)
        idle = idle and not (self.outcomes or self.outstanding)
        if idle:
            feed.drained()
        return idle and feed.exhausted

    async def _claim(self) -> None:
        if self.feed.unknown:
            await self._settle_unknown()
        free = self.cfg.concurrency - self.outstanding
        if free < max(1, self.cfg.concurrency // 2) and (self.ready or self.in_flight):
            return  # claim in batches, not one round trip per recipient
        while free > 0 and self.feed.candidates:
            claimed = await self._claim_batch(self.feed.take(free))
            self.outstanding += len(claimed)
            self.ready.extend(claimed)
            free -= len(claimed)
        if self.ready:
            self.work.set()

    async def _settle_unknown(self) -> None:
        """Recipients Telegram does not know, or the message refuses: claimed and recorded as
        failed, never sent."""
        claimed = await self._claim_batch(self.feed.take_unknown())
        self.outstanding += len(claimed)
        at = self.p.wall_clock()
        for uid in claimed:
            refused = self.refusal(uid) if self.refusal is not None else None
            category, code = (
                (ErrorCategory.INVALID, NOT_A_USER)
                if refused is None
                else (refused.category, refused.code)
            )
            self._record(Outcome(uid, 0, error=category, error_code=code, at=at))

    async def _claim_batch(self, user_ids: list[int]) -> list[int]:
        """Claim under a token of this batch: a retry after a lost answer finds its rows, and
        a stop during the claim gives back whatever it claimed (:meth:`_give_back`)."""
        self.claiming = token = secrets.token_hex(8)
        claim = partial(self.p.ledger.claim, self.bid, user_ids, self.p.wall_clock(), token)
        claimed = await self.db(claim)
        self.claiming = None
        return claimed

    async def _flush(self) -> None:
        if not self.outcomes:
            return
        batch, self.outcomes = self.outcomes, []
        try:
            await self.db(partial(self.p.ledger.settle, self.bid, batch))
        except BaseException:
            self.outcomes[:0] = batch  # not recorded: kept for the next flush
            raise
        self.outstanding -= len(batch)
        blocked = [o.user_id for o in batch if o.error is ErrorCategory.BLOCKED]
        gone = [o.user_id for o in batch if o.error is ErrorCategory.DEACTIVATED]
        if blocked or gone:
            at = self.p.wall_clock()
            await self.db(partial(self.p.users.mark_unreachable, blocked, gone, at))

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
        while not (self.closing or self.stop_reason or self.yielding):
            if self.ready and self.may_send:
                return self.ready.popleft()
            self.work.clear()
            await self.work.wait()
        return None

    async def _deliver(self, prepared: PreparedMessage, user_id: int) -> Outcome | None:
        """Send with retries; None when the recipient went back to the queue."""
        attempt = 0
        while True:
            if not await self.p.throttle.acquire() or not self.may_send:
                self._put_back(user_id, tried=attempt > 0)
                return None
            attempt += 1
            try:
                receipt = await send_through_outages(
                    prepared, user_id, self.bid, self.db, self._stopping, self._outage_too_long
                )
            except AbandonedError:  # the run stops while this attempt waited for the database
                self._put_back(user_id, tried=attempt > 1)
                return None
            except FloodWaitError as flood:
                self.flood_waits += 1
                self.flood_log.add(self.p.wall_clock(), flood.seconds)
                self.pauses.add(self.p.clock(), flood.seconds)
                self.p.throttle.flood_wait(flood.seconds)
                self.reporter.now()  # the admin sees the wait and how long
                rate = self.p.throttle.limiter.rate  # lowered by the FloodWait
                waited = event("flood_wait", self.bid, seconds=flood.seconds, rate=rate)
                log.warning("%s: FloodWait of %g s", self.bid, flood.seconds, extra=waited)
                self.ready.appendleft(user_id)
                return None
            except SendError as error:
                category, code = error.category, error.code
            except Exception as error:  # one recipient must never stop the broadcast
                category, code = classify_exception(error), f"{type(error).__name__}: {error}"
            else:
                at = self.p.wall_clock()
                return Outcome(
                    user_id, attempt, receipt.message_ids, at=at, duplicate=receipt.duplicate
                )
            finally:
                self.p.throttle.answered()
            delay = self.cfg.retry.delay_before(attempt, category)
            if delay is None:
                at = self.p.wall_clock()
                return Outcome(user_id, attempt, error=category, error_code=code[:200], at=at)
            await self._rest(delay)

    def _put_back(self, user_id: int, *, tried: bool) -> None:
        """A recipient this worker gives up for now; ``tried``: an earlier attempt went out."""
        if tried and self._stopping():  # it may have arrived (answer lost): left in doubt
            self.doubtful.append(user_id)
        else:  # never sent, or only waiting for the database: try it again later
            self.ready.appendleft(user_id)

    def _stopping(self) -> bool:
        return self.closing or self.yielding or self.stop_reason is not None

    def _outage_too_long(self, error: OutageTooLongError) -> None:
        self.outage = error
        self._stop(failure_kind(error))

    async def _rest(self, seconds: float) -> None:
        """Sleep before a retry, but not past a stop, pause or cancel."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while self.may_send:
                    self.work.clear()
                    await self.work.wait()

    def _record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.counters.record(outcome.error)
        content = self.counters.errors.get(ErrorCategory.CONTENT.value, 0)
        if outcome.error is ErrorCategory.CONTENT and self.cfg.guard.should_stop(
            content, self.counters.sent
        ):
            self._stop(f"Telegram rejected the content ({outcome.error_code})")

    # control --------------------------------------------------------------------------------

    def _stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            level = logging.INFO if reason == CANCELLED else logging.WARNING
            stopping = event("run.stopping", self.bid, reason=reason)
            log.log(level, "%s: run stopping: %s", self.bid, reason, extra=stopping)
        self._halt()

    def _yield(self) -> None:
        """Paused: give the sender up; the broadcast continues from the ledger on Resume."""
        self.yielding = True
        self._halt()
        self.reporter.now()

    def _halt(self) -> None:
        self.p.throttle.interrupt()
        self.work.set()
        self.wake.set()

    def _outage_changed(self) -> None:
        if self.db.down:
            self.p.throttle.interrupt()
            down = event("db.outage_started", self.bid, error=self.db.last_error)
            log.warning("%s: the database is unreachable; sending waits", self.bid, extra=down)
        else:
            up = event("db.outage_ended", self.bid, down_s=self.db.last_outage_s)
            log.info("%s: the database is back; sending goes on", self.bid, extra=up)
        self.work.set()
        self.wake.set()
        self.reporter.now()

    def active_s(self, now: float) -> float:
        """This run's sending time: since it started, FloodWaits left out."""
        return max(0.0, now - self.run_started - self.pauses.waited(now))

    def totals(self) -> tuple[int, bool]:
        """The audience's size as far as it is known, and whether it is to be trusted.

        While the snapshot is written, the count made when sending started (the
        percentage measures against it, not against what was written so far);
        afterwards the recipients the snapshot wrote, plus those skipped.
        """
        written = self.feed.total + self.feed.skipped.count
        if self.feed.total_known or self.feed.expected is None:
            return written, self.feed.total_known
        return max(written, self.feed.expected), True

    def _snapshot_now(self) -> ProgressSnapshot:
        now = self.p.clock()
        down_since = None
        if self.db.down_since is not None:
            down_since = self.p.wall_clock() - timedelta(seconds=now - self.db.down_since)
        total, known = self.totals()
        run_active = self.active_s(now)
        return snapshot(
            self.bid,
            self.counters,
            total=total,
            total_known=known,
            unknown=self.unknown,
            skipped=self.feed.skipped.count,
            elapsed_s=self.active_before + run_active,
            run_done=self.counters.done - self.done_before,
            run_elapsed_s=run_active,
            paused=self.yielding,
            db_down_since=down_since,
            flood_wait_s=self.pauses.left(now),
            flood_waited_s=self.flood_waited_before + self.pauses.waited(now),
        )
