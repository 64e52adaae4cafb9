"""The rate limiter, driven by simulated clocks: no test sleeps."""

from __future__ import annotations

import asyncio
import itertools
import random
from bisect import bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.limiter import Backoff, RateLimiter
from bot.delivery.policy import PauseClock
from bot.delivery.throttle import Throttle


def most_in_one_second(grants: list[float]) -> int:
    """The largest number of grants in any closed window [t, t + 1]."""
    return max((bisect_right(grants, t + 1.0) - i for i, t in enumerate(grants)), default=0)


def most_in_half_open_second(grants: list[float]) -> int:
    """The largest number of grants in any window (t - 1, t], as Telegram counts."""
    return max((i + 1 - bisect_right(grants, t - 1.0) for i, t in enumerate(grants)), default=0)


def drive(limiter: RateLimiter, arrivals: list[float], lateness: list[float]) -> list[float]:
    """Callers queue in arrival order (as in :class:`Throttle`); the head sleeps as told
    and wakes up late by the next amount of ``lateness``; returns the grant times."""
    grants: list[float] = []
    late = itertools.cycle(lateness)
    now = 0.0
    for arrival in sorted(arrivals):
        now = max(now, arrival)
        while (wait := limiter.try_acquire(now)) > 0:
            now += wait + next(late)
        grants.append(now)
    return grants


@settings(max_examples=300, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=1000),
    arrivals=st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=400),
    lateness=st.lists(st.floats(min_value=0, max_value=0.05), min_size=1, max_size=20),
)
def test_no_sliding_second_holds_more_than_rate_plus_one(
    rate: float, arrivals: list[float], lateness: list[float]
) -> None:
    limiter = RateLimiter(rate)
    grants = drive(limiter, arrivals, lateness)
    assert len(grants) == len(arrivals)
    assert most_in_one_second(grants) <= int(rate) + 1
    assert most_in_half_open_second(grants) <= max(1, int(rate))


@pytest.mark.parametrize("rate", [1, 25, 30, 200, 1000])
def test_late_wake_ups_are_caught_up(rate: int) -> None:
    rng = random.Random(7)
    limiter = RateLimiter(rate)
    callers = rate * 10
    grants = drive(limiter, [0.0] * callers, [rng.uniform(0, 0.002) for _ in range(50)])
    achieved = len(grants) / grants[-1] if grants[-1] else float("inf")
    assert achieved >= 0.97 * rate
    assert most_in_one_second(grants) <= rate + 1


def test_grants_are_evenly_paced_not_bursty() -> None:
    limiter = RateLimiter(25)
    grants = drive(limiter, [0.0] * 50, [0.0])
    gaps = [b - a for a, b in zip(grants, grants[1:], strict=False)]
    assert min(gaps) == pytest.approx(0.04)


def test_flood_wait_pauses_everyone_and_slows_down_once_per_episode() -> None:
    limiter = RateLimiter(30, Backoff(decrease=0.5, recovery_s=5))
    assert limiter.try_acquire(0.0) == 0
    limiter.on_flood_wait(0.1, 3)
    limiter.on_flood_wait(0.12, 2)  # a second worker hit the same flood
    assert limiter.rate == 15
    assert limiter.try_acquire(1.0) == pytest.approx(2.1)
    assert limiter.try_acquire(3.1) == 0


def test_rate_climbs_back_slowly_to_just_under_the_flood_point() -> None:
    backoff = Backoff(decrease=0.5, increase=0.25, recovery_s=5, headroom=0.9, forget_s=60)
    limiter = RateLimiter(20, backoff)
    limiter.on_flood_wait(0.0, 1)
    assert limiter.rate == 10
    limiter.try_acquire(5.9)
    assert limiter.rate == 10
    limiter.try_acquire(6.1)
    assert limiter.rate == 15
    limiter.try_acquire(11.2)
    assert limiter.rate == 18  # 0.9 x the rate Telegram refused
    limiter.try_acquire(30.0)
    assert limiter.rate == 18
    limiter.try_acquire(61.0)  # a quiet minute: probe the configured rate again
    assert limiter.rate == 20


@pytest.mark.parametrize("bad", [0, -1, 10_001])
def test_rate_out_of_range_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="rate must be"):
        RateLimiter(bad)


async def test_throttle_hands_out_grants_at_the_rate_in_arrival_order() -> None:
    loop = asyncio.get_running_loop()
    throttle = Throttle(RateLimiter(200), loop.time)
    granted: list[tuple[int, float]] = []

    async def sender(n: int) -> None:
        await throttle.acquire()
        granted.append((n, loop.time()))

    await asyncio.gather(*(sender(n) for n in range(41)))
    assert [n for n, _ in granted] == list(range(41))
    times = [t for _, t in granted]
    assert times[-1] - times[0] == pytest.approx(0.2, abs=0.05)
    assert most_in_one_second(times) <= 201


async def test_throttle_flood_wait_holds_every_waiter() -> None:
    loop = asyncio.get_running_loop()
    throttle = Throttle(RateLimiter(1000), loop.time)
    await throttle.acquire()
    throttle.flood_wait(0.15)
    start = loop.time()
    await asyncio.gather(*(throttle.acquire() for _ in range(5)))
    assert loop.time() - start >= 0.15


def test_overlapping_flood_waits_are_counted_once() -> None:
    pauses = PauseClock()
    assert pauses.waited(5.0) == 0.0
    pauses.add(10.0, 3.0)  # 10-13
    pauses.add(11.0, 3.0)  # another worker: 11-14, overlapping
    assert pauses.left(12.0) == 2.0
    assert pauses.waited(12.0) == 2.0
    assert pauses.waited(20.0) == 4.0  # 10-14
    pauses.add(30.0, 1.0)  # 30-31
    assert pauses.waited(30.5) == 4.5
    assert pauses.waited(40.0) == 5.0
    assert pauses.left(40.0) == 0.0


async def test_throttle_reports_each_send_once_from_the_task_that_took_the_grant() -> None:
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(1000)
    throttle = Throttle(limiter, loop.time)

    async def sender(delay: float) -> None:
        assert await throttle.acquire()
        await asyncio.sleep(delay)
        throttle.answered()
        throttle.answered()  # a second report without a new grant is ignored

    await asyncio.gather(*(sender(0.01 + 0.0001 * (n % 7)) for n in range(80)))
    assert limiter.latency.count == 80
    assert 0 < limiter.latency.floor <= 0.01
    throttle.answered()  # no grant in this task
    assert limiter.latency.count == 80


async def test_a_flood_waited_send_is_not_counted_as_an_arrival() -> None:
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(1000)
    throttle = Throttle(limiter, loop.time)
    assert await throttle.acquire()
    flooded_at = loop.time()  # the wait counts from the FloodWait, not from the next acquire
    throttle.flood_wait(0.05)
    throttle.answered()  # the worker's report after any send: already settled
    assert limiter.latency.count == 1
    assert await throttle.acquire()
    assert loop.time() - flooded_at >= 0.05


def test_the_rate_settles_just_under_what_telegram_accepted_in_the_second_before() -> None:
    limiter = RateLimiter(60, Backoff(headroom=0.97))
    granted: list[float] = []
    now = 0.0
    while len(granted) < 40:  # 40 sends at 60/s, each answered 0.1 s later
        wait = limiter.try_acquire(now)
        if wait == 0:
            granted.append(now)
        now += max(wait, 0.001)
    for g in granted[:30]:
        limiter.on_answer(g, g + 0.1)
    for g in granted[30:]:  # the 31st arrival and those behind it were refused
        limiter.on_refused(g, g + 0.1)
        limiter.on_flood_wait(g + 0.1, 1)
    assert limiter.rate == pytest.approx(0.97 * 30)
    limiter.try_acquire(30.0)  # no climbing back over what Telegram tolerated
    assert limiter.rate == pytest.approx(0.97 * 30)


def test_a_lone_flood_wait_slows_a_little_not_to_what_happened_to_be_sent() -> None:
    limiter = RateLimiter(1000, Backoff(decrease=0.9))
    for n in range(5):  # a quiet moment: 5 sends in the last second
        assert limiter.try_acquire(n * 0.1) == 0
        limiter.on_answer(n * 0.1, n * 0.1 + 0.05)
    limiter.on_refused(0.5, 0.55)  # one chat's limit, or a stray FloodWait
    limiter.on_flood_wait(0.55, 1)
    assert limiter.rate == pytest.approx(900)  # not 0.97 x 5
