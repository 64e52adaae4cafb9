"""The report's timeline (pure): steps suited to the duration, buckets that add up,
runs joined end to end, FloodWaits placed on the same axis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.reports.timeline import MAX_BARS, Activity, RunWindow, build_timeline, choose_step

T0 = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
START = T0.timestamp()


@pytest.mark.parametrize(
    ("span_s", "step"),
    [(0, 1), (1, 1), (120, 1), (121, 2), (600, 5), (3600, 30), (7200, 60), (86_400, 900)],
)
def test_the_step_is_the_smallest_round_one_within_the_bar_limit(span_s: float, step: int) -> None:
    assert choose_step(span_s) == step
    assert span_s / step <= MAX_BARS


def test_a_very_long_span_is_cut_in_whole_days() -> None:
    assert choose_step(400 * 86_400) == 4 * 86_400


def sends(activity: Activity, second: float, sent: int = 0, failed: int = 0) -> None:
    at = T0 + timedelta(seconds=second)
    for _ in range(sent):
        activity.add(at, sent=True)
    for _ in range(failed):
        activity.add(at, sent=False)


def test_buckets_add_up_and_the_rate_counts_answers_per_second() -> None:
    activity = Activity([RunWindow(1, START, START + 300)])
    sends(activity, 0.5, sent=10, failed=2)
    sends(activity, 4.9, sent=3)
    sends(activity, 299.2, sent=4)

    timeline = build_timeline(activity)

    assert timeline.step == 5  # 300 s in at most 120 buckets
    assert len(timeline.bars) == 60
    assert (sum(b.sent for b in timeline.bars), sum(b.failed for b in timeline.bars)) == (17, 2)
    first, last = timeline.bars[0], timeline.bars[-1]
    assert (first.x, first.sent, first.failed, first.rate) == (0, 13, 2, 3.0)
    assert (last.x, last.sent, last.rate) == (295, 4, 0.8)
    assert timeline.end == 300
    assert all(b.sent == b.failed == 0 for b in timeline.bars[1:-1])


def test_runs_are_joined_end_to_end_whatever_the_hours_between() -> None:
    retry = START + 6 * 3600  # six hours later
    activity = Activity([RunWindow(1, START, START + 60), RunWindow(2, retry, retry + 20)])
    sends(activity, 10, sent=50)
    sends(activity, 6 * 3600 + 5, sent=7, failed=1)

    timeline = build_timeline(activity)

    assert timeline.step == 1  # 80 s of sending, not six hours
    assert [(m.number, m.x, m.started) for m in timeline.runs] == [(1, 0, START), (2, 60, retry)]
    assert timeline.end == 80
    by_run = {run: sum(b.sent for b in timeline.bars if b.run == run) for run in (1, 2)}
    assert by_run == {1: 50, 2: 7}
    [late] = [b for b in timeline.bars if b.sent == 7]
    assert late.x == 65


def test_runs_a_moment_apart_never_share_an_answer() -> None:
    activity = Activity([RunWindow(1, START, START + 1.3), RunWindow(2, START + 1.4, START + 2)])
    sends(activity, 1.2, sent=5)  # the same second of the clock as the retry's start
    sends(activity, 1.5, sent=3)

    timeline = build_timeline(activity)

    assert {b.run: b.sent for b in timeline.bars if b.sent} == {1: 5, 2: 3}


def test_answers_outside_the_recorded_window_widen_it() -> None:
    activity = Activity([RunWindow(1, START + 10, START + 20)])
    sends(activity, 5, sent=1)  # before the recorded start: a clock a little off
    sends(activity, 29, sent=1)

    timeline = build_timeline(activity)

    assert timeline.end == 25
    assert sum(b.sent for b in timeline.bars) == 2


def test_without_runs_the_answers_make_one_and_without_answers_there_is_nothing() -> None:
    activity = Activity()
    sends(activity, 3, sent=2)
    sends(activity, 7, failed=1)
    timeline = build_timeline(activity)
    assert ([m.number for m in timeline.runs], timeline.end) == ([1], 5)

    assert build_timeline(Activity()).bars == ()


def test_flood_waits_sit_in_their_run_clipped_and_merged() -> None:
    retry = START + 3600
    activity = Activity([RunWindow(1, START, START + 30), RunWindow(2, retry, retry + 10)])
    floods = [
        (START + 5, 3.0),
        (START + 6, 4.0),  # overlaps the first: one span
        (START + 28, 9.0),  # past the run's end: clipped
        (retry + 2, 1.0),
    ]

    timeline = build_timeline(activity, floods)

    assert timeline.floods == ((5, 10), (28, 30), (32, 33))
