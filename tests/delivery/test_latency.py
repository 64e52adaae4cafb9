"""The latency estimate: a floor no send beats, a bound for sends with no answer yet."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.latency import SLACK_S, LatencyEstimate


def test_no_floor_until_enough_samples() -> None:
    estimate = LatencyEstimate(min_samples=64)
    for _ in range(63):
        estimate.add(0.1)
    assert estimate.floor == 0.0
    estimate.add(0.1)
    assert estimate.floor == pytest.approx(0.1 - SLACK_S)


def test_bound_is_twice_the_slowest_recent_sample() -> None:
    estimate = LatencyEstimate(size=32, min_samples=16, every=16)
    estimate.add(0.5)
    assert estimate.bound == 1.0
    for _ in range(64):  # the slow one leaves the recent samples
        estimate.add(0.1)
    assert estimate.bound == pytest.approx(0.2)


def test_a_sample_below_the_floor_lowers_it_at_once() -> None:
    estimate = LatencyEstimate(min_samples=16, every=1000)
    for _ in range(16):
        estimate.add(0.1)
    estimate.add(0.05)
    assert estimate.floor <= 0.05


def test_a_thin_fast_tail_widens_the_margin() -> None:
    estimate = LatencyEstimate(size=100, min_samples=100)
    for i in range(100):
        estimate.add(0.02 if i < 5 else 0.1)  # 5% fast: the fastest tenth is slow
    assert estimate.floor == 0.0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    latency=st.floats(min_value=0.001, max_value=1.0),
    jitter=st.floats(min_value=0.0, max_value=0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_no_send_is_faster_than_the_floor(latency: float, jitter: float, seed: int) -> None:
    rng = random.Random(seed)
    estimate = LatencyEstimate()
    for _ in range(5000):
        sample = latency * (1 + rng.uniform(-jitter, jitter))
        assert sample >= estimate.floor
        estimate.add(sample)
    # and the margin stays small (about a fifth of the spread): it costs little of the window
    spread = 2 * latency * jitter
    assert estimate.floor >= latency * (1 - jitter) - 0.3 * spread - SLACK_S


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="min_samples"):
        LatencyEstimate(size=10, min_samples=20)
