"""Runs confirmed broadcasts one at a time, oldest first.

The ``broadcasts`` collection is the truth: the runner reads what to do next
from MongoDB, so broadcasts queued before a restart run after it, and one that
was running when the process died resumes (from the ledger, nobody twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.app import Core
from bot.delivery.errors import BroadcastError, BroadcastNotFoundError
from bot.delivery.model import ACTIVE, BroadcastStatus
from bot.delivery.ports import ProgressCallback
from bot.delivery.report import Summary

log = logging.getLogger(__name__)

Finished = Callable[[Summary], Awaitable[None]]
StatusFactory = Callable[[dict[str, Any]], Awaitable[ProgressCallback | None]]


class NotQueuedError(BroadcastError, ValueError):
    """A broadcast was submitted that is not ``queued`` (nor already running here)."""

    def __init__(self, broadcast_id: str) -> None:
        super().__init__(f"broadcast {broadcast_id} is not queued")
        self.broadcast_id = broadcast_id


class BroadcastQueue:
    """Runs confirmed broadcasts one at a time, oldest first.

    The broadcasts collection is the truth; this object only caches positions.

    Args:
        core: The broadcast machinery.
        status_for: Given the broadcast document (status ``running`` or ``paused``),
            returns the progress callback for its run, or None. Its errors are
            logged and the broadcast runs without one.
        on_finished: Called with the summary after each run; its errors are logged.
        retry_pause_s: Pause after an error before the runner tries again.
        poll_s: While idle, how often MongoDB is read for queued broadcasts
            nobody submitted (e.g. queued by another process).
        max_attempts: Runs of one broadcast that may fail with an error before the
            runner leaves it (still ``running``) for the next start.
    """

    def __init__(
        self,
        core: Core,
        status_for: StatusFactory,
        on_finished: Finished | None = None,
        *,
        retry_pause_s: float = 1.0,
        poll_s: float = 5.0,
        max_attempts: int = 3,
    ) -> None:
        self.core, self.status_for, self.on_finished = core, status_for, on_finished
        self.retry_pause_s, self.poll_s, self.max_attempts = retry_pause_s, poll_s, max_attempts
        self._current: str | None = None
        self._resume: list[str] = []  # running/paused ones to (re)run before any queued one
        self._queued: list[str] = []  # queued ones, oldest first, as last read
        self._failures: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def current(self) -> str | None:
        """The broadcast running now."""
        return self._current

    async def start(self) -> None:
        """Resume broadcasts a previous process left running or paused, then run queued ones.

        Returns once the runner task is started; does nothing if it runs already.
        """
        if self._task is not None and not self._task.done():
            return
        self._resume = await self.core.service.interrupted()
        self._task = asyncio.create_task(self._run_forever(), name="broadcast-queue")

    async def stop(self) -> None:
        """Cancel the runner, as a process exit would: a running broadcast stays ``running``."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._current = None

    async def submit(self, broadcast_id: str) -> int:
        """Wake the runner for a ``queued`` broadcast; returns how many are ahead of it.

        Raises:
            NotQueuedError: It is neither ``queued`` nor the one running now.
        """
        await self._read_queued()
        self._wake.set()
        ahead = self.ahead_of(broadcast_id)
        if ahead is None:
            raise NotQueuedError(broadcast_id)
        return ahead

    def ahead_of(self, broadcast_id: str) -> int | None:
        """Broadcasts that run before this one (0: it runs now), None if it is not waiting.

        Counts from the queue as last read from MongoDB.
        """
        if broadcast_id == self._current:
            return 0
        busy = 0 if self._current is None else 1
        waiting = [*self._resume, *self._queued]
        if broadcast_id not in waiting:
            return None
        return busy + waiting.index(broadcast_id)

    # the runner -------------------------------------------------------------------------------

    async def _run_forever(self) -> None:
        while True:
            # Cleared before reading MongoDB: a submit during the read is not lost.
            self._wake.clear()
            try:
                ran = await self._run_next()
            except Exception:  # the runner must outlive any one broadcast's trouble
                log.exception("broadcast queue: error, retrying in %ss", self.retry_pause_s)
                self._current = None
                await asyncio.sleep(self.retry_pause_s)
                continue
            if not ran:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_s):
                        await self._wake.wait()

    async def _run_next(self) -> bool:
        """Run the next broadcast; False when there is none."""
        bid = await self._next_resumable()
        if bid is None:
            await self._read_queued()
            if not self._queued:
                return False
            bid = self._queued.pop(0)
            self._current = bid
            if not await self.core.service.start(bid):
                log.info("broadcast %s was not queued any more: skipped", bid)
                self._current = None
                return True
        self._current = bid
        try:
            summary = await self._execute(bid)
        except Exception:
            self._retry_later(bid)
            raise
        finally:
            self._current = None
        self._failures.pop(bid, None)
        # The broadcast is finished: its summary reaches the admin even if the queue
        # is being stopped right now (this instance lost the lead).
        await asyncio.shield(self._report(summary))
        return True

    async def _next_resumable(self) -> str | None:
        while self._resume:
            bid = self._resume.pop(0)
            try:
                status = await self.core.store.status(bid)
            except BroadcastNotFoundError:
                continue
            except Exception:
                self._resume.insert(0, bid)
                raise
            if status in ACTIVE:
                return bid
        return None

    def _retry_later(self, bid: str) -> None:
        """A run that raised leaves its broadcast ``running``: resume it next, a few times."""
        failures = self._failures.get(bid, 0) + 1
        self._failures[bid] = failures
        if failures < self.max_attempts:
            self._resume.insert(0, bid)
        else:
            log.error("broadcast %s failed %s times: left for the next start", bid, failures)

    async def _read_queued(self) -> None:
        docs = await self.core.store.with_status([BroadcastStatus.QUEUED])
        self._queued = [str(doc["_id"]) for doc in docs if doc["_id"] != self._current]

    async def _execute(self, bid: str) -> Summary:
        doc = await self.core.store.get(bid)
        try:
            progress = await self.status_for(doc)
        except Exception:
            log.exception("status message for %s failed: running without one", bid)
            progress = None
        return await self.core.service.run(bid, progress)

    async def _report(self, summary: Summary) -> None:
        if self.on_finished is None:
            return
        try:
            await self.on_finished(summary)
        except Exception:
            log.exception("on_finished for %s failed", summary.broadcast_id)
