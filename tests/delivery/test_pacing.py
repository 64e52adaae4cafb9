"""Pacing against arrivals: the limiter with a jittery network and Telegram's window, on a
simulated clock (no test sleeps).

A small discrete-event model stands for the network and Telegram: a send granted at
``g`` arrives at ``g + up`` and is answered at ``g + up + down``; Telegram keeps a
sliding one-second window of arrivals, as :mod:`bot.demo.simulator.limits` does, and
answers FLOOD_WAIT (with a flood period) to the arrival that would overfill it. The
gate is modelled as :class:`~bot.delivery.throttle.Throttle` behaves: one timer, woken
late by ``lateness``, restarted when an answer or a FloodWait says so.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from dataclasses import dataclass, field
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.limiter import RateLimiter
from tests.delivery.test_limiter import most_in_half_open_second

WAKE, ARRIVE, ANSWER = 0, 1, 2


@dataclass
class Network:
    """Round trips of ``latency`` +/- ``jitter`` (a fraction); ``up_share`` of it before arrival."""

    latency: float
    jitter: float
    up_share: float
    rng: random.Random

    def leg(self, share: float) -> float:
        """One leg's delay, drawn on its own."""
        return share * self.latency * (1 + self.rng.uniform(-self.jitter, self.jitter))

    def draw(self) -> tuple[float, float]:
        """(up, down): seconds to arrival, then seconds to the answer."""
        return self.leg(self.up_share), self.leg(1 - self.up_share)


@dataclass
class Telegram:
    """At most ``limit`` arrivals in any window (t - 1, t]; the one that would overfill it
    is answered FLOOD_WAIT and starts a flood period, during which every arrival is."""

    limit: int
    window: deque[float] = field(default_factory=deque)
    flood_until: float = -math.inf
    accepted: list[float] = field(default_factory=list)
    episodes: list[float] = field(default_factory=list)

    def receive(self, at: float) -> int | None:
        """None if the send is accepted, else the FLOOD_WAIT seconds."""
        if at < self.flood_until:
            return max(1, math.ceil(self.flood_until - at))
        while self.window and self.window[0] <= at - 1.0:
            self.window.popleft()
        if len(self.window) >= self.limit:
            wait = max(1, math.ceil(self.window[0] + 1.0 - at))
            self.flood_until = at + wait
            self.episodes.append(at)
            return wait
        self.window.append(at)
        self.accepted.append(at)
        return None


def run(
    limiter: RateLimiter,
    network: Network,
    telegram: Telegram,
    until: float,
    lateness: list[float],
) -> list[float]:
    """Send as fast as the limiter lets until ``until``; returns every arrival time."""
    late = itertools.cycle(lateness)
    events: list[tuple[float, int, int, float, float]] = []
    seq = count()
    timer = next(seq)
    heapq.heappush(events, (0.0, next(seq), WAKE, timer, 0.0))
    arrivals: list[float] = []
    while events:
        now, _, kind, a, b = heapq.heappop(events)
        if now > until:
            break
        restart = False
        if kind == WAKE:
            if a != timer:
                continue  # a timer that was restarted
            while (wait := limiter.try_acquire(now)) == 0:
                up, down = network.draw()
                heapq.heappush(events, (now + up, next(seq), ARRIVE, now, down))
            timer = next(seq)
            heapq.heappush(events, (now + wait + next(late), next(seq), WAKE, timer, 0.0))
        elif kind == ARRIVE:
            arrivals.append(now)
            flood = telegram.receive(now)
            answer = -1.0 if flood is None else flood
            heapq.heappush(events, (now + b, next(seq), ANSWER, a, answer))
        elif b < 0:
            restart = limiter.on_answer(a, now)
        else:
            limiter.on_refused(a, now)
            limiter.on_flood_wait(now, b)
            restart = True
        if restart:
            timer = next(seq)
            heapq.heappush(events, (now, next(seq), WAKE, timer, 0.0))
    return sorted(arrivals)


def rate_between(times: list[float], start: float, end: float) -> float:
    """Events per second in [start, end)."""
    return sum(1 for t in times if start <= t < end) / (end - start)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    rate=st.floats(min_value=1, max_value=1000),
    latency=st.floats(min_value=0.0, max_value=0.3),
    jitter=st.floats(min_value=0.0, max_value=0.5),
    up_share=st.floats(min_value=0.3, max_value=1.0),
    lateness=st.lists(st.floats(min_value=0, max_value=0.005), min_size=1, max_size=10),
    seed=st.integers(0, 2**32 - 1),
)
def test_no_second_of_arrivals_holds_more_than_the_rate(
    rate: float, latency: float, jitter: float, up_share: float, lateness: list[float], seed: int
) -> None:
    limiter = RateLimiter(rate)
    telegram = Telegram(limit=limiter.window_limit)  # exactly our rate: any bunching floods
    network = Network(latency, jitter, up_share, random.Random(seed))
    seconds = max(3.0, min(8.0, 1500 / rate))
    arrivals = run(limiter, network, telegram, seconds, lateness)
    assert telegram.episodes == []
    assert most_in_half_open_second(arrivals) <= limiter.window_limit
    assert len(arrivals) >= 0.8 * limiter.window_limit * (seconds - 1 - 2 * latency)


@pytest.mark.parametrize("rate", [30, 100, 1000])
@pytest.mark.parametrize("up_share", [1.0, 0.5])
def test_jitter_costs_little_of_the_rate(rate: int, up_share: float) -> None:
    limiter = RateLimiter(rate)
    telegram = Telegram(limit=rate)
    network = Network(0.1, 0.2, up_share, random.Random(rate))
    run(limiter, network, telegram, 12.0, [0.0005, 0.001, 0.0])
    assert telegram.episodes == []
    assert rate_between(telegram.accepted, 4.0, 12.0) >= 0.95 * rate


@pytest.mark.parametrize("limit", [30, 100, 1000])
@pytest.mark.parametrize("up_share", [1.0, 0.5])
def test_asking_too_much_settles_just_under_what_telegram_tolerated(
    limit: int, up_share: float
) -> None:
    limiter = RateLimiter(2 * limit)
    telegram = Telegram(limit=limit)
    network = Network(0.1, 0.2, up_share, random.Random(limit))
    run(limiter, network, telegram, 30.0, [0.0005, 0.001, 0.0])
    assert 1 <= len(telegram.episodes) <= 2
    assert telegram.episodes[-1] < 5.0  # then no more FloodWait
    assert rate_between(telegram.accepted, 10.0, 30.0) >= 0.9 * limit
    assert limiter.rate < limit
