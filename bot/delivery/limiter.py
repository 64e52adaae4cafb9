"""The global send rate: a pure limiter over an injected clock (its async gate is
:class:`bot.delivery.throttle.Throttle`).

:class:`RateLimiter` answers "may I send now, and if not, how long until I may"
from the ``now`` it is given. Telegram counts a send when it *arrives*; the
limiter decides when it *leaves*, and latency jitter bunches evenly spaced
departures into bursts of arrivals. So the limiter keeps the arrivals under the
rate: told when each send got its answer (:meth:`RateLimiter.on_answer`, plain
values), it counts every send that may still be in Telegram's one-second window
when the next one arrives, and grants only while fewer than the rate are.
Grants are evenly paced (no bursts), and one the event loop handed out late is
caught up. FloodWait from Telegram pauses every sender and settles the rate
just under what Telegram was seen to accept in the second before it.
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.delivery.latency import LatencyEstimate

# How far lateness may be caught up; beyond it, the pace restarts from now.
_MAX_CATCH_UP_S = 0.05
# Answers older than this many indexes are compacted away from the front of the list.
_COMPACT_AT = 4096


class Clock(Protocol):
    """A monotonic clock in seconds."""

    def __call__(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """How the rate reacts to FloodWait.

    A FloodWait starts an episode: the rate at that moment becomes the *ceiling*
    and the rate drops to ``decrease`` times it. If several sends are refused
    together (Telegram's window is full, not one chat's limit or a stray refusal),
    what Telegram accepted in the second before the episode becomes the ceiling
    (if lower) and the rate settles at ``headroom`` times it: just under what
    Telegram tolerated, not far below. Every ``recovery_s``
    seconds without a FloodWait, the rate regains ``increase`` of the configured
    rate, up to ``headroom`` times the ceiling. A ceiling is forgotten after
    ``forget_s`` quiet seconds (the configured rate is probed again). Never
    below ``floor``.
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
    """Evenly paced grants at ``rate`` per second; at most ``rate`` *arrivals* in any second.

    "Any second" is every half-open window (t - 1, t], as Telegram counts. A send
    granted at g and answered at g + L arrived somewhere in between. With ``F``
    the latency floor (:class:`~bot.delivery.latency.LatencyEstimate`: no send is
    faster), the next send arrives no sooner than ``now + F``, so a window holding
    its arrival can only hold sends that are still unanswered or were answered
    after ``now + F - 1``: those are counted (an unanswered one for at most its
    latency bound), and a grant is given only while fewer than :attr:`window_limit`
    are. Each send is charged by its own latency, so jitter costs the rate only
    the gap between the average latency and the floor, and a slow straggler costs
    nothing; the guarantee holds as long as no send is faster than the floor.
    Where in the round trip the send arrives does not matter: the answer comes
    after the arrival, and the floor bounds both legs together.

    Told no answers (:meth:`on_answer` never called), every grant counts for one
    second: no window of *departures* holds more than ``rate`` (``rate + 1`` in a
    closed window).

    Pure: every method takes ``now`` (and latencies as plain values) and performs
    no I/O, so tests drive it with any schedule and check the windows without sleeping.
    """

    def __init__(self, rate: float, backoff: Backoff | None = None) -> None:
        if not 0 < rate <= 10_000:
            raise ValueError(f"rate must be in (0, 10000], got {rate}")
        self.target = rate
        self.rate = rate
        self.backoff = backoff or Backoff()
        self.latency = LatencyEstimate()
        self._next_slot = -math.inf
        self._paused_until = -math.inf
        self._last_change = -math.inf
        self._last_flood = -math.inf
        self._ceiling = math.inf
        self._refused: deque[float] = deque()  # when sends were answered FLOOD_WAIT
        self._episode_accepted = 0
        self._episode_settled = True
        # Every grant within the in-flight horizon, oldest first; the unanswered ones by time.
        self._grants: deque[float] = deque()
        self._in_flight: Counter[float] = Counter()
        self._in_flight_count = 0
        # Answer times, ascending; those before index _head are out of every window.
        self._answers: list[float] = []
        self._head = 0

    @property
    def window_limit(self) -> int:
        """Most sends any half-open one-second window of arrivals may hold."""
        return max(1, math.floor(self.rate))

    def paused_until(self) -> float:
        """The moment the current FloodWait pause ends (``-inf`` when not paused)."""
        return self._paused_until

    def try_acquire(self, now: float) -> float:
        """Take a grant if one is due: returns 0.0 when granted, else the seconds to wait."""
        self._recover(now)
        wait = max(self._paused_until, self._next_slot) - now
        if wait > 0:
            return wait
        wait = self._window_wait(now)
        if wait > 0:
            return wait
        behind = now - self._next_slot
        base = self._next_slot if behind <= _MAX_CATCH_UP_S else now
        self._next_slot = base + 1.0 / self.rate
        self._grants.append(now)
        self._in_flight[now] += 1
        self._in_flight_count += 1
        return 0.0

    def on_answer(self, granted_at: float, now: float) -> bool:
        """The send granted at ``granted_at`` got Telegram's answer (any but FLOOD_WAIT) at ``now``.

        Returns True when a waiter may be let go sooner than the last wait said (no
        answered send was in the window: the wait was an unanswered send's bound).
        """
        self.latency.add(now - granted_at)
        self._settle(granted_at)
        answers = self._answers
        idle = not answers or answers[-1] <= now - 1.0 + self.latency.floor
        if answers and now < answers[-1]:
            insort(answers, now, lo=self._head)
        else:
            answers.append(now)
        return idle

    def on_refused(self, granted_at: float, now: float) -> None:
        """The send granted at ``granted_at`` was answered FLOOD_WAIT: Telegram did not count it."""
        self.latency.add(now - granted_at)
        self._settle(granted_at)
        self._refused.append(now)

    def on_flood_wait(self, now: float, seconds: float) -> None:
        """Telegram said wait ``seconds``: pause everyone and, once per episode, slow down."""
        if now >= self._paused_until:  # a new episode: slow down a little at once
            self._episode_accepted = self._answered_since(now - 1.0)
            self._episode_settled = False
            self._ceiling = self.rate
            self.rate = max(self.backoff.floor, self.rate * self.backoff.decrease)
        refused = self._refused_since(now - 1.0)
        if not self._episode_settled and refused >= 2 and self._episode_accepted:
            # Several sends refused together: Telegram's window is full, and what it
            # accepted in the second before is what it tolerates. A lone refusal (one
            # chat's limit, a stray one) says nothing of the global limit.
            self._episode_settled = True
            self._ceiling = min(self._ceiling, self._episode_accepted)
            self.rate = max(self.backoff.floor, self.backoff.headroom * self._ceiling)
        self._last_flood = now
        self._paused_until = max(self._paused_until, now + seconds)
        self._next_slot = self._paused_until
        self._last_change = self._paused_until

    def _settle(self, granted_at: float) -> None:
        left = self._in_flight.get(granted_at, 0)
        if left == 0:  # already forgotten, or never granted here
            return
        if left == 1:
            del self._in_flight[granted_at]
        else:
            self._in_flight[granted_at] = left - 1
        self._in_flight_count -= 1

    def _window_wait(self, now: float) -> float:
        """0.0 if one more send fits the windows its arrival can fall in, else seconds to wait."""
        floor = self.latency.floor
        horizon = 1.0 - floor + self.latency.bound
        self._forget_in_flight(now - horizon)
        cut = now - 1.0 + floor
        first = self._first_answer_after(cut)
        counted = self._in_flight_count + len(self._answers) - first
        if counted < self.window_limit:
            return 0.0
        if first < len(self._answers):  # the oldest answered send leaves the window
            release = self._answers[first] + 1.0 - floor
        else:  # only unanswered sends: the oldest stops counting at its bound
            release = min(self._in_flight) + horizon
        return max(release - now, 0.0) + 1e-9

    def _forget_in_flight(self, before: float) -> None:
        """Unanswered grants older than ``before`` are no longer counted (never answered)."""
        grants = self._grants
        while grants and grants[0] <= before:
            self._settle(grants.popleft())

    def _first_answer_after(self, cut: float) -> int:
        """Index of the first answer later than ``cut``; drops answers out of every window."""
        answers = self._answers
        self._head = bisect_right(answers, cut - self.latency.floor, self._head)
        if self._head >= _COMPACT_AT and 2 * self._head >= len(answers):
            del answers[: self._head]
            self._head = 0
        return bisect_right(answers, cut, self._head)

    def _refused_since(self, since: float) -> int:
        while self._refused and self._refused[0] <= since:
            self._refused.popleft()
        return len(self._refused)

    def _answered_since(self, since: float) -> int:
        return len(self._answers) - bisect_right(self._answers, since, self._head)

    def _recover(self, now: float) -> None:
        if now - self._last_flood >= self.backoff.forget_s:
            self._ceiling = math.inf
        cap = min(self.target, self._ceiling * self.backoff.headroom)
        if self.rate >= cap or now - self._last_change < self.backoff.recovery_s:
            return
        self.rate = max(self.rate, min(cap, self.rate + self.target * self.backoff.increase))
        self._last_change = now


Sleep = Callable[[float], Awaitable[None]]
