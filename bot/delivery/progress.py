"""Progress reports of a run: throttled, spaced at the callback, never in the way.

A report is requested by the run (every ``progress_every`` recipients, or when
a pause or resume changes what the admin should see); at most one is on its
way at a time, each is at least ``min_interval_s`` after the previous one at
the callback itself, and a failing callback is logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.delivery.events import event
from bot.delivery.limiter import Clock, Sleep
from bot.delivery.policy import ProgressGate, ProgressSnapshot
from bot.delivery.ports import BroadcastStore, ProgressCallback

log = logging.getLogger(__name__)


class ProgressReporter:
    """Sends a run's progress snapshots to its callback and the broadcast document."""

    def __init__(
        self,
        broadcast_id: str,
        callback: ProgressCallback | None,
        snapshot: Callable[[], ProgressSnapshot],
        store: BroadcastStore,
        gate: ProgressGate,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.bid, self.callback, self.snapshot, self.store = broadcast_id, callback, snapshot, store
        self.gate, self.clock, self.sleep = gate, clock, sleep
        self._task: asyncio.Task[None] | None = None
        self._last_at = float("-inf")
        self._waiting = False
        self._again = False
        self._closed = False

    def maybe(self, done: int) -> None:
        """Report if ``done`` recipients and the time since the last report allow it."""
        if self.gate.due(done, self.clock()):
            self.now()

    def now(self) -> None:
        """Report soon, or right after the report already on its way."""
        if self.callback is None or self._closed:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._deliver())
        else:
            self._again = True  # e.g. a pause that the report on its way did not see

    async def close(self, *, last: bool = False) -> None:
        """Let a report in progress end; drop one still waiting (the summary supersedes it).

        ``last``: no summary follows (the run yielded while paused): one more report,
        now, shows where it stands.
        """
        self._closed = True
        if self._task is not None:
            if self._waiting:
                self._task.cancel()
            await asyncio.wait([self._task])
        if last and self.callback is not None:
            self._task = asyncio.create_task(self._deliver(spaced=False))
            await asyncio.wait([self._task])

    def cancel(self) -> None:
        """Stop at once (the run is being torn down)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()

    async def _deliver(self, *, spaced: bool = True) -> None:
        wait = self._last_at + self.gate.min_interval_s - self.clock()
        if spaced and wait > 0:
            self._waiting = True
            await self.sleep(wait)
            self._waiting = False
        self._last_at = self.clock()
        snap = self.snapshot()
        try:
            if self.callback is not None:
                await self.callback(snap)
            fields = {
                "sent_count": snap.sent,
                "failed_count": snap.failed,
                "error_breakdown": snap.errors,
                "active_seconds": round(snap.elapsed_s, 3),
                "flood_wait_seconds": round(snap.flood_waited_s, 3),
            }
            await self.store.update(self.bid, fields)
        except Exception:  # a failed progress report must never disturb the broadcast
            failed = event("progress.failed", self.bid)
            log.exception("progress report for %s failed", self.bid, extra=failed)
        if self._again and not self._closed:
            self._again = False
            asyncio.get_running_loop().call_soon(self.now)
