"""One run of one broadcast: restore, prepare, snapshot, claim, send, settle, report.

Preparing the message is :mod:`bot.delivery.preparing`.

Tasks of a run:
- the *feed* (:mod:`bot.delivery.feed`) produces candidates: pending rows left by an
  earlier run, the audience snapshot, then sweeps of the ledger;
- the *dispatcher* (:mod:`bot.delivery.dispatch`) settles finished sends and claims new
  recipients in batches; the *workers* send them (same module);
- the *watcher* reads the broadcast's status so pause and cancel act within
  ``control_poll_s``.

How a run ends: completed, cancelled or failed (a summary is stored); paused (it
yields: claims go back to pending and the queue runs something else until Resume);
stopped (the task is cancelled: a deploy, a lost lease: sends on their way get
``stop_grace_s`` to be answered, everything else goes back to pending, and
:class:`asyncio.CancelledError` propagates); or the database unreachable for longer
than the outage limit (:class:`OutageTooLongError`, after the same clean-up). Every
database operation waits out outages (:class:`~bot.delivery.outage.OutageGuard`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.delivery.dispatch import CANCELLED
from bot.delivery.errors import failure_kind
from bot.delivery.events import event
from bot.delivery.model import ACTIVE, BroadcastStatus, as_utc
from bot.delivery.outage import OutageTooLongError
from bot.delivery.ports import Refusing
from bot.delivery.preparing import Preparing
from bot.delivery.report import Summary
from bot.delivery.reruns import closing_fields

if TYPE_CHECKING:
    from bot.delivery.ports import PreparedMessage

log = logging.getLogger(__name__)

#: How a run that yields reports itself: not a final status, nothing stored as final.
PAUSED = "paused"


class BroadcastRun(Preparing):
    """State and tasks of one run; use :meth:`bot.delivery.pipeline.Pipeline.run`."""

    async def execute(self) -> Summary:
        """Run to an end (see the module docstring) and return the summary."""
        doc = await self.db(partial(self.p.store.get, self.bid))
        if doc.get("status") == BroadcastStatus.PAUSED.value:
            return self._summary(doc, PAUSED)  # nothing to send until it is resumed
        if doc.get("status") == BroadcastStatus.CANCELLED.value and not doc.get("completed_at"):
            # Cancelled while no run sent it (paused): only its summary is left to write.
            await self._restore(doc)
            self.stop_reason = CANCELLED
            return await self._finish(doc)
        try:
            await self._restore(doc)
            c, resumed = self.counters, bool(doc.get("snapshot_started"))
            log.info(
                "%s: run started",
                self.bid,
                extra=event(
                    "run.started", self.bid, resumed=resumed,
                    total=self.feed.total if resumed else None,
                    sent_before=c.sent, failed_before=c.failed, in_doubt=self.unknown,
                    concurrency=self.cfg.concurrency, rate=self.p.throttle.limiter.rate,
                ),
            )  # fmt: skip
            prepared = await self._prepare(doc)
            if prepared is not None:
                await self._send_all(doc, prepared)
            await self._wind_down(bounded=False)
        except (asyncio.CancelledError, OutageTooLongError):
            stop = sys.exception()
            log.warning(
                "%s: run stopped; it resumes from the ledger",
                self.bid,
                extra=event(
                    "run.stopped", self.bid, reason=type(stop).__name__, error=str(stop) or None,
                    sent=self.counters.sent, failed=self.counters.failed, in_flight=self.in_flight,
                ),
            )  # fmt: skip
            await self._wind_down(bounded=True)
            raise
        finally:  # nothing of this run may linger
            for task in self.tasks:
                task.cancel()
            self.reporter.cancel()
        if self.yielding:
            c = self.counters
            paused = event("run.paused", self.bid, sent=c.sent, failed=c.failed)
            log.info("%s: paused; the sender goes to the next one", self.bid, extra=paused)
            return self._summary(doc, PAUSED)
        return await self._finish(doc)

    async def _restore(self, doc: dict[str, Any]) -> None:
        """Pick up earlier runs' counts; send again what a stop left in doubt."""
        if not doc.get("snapshot_started"):
            return  # a first run: the ledger holds nothing yet
        window = self.cfg.in_doubt_window_s
        if window > 0:
            since = self.p.wall_clock() - timedelta(seconds=window)
            again = await self.db(partial(self.p.ledger.retry_in_doubt, self.bid, since))
            if again:
                retried = event("run.in_doubt_retried", self.bid, count=again)
                log.info("%s: %d in doubt are sent again", self.bid, again, extra=retried)
        tally = await self.db(partial(self.p.ledger.tally, self.bid))
        self.counters.sent, self.counters.failed = tally.sent, tally.failed
        self.counters.errors = dict(tally.errors)
        self.done_before = self.counters.done
        self.unknown = tally.sending  # in doubt beyond the window: never resent
        self.feed.total = tally.total
        self.active_before = float(doc.get("active_seconds") or 0.0)
        self.flood_waited_before = float(doc.get("flood_wait_seconds") or 0.0)
        self.flood_waits_before = int(doc.get("flood_waits") or 0)

    async def _send_all(self, doc: dict[str, Any], prepared: PreparedMessage) -> None:
        self.feed.resolve = prepared.resolve
        if isinstance(prepared, Refusing):
            self.refusal = prepared.refusal
        feed = asyncio.create_task(self.feed.produce(doc), name=f"{self.bid}:feed")
        feed.add_done_callback(self._helper_ended)
        watcher = asyncio.create_task(self._watch(), name=f"{self.bid}:watcher")
        watcher.add_done_callback(self._helper_ended)
        self.helpers = [feed, watcher]
        self.workers = [
            asyncio.create_task(self._worker(prepared), name=f"{self.bid}:worker")
            for _ in range(self.cfg.concurrency)
        ]
        self.tasks = [*self.helpers, *self.workers]
        self.reporter.now()  # the admin sees it start (and its Pause button) at once
        await self._dispatch()
        if self.outage is not None:
            raise self.outage

    def _helper_ended(self, task: asyncio.Task[None]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is None:
            return
        if isinstance(error, OutageTooLongError):
            self.outage = error
            self._stop(failure_kind(error))  # its text is logged as the run stops
            return
        failed = event("run.task_failed", self.bid, task=task.get_name())
        log.error("%s of %s failed", task.get_name(), self.bid, exc_info=error, extra=failed)
        # The admin sees a category; the exception's text stays in the log with the traceback.
        what = "the audience" if task.get_name().endswith(":feed") else "the broadcast's status"
        self._stop(f"{what} could not be read: {failure_kind(error)} (details in the log)")

    async def _watch(self) -> None:
        while not (self.stop_reason or self.yielding):
            await self.p.sleep(self.cfg.control_poll_s)
            status = await self.db(partial(self.p.store.status, self.bid))
            if status is BroadcastStatus.CANCELLED:
                self._stop(CANCELLED)
            elif status is BroadcastStatus.PAUSED:
                self._yield()

    async def _wind_down(self, *, bounded: bool) -> None:
        """Stop the tasks; settle what was sent; give back what was claimed and never sent.

        ``bounded``: a stop or an outage: sends on their way get ``stop_grace_s``, the
        database as long again (it may be what is down); what cannot be written then
        is left claimed, in doubt, for the next run.
        """
        self.closing = True
        self.p.throttle.interrupt()
        self.work.set()
        for task in self.helpers:
            task.cancel()
        if self.workers:
            _, late = await asyncio.wait(self.workers, timeout=self.cfg.stop_grace_s)
            for task in late:  # still waiting for Telegram's answer: in doubt
                task.cancel()
            if late:
                await asyncio.wait(late)
        if bounded:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.cfg.stop_grace_s):
                    await self._give_back()
        else:
            await self._give_back()
        await self.reporter.close(last=self.yielding)

    async def _keep_time(self) -> None:
        """Store the sending time and FloodWaits so far: the next run goes on from them."""
        clock = self.p.clock()
        fields = {
            "active_seconds": self.active_before + self.active_s(clock),
            "flood_wait_seconds": self.flood_waited_before + self.pauses.waited(clock),
            "flood_waits": self.flood_waits + self.flood_waits_before,
        }
        await self.db(partial(self.p.store.update, self.bid, fields))

    async def _give_back(self) -> None:
        if self.claiming is not None:  # stopped while a claim's answer was on its way
            await self.db(partial(self.p.ledger.release_claim, self.bid, self.claiming))
            self.claiming = None
        await self._flush()
        if self.ready:  # claimed, never sent: back to pending for a later run
            ids = list(self.ready)
            await self.db(partial(self.p.ledger.release, self.bid, ids))
            self.outstanding -= len(ids)
            self.ready.clear()
        if self.doubtful:  # an attempt may have arrived: in doubt (sent again only in the window)
            self.outstanding -= len(self.doubtful)
            self.unknown += len(self.doubtful)
            self.doubtful.clear()
        await self.flood_log.write()
        await self._keep_time()

    def _summary(self, doc: dict[str, Any], status: str) -> Summary:
        c = self.counters
        skipped = self.feed.skipped
        total = self.feed.total + skipped.count
        if not self.feed.total_known and self.feed.expected is not None:
            # Stopped before the snapshot read the whole audience: the rest was not sent.
            total = max(total, int(self.feed.expected))
        now, clock = self.p.wall_clock(), self.p.clock()
        started = as_utc(doc.get("started_at"))
        return Summary(
            broadcast_id=self.bid,
            status=status,
            total=total,
            sent=c.sent,
            failed=c.failed,
            unknown=self.unknown,
            not_sent=max(0, total - c.done - self.unknown - skipped.count),
            errors=dict(c.errors),
            flood_waits=self.flood_waits + self.flood_waits_before,
            started_at=started,
            completed_at=now,
            # Sending time: admin pauses and FloodWaits are not counted.
            duration_s=self.active_before + self.active_s(clock),
            flood_wait_s=self.flood_waited_before + self.pauses.waited(clock),
            stop_reason=self.stop_reason,
            skipped=skipped.count,
            skipped_reasons=dict(skipped.reasons),
        )

    async def _finish(self, doc: dict[str, Any]) -> Summary:
        """Store and return the summary.

        The counts need no scan of the ledger: earlier runs' counts were read at
        the start, every outcome of this run has been settled, and claims that
        never went out were released back to pending.
        """
        status = BroadcastStatus.COMPLETED
        if self.stop_reason == CANCELLED:
            status = BroadcastStatus.CANCELLED
        elif self.stop_reason:
            status = BroadcastStatus.FAILED
        summary = self._summary(doc, status.value)
        await self.db(
            partial(
                self.p.store.transition,
                self.bid,
                ACTIVE | {BroadcastStatus.CANCELLED},
                status,
                at=summary.completed_at,
                fields=summary.to_document() | closing_fields(doc, summary),
                # A cancel was already recorded with who did it; the run records that it stopped.
                action="stopped" if status is BroadcastStatus.CANCELLED else None,
            )
        )
        if doc.get("kind") == "delete" and doc.get("of") and summary.sent:
            # Its copies are gone: a reaction pressed on one left is answered "withdrawn".
            original = str(doc["of"])
            fields = {"deleted_at": summary.completed_at}
            await self.db(partial(self.p.store.update, original, fields))
        s = summary
        log.info(
            "%s: run finished: %s",
            self.bid,
            s.status,
            extra=event(
                "run.finished", self.bid, status=s.status, total=s.total, sent=s.sent,
                failed=s.failed, unknown=s.unknown, not_sent=s.not_sent, skipped=s.skipped,
                skipped_reasons=s.skipped_reasons,
                errors=s.errors, flood_waits=s.flood_waits, duration_s=s.duration_s,
                reason=s.stop_reason,
            ),
        )  # fmt: skip
        return summary
