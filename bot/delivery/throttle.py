"""The async gate in front of every send: :class:`Throttle` hands out the grants of a
:class:`~bot.delivery.limiter.RateLimiter` to the workers waiting for one."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar

from bot.delivery.limiter import Clock, RateLimiter


class Throttle:
    """The async gate in front of every send, shared by all workers.

    Waiters queue FIFO; one timer hands out every grant that is due at once,
    so several waiters can go in the same event-loop turn and a grant never
    waits for another task to wake up first. :meth:`interrupt` lets every waiter
    go without a grant (a cancel or pause during a long FloodWait acts at once).

    The grant is remembered in the task that took it; :meth:`answered` (or
    :meth:`flood_wait`) after its send tells the limiter how long the send took.

    Args:
        limiter: The token bucket every grant comes from.
        clock: Monotonic seconds.
        on_flood_wait: Told the seconds of every FloodWait reported (for metrics).
    """

    def __init__(
        self,
        limiter: RateLimiter,
        clock: Clock,
        on_flood_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.limiter = limiter
        self._clock = clock
        self._on_flood_wait = on_flood_wait
        self._waiters: deque[asyncio.Future[float | None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        # Each worker is a task with a context of its own: its grant time lives there.
        self._granted: ContextVar[float | None] = ContextVar(f"grant-{id(self)}", default=None)

    @property
    def waiting(self) -> int:
        """Workers waiting for a grant now."""
        return len(self._waiters)

    async def acquire(self) -> bool:
        """Wait until the limiter grants a send: True; False if :meth:`interrupt` came first."""
        if not self._waiters:
            now = self._clock()
            if self.limiter.try_acquire(now) == 0:
                self._granted.set(now)
                return True
        waiter: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self._timer is None:
            self._dispense()
        granted = await waiter
        if granted is None:
            return False
        self._granted.set(granted)
        return True

    def answered(self) -> None:
        """The send this task was last granted got an answer (or failed): report its latency.

        Call once after each send, whatever came back; a no-op without a grant.
        """
        granted = self._granted.get()
        if granted is None:
            return
        self._granted.set(None)
        if self.limiter.on_answer(granted, self._clock()) and self._waiters:
            self._restart()

    def interrupt(self) -> None:
        """Release every waiter without a grant (they return False)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def flood_wait(self, seconds: float) -> None:
        """Report a FloodWait (the answer to this task's send): every later grant waits it out."""
        now = self._clock()
        granted = self._granted.get()
        if granted is not None:
            self._granted.set(None)
            self.limiter.on_refused(granted, now)
        self.limiter.on_flood_wait(now, seconds)
        if self._on_flood_wait is not None:
            self._on_flood_wait(seconds)
        self._restart()

    def _restart(self) -> None:
        """Recompute when the next grant is due (the limiter's answer may have changed)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._dispense()

    def _dispense(self) -> None:
        self._timer = None
        now = self._clock()
        while self._waiters:
            if self._waiters[0].done():  # its task was cancelled
                self._waiters.popleft()
                continue
            wait = self.limiter.try_acquire(now)
            if wait > 0:
                self._timer = asyncio.get_running_loop().call_later(wait, self._dispense)
                return
            self._waiters.popleft().set_result(now)
