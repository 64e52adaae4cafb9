"""The global send rate: a pure token bucket over an injected clock, and its async gate.

:class:`RateLimiter` answers "may I send now, and if not, how long until I may"
from the ``now`` it is given. It guarantees that no sliding one-second window
holds more than ``rate + 1`` grants, paces grants evenly (no bursts), and
catches up with a grant it could not hand out on time because the event loop
woke a waiter late. FloodWait from Telegram pauses every sender, lowers the
rate, and the rate climbs back slowly while no FloodWait comes.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

# How far lateness may be caught up; beyond it, the pace restarts from now.
_MAX_CATCH_UP_S = 0.05


class Clock(Protocol):
    """A monotonic clock in seconds."""

    def __call__(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """How the rate reacts to FloodWait.

    On a FloodWait the rate at that moment becomes the *ceiling* and the rate
    drops to ``decrease`` times it. Every ``recovery_s`` seconds without one,
    the rate regains ``increase`` of the configured rate, up to ``headroom``
    times the ceiling: it settles just under what Telegram tolerated. A ceiling
    is forgotten after ``forget_s`` quiet seconds. Never below ``floor``.
    """

    decrease: float = 0.9
    increase: float = 0.05
    recovery_s: float = 1.0
    headroom: float = 0.97
    forget_s: float = 60.0
    floor: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.decrease < 1 or not 0 < self.increase <= 1:
            raise ValueError("decrease must be in (0, 1) and increase in (0, 1]")
        if not 0 < self.headroom <= 1 or self.forget_s <= 0:
            raise ValueError("headroom must be in (0, 1] and forget_s positive")
        if self.recovery_s <= 0 or self.floor <= 0:
            raise ValueError("recovery_s and floor must be positive")


class RateLimiter:
    """Evenly paced grants at ``rate`` per second, at most ``rate`` in any second.

    "Any second" is every half-open window (t - 1, t], as Telegram counts; so
    no closed window holds more than ``rate + 1``.

    Pure: every method takes ``now`` and performs no I/O, so tests drive it with
    any schedule and check the window property without sleeping.
    """

    def __init__(self, rate: float, backoff: Backoff | None = None) -> None:
        if not 0 < rate <= 10_000:
            raise ValueError(f"rate must be in (0, 10000], got {rate}")
        self.target = rate
        self.rate = rate
        self.backoff = backoff or Backoff()
        self._next_slot = -math.inf
        self._paused_until = -math.inf
        self._last_change = -math.inf
        self._last_flood = -math.inf
        self._ceiling = math.inf
        self._window: deque[float] = deque()

    @property
    def window_limit(self) -> int:
        """Most grants any half-open one-second window may hold."""
        return max(1, math.floor(self.rate))

    def paused_until(self) -> float:
        """The moment the current FloodWait pause ends (``-inf`` when not paused)."""
        return self._paused_until

    def try_acquire(self, now: float) -> float:
        """Take a grant if one is due: returns 0.0 when granted, else the seconds to wait."""
        self._recover(now)
        wait = self._wait(now)
        if wait > 0:
            return wait
        behind = now - self._next_slot
        base = self._next_slot if behind <= _MAX_CATCH_UP_S else now
        self._next_slot = base + 1.0 / self.rate
        self._window.append(now)
        return 0.0

    def on_flood_wait(self, now: float, seconds: float) -> None:
        """Telegram said wait ``seconds``: pause everyone and, once per episode, slow down."""
        if now >= self._paused_until:
            self._ceiling = self.rate
            self.rate = max(self.backoff.floor, self.rate * self.backoff.decrease)
        self._last_flood = now
        self._paused_until = max(self._paused_until, now + seconds)
        self._next_slot = self._paused_until
        self._last_change = self._paused_until

    def _wait(self, now: float) -> float:
        waits = [self._paused_until - now, self._next_slot - now]
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        if len(self._window) >= self.window_limit:
            waits.append(self._window[0] + 1.0 - now + 1e-9)
        return max(0.0, *waits)

    def _recover(self, now: float) -> None:
        if now - self._last_flood >= self.backoff.forget_s:
            self._ceiling = math.inf
        cap = min(self.target, self._ceiling * self.backoff.headroom)
        if self.rate >= cap or now - self._last_change < self.backoff.recovery_s:
            return
        self.rate = max(self.rate, min(cap, self.rate + self.target * self.backoff.increase))
        self._last_change = now


Sleep = Callable[[float], Awaitable[None]]


class Throttle:
    """The async gate in front of every send, shared by all workers.

    Waiters queue FIFO; one timer hands out every grant that is due at once,
    so several waiters can go in the same event-loop turn and a grant never
    waits for another task to wake up first. :meth:`interrupt` lets every waiter
    go without a grant (a cancel or pause during a long FloodWait acts at once).

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
        self._waiters: deque[asyncio.Future[bool]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self) -> bool:
        """Wait until the limiter grants a send: True; False if :meth:`interrupt` came first."""
        if not self._waiters and self.limiter.try_acquire(self._clock()) == 0:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self._timer is None:
            self._dispense()
        return await waiter

    def interrupt(self) -> None:
        """Release every waiter without a grant (they return False)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(False)

    def flood_wait(self, seconds: float) -> None:
        """Report a FloodWait: every later grant waits it out."""
        self.limiter.on_flood_wait(self._clock(), seconds)
        if self._on_flood_wait is not None:
            self._on_flood_wait(seconds)
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
            self._waiters.popleft().set_result(True)
