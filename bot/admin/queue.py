"""Runs confirmed broadcasts one at a time: the bot has one rate, one sender.

The ``broadcasts`` collection is the truth: the runner reads what to do next from
MongoDB, so what was queued before a restart runs after it, what another instance
confirmed is picked up within ``poll_s``, and a broadcast that was running when a
process died resumes (from the ledger: nobody twice).

Order: ``running`` broadcasts first (one resumed by an admin, or interrupted by a
restart), in the order they were (re)activated; then ``queued`` ones, oldest
confirmation first. A ``paused`` broadcast holds nothing: its run yields the sender
(:mod:`bot.delivery.run`), the next one starts, and after Resume it goes to the
front and continues right after the one sending now. A run that fails (a bug, the
database unreachable longer than the outage limit) is retried with growing pauses
for as long as the process lives: a live process never leaves a broadcast
``running`` with nobody sending it. Whatever fails between runs (reading the
queue: an outage, a malformed document, a bug) is logged and tried again after a
growing pause: the runner itself never dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.app import Core
from bot.delivery.errors import StorageUnavailableError
from bot.delivery.events import event
from bot.delivery.model import BroadcastStatus, as_utc
from bot.delivery.outage import OutageTooLongError
from bot.delivery.ports import ProgressCallback
from bot.delivery.report import Summary
from bot.delivery.run import PAUSED
from bot.delivery.tasks import stop_task

log = logging.getLogger(__name__)

Finished = Callable[[Summary], Awaitable[None]]
StatusFactory = Callable[[dict[str, Any]], Awaitable[ProgressCallback | None]]
Notice = Callable[[str, str], Awaitable[None]]
Moved = Callable[[list[str], str | None], Awaitable[None]]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: What ``on_trouble`` is told, for admins: a reason in words; the error itself goes to the log.
OUTAGE = "the database stayed unreachable for too long"
#: The longest pause of the runner after it could not read the queue.
RUNNER_MAX_PAUSE_S = 30.0
UNEXPECTED = "an unexpected error (the details are in the bot's log)"


class BroadcastQueue:
    """Runs confirmed broadcasts one at a time (see the module docstring).

    Args:
        core: The broadcast machinery.
        status_for: Given the broadcast document, returns the progress callback for
            its run, or None. Its errors are logged and the broadcast runs without one.
        on_finished: Called with the summary after each run that ended the broadcast.
        on_paused: Called with the summary of a run that yielded because it was paused.
        on_trouble: Called with ``(broadcast_id, what happened)`` when a run stopped
            for an outage or an error and will be retried: :data:`OUTAGE` or
            :data:`UNEXPECTED`, never the error's text (it may hold hosts or data).
        on_moved: Called with the waiting order and the one running, when it changes.
        poll_s: While idle, how often MongoDB is read for work (another instance's
            confirmations, resumes).
        retry_first_s, retry_max_s: Pauses before a failed broadcast is tried again, and
            before the runner goes on after it failed between runs (doubling each time).
        Every callback's errors are logged, never raised.
    """

    def __init__(
        self,
        core: Core,
        status_for: StatusFactory,
        on_finished: Finished | None = None,
        *,
        on_paused: Finished | None = None,
        on_trouble: Notice | None = None,
        on_moved: Moved | None = None,
        poll_s: float = 1.0,
        retry_first_s: float = 1.0,
        retry_max_s: float = 300.0,
    ) -> None:
        self.core, self.status_for = core, status_for
        self.on_finished, self.on_paused = on_finished, on_paused
        self.on_trouble, self.on_moved = on_trouble, on_moved
        self.poll_s, self.retry_first_s, self.retry_max_s = poll_s, retry_first_s, retry_max_s
        self._current: str | None = None
        self._waiting: list[str] = []
        self._failures: dict[str, tuple[int, float]] = {}  # id -> (failures, retry at)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def current(self) -> str | None:
        """The broadcast running now."""
        return self._current

    @property
    def waiting(self) -> list[str]:
        """The broadcasts that run after the current one, in order, as last read."""
        return list(self._waiting)

    async def start(self) -> None:
        """Start the runner (it resumes interrupted broadcasts first); no-op if it runs."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.create_task(self._run_forever(), name="broadcast-queue")

    async def stop(self) -> None:
        """Stop the runner; a running broadcast stops cleanly and stays ``running``."""
        task, self._task = self._task, None
        await stop_task(task)
        self._current, self._waiting = None, []  # what waits is no longer ours to show

    async def submit(self, broadcast_id: str) -> int | None:
        """Wake the runner; how many run before ``broadcast_id`` (0: it runs now).

        None when this queue does not see it waiting (another instance runs it, or it
        finished): not an error.
        """
        self._wake.set()
        if not self.running:  # a standby: the leader's queue reads it and shows its place
            return None
        with contextlib.suppress(StorageUnavailableError):
            await self._read()
        return self.ahead_of(broadcast_id)

    @property
    def running(self) -> bool:
        """Whether the runner runs here (this instance sends)."""
        return self._task is not None and not self._task.done()

    async def reread(self) -> None:
        """Read the waiting order again (what other instances confirmed or resumed while
        one broadcast sends); tells ``on_moved`` if it changed. No-op unless running.

        Raises:
            StorageUnavailableError: The database could not be read.
        """
        if self.running:
            await self._read()

    def ahead_of(self, broadcast_id: str) -> int | None:
        """Broadcasts that run before this one (0: it runs now), None if not waiting here."""
        if broadcast_id == self._current:
            return 0
        if broadcast_id not in self._waiting:
            return None
        return (self._current is not None) + self._waiting.index(broadcast_id)

    # the runner -------------------------------------------------------------------------------

    async def _run_forever(self) -> None:
        failures = 0  # in a row, whatever failed: the pause before the next try grows
        while True:
            self._wake.clear()  # before reading MongoDB: a submit during the read is not lost
            try:
                await self._step()
            except Exception as error:  # the queue outlives anything: an outage, a bug, bad data
                failures += 1
                await self._rest(self._stumbled(error, failures))
            else:
                failures = 0

    async def _rest(self, seconds: float) -> None:
        """Wait ``seconds``, or less: a submit (someone confirmed a broadcast) tries at once."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _step(self) -> None:
        """Run the next broadcast; or, with none to run, wait for a submit or ``poll_s``."""
        bid = await self._next()
        if bid is None:
            await self._rest(self._idle_s())
            return
        await self._run(bid)

    def _stumbled(self, error: Exception, failures: int) -> float:
        """Log what stopped the runner between broadcasts; the pause before it goes on."""
        # Reading the queue is cheap: a database back after a long outage is seen soon.
        pause = min(self._backoff(failures), RUNNER_MAX_PAUSE_S)
        if isinstance(error, StorageUnavailableError):
            unreachable = event("queue.db_unreachable", attempt=failures, pause_s=pause)
            log.warning(
                "broadcast queue: the database is unreachable; again in %g s",
                pause,
                extra=unreachable,
            )
        else:
            failed = event("queue.error", attempt=failures, pause_s=pause)
            log.exception("broadcast queue: unexpected error; again in %g s", pause, extra=failed)
        return pause

    async def _next(self) -> str | None:
        """The broadcast to run next, moved to ``running`` if it was queued; None if none."""
        for bid, status in await self._read():
            if self._cooling(bid):
                continue
            if status == BroadcastStatus.RUNNING or await self.core.service.start(bid):
                return bid
        return None

    async def _read(self, *, notify: bool = True) -> list[tuple[str, str]]:
        """Running and queued broadcasts, in the order they run; remembers the order."""
        docs = await self.core.store.with_status([BroadcastStatus.RUNNING, BroadcastStatus.QUEUED])
        docs.sort(key=_rank)
        order = [(str(d["_id"]), str(d["status"])) for d in docs if d["_id"] != self._current]
        waiting = [bid for bid, _ in order]
        if waiting != self._waiting:
            self._waiting = waiting
            if notify:
                await self._tell(self.on_moved, waiting, self._current)
        return order

    async def _run(self, bid: str) -> None:
        self._current = bid
        await self._tell(self.on_moved, [b for b in self._waiting if b != bid], bid)
        try:
            summary = await self._execute(bid)
        except OutageTooLongError as error:
            trouble = event("run.trouble", bid, reason="outage", error=str(error))
            log.warning("broadcast %s: the database stayed unreachable", bid, extra=trouble)
            self._failed(bid)
            await self._tell(self.on_trouble, bid, OUTAGE)
            return
        except StorageUnavailableError as error:
            trouble = event("run.trouble", bid, reason="database", error=str(error))
            log.warning("broadcast %s: the database failed", bid, extra=trouble)
            self._failed(bid)
            return
        except Exception as error:  # the runner must outlive any one broadcast's trouble
            trouble = event(
                "run.trouble", bid, reason="error", error=f"{type(error).__name__}: {error}"
            )
            log.exception("broadcast %s: the run failed; it is retried", bid, extra=trouble)
            self._failed(bid)
            await self._tell(self.on_trouble, bid, UNEXPECTED)
            return
        finally:
            self._current = None
        self._failures.pop(bid, None)
        done = self.on_paused if summary.status == PAUSED else self.on_finished
        # It is over: its summary reaches the admin even if the queue is stopping now.
        await asyncio.shield(self._tell(done, summary))

    async def _execute(self, bid: str) -> Summary:
        doc = await self.core.store.get(bid)
        try:
            progress = await self.status_for(doc)
        except Exception:
            failed = event("status.failed", bid)
            log.exception("status message for %s failed: running without one", bid, extra=failed)
            progress = None
        return await self.core.service.run(bid, progress)

    def _backoff(self, failures: int) -> float:
        return float(min(self.retry_max_s, self.retry_first_s * 2 ** (failures - 1)))

    def _failed(self, bid: str) -> None:
        failures = self._failures.get(bid, (0, 0.0))[0] + 1
        pause = self._backoff(failures)
        self._failures[bid] = (failures, asyncio.get_running_loop().time() + pause)
        retry = event("queue.retry", bid, attempt=failures, pause_s=pause)
        log.warning(
            "broadcast %s: attempt %d failed; again in %.0f s", bid, failures, pause, extra=retry
        )

    def _cooling(self, bid: str) -> bool:
        entry = self._failures.get(bid)
        return entry is not None and asyncio.get_running_loop().time() < entry[1]

    def _idle_s(self) -> float:
        now = asyncio.get_running_loop().time()
        soonest = min((at for _, at in self._failures.values() if at > now), default=None)
        return self.poll_s if soonest is None else max(0.01, min(self.poll_s, soonest - now))

    async def _tell(self, callback: Callable[..., Awaitable[None]] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            await callback(*args)
        except Exception:
            log.exception(
                "broadcast queue: a callback failed", extra=event("queue.callback_failed")
            )


def _rank(doc: dict[str, Any]) -> tuple[int, datetime]:
    """Running ones first, by when they were (re)activated; then queued, oldest first."""
    if doc.get("status") == BroadcastStatus.RUNNING:
        at = as_utc(doc.get("activated_at") or doc.get("started_at"))
        return 0, at or _EPOCH
    return 1, as_utc(doc.get("confirmed_at") or doc.get("created_at")) or _EPOCH
