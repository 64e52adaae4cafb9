"""The report's timeline: answered sends bucketed over sending time, run by run (pure).

The ledger is read once; each row's settle time (when Telegram answered its send)
counts in :class:`Activity`, one counter per second, so its size follows how long the
broadcast was sending, never its audience. :func:`build_timeline` then cuts the
seconds into buckets of a step suited to the duration (:func:`choose_step`).

Runs are joined end to end: a retry sent hours after the first run starts right after
it on the time axis (each run's wall-clock start is kept for its label), so neither
is squeezed into a corner by the hours between. A row retried holds the answer of its
last send, so it counts in the run that sent it last. FloodWait episodes are placed
on the same axis.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

#: Bucket widths in seconds a timeline may use (then whole days).
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
DAY = 86_400
#: At most this many buckets over the whole timeline (one more per run, where it ends).
MAX_BARS = 120


def choose_step(span_s: float, max_bars: int = MAX_BARS) -> int:
    """The bucket width, in seconds, for ``span_s`` seconds of sending: the smallest of
    :data:`NICE_STEPS` giving at most ``max_bars`` buckets, else whole days."""
    for step in NICE_STEPS:
        if span_s <= step * max_bars:
            return step
    return DAY * max(1, math.ceil(span_s / (DAY * max_bars)))


@dataclass(frozen=True, slots=True)
class RunWindow:
    """When a run of the broadcast sent (Unix seconds; None: not recorded)."""

    number: int
    start: float | None
    end: float | None = None


class Activity:
    """Answered sends per run and second: ``{(run index, Unix second): [sent, failed]}``.

    Each send counts in the run whose window holds its exact time (the last one started
    by then, the first for anything earlier): runs a moment apart share a second of the
    clock but never an answer. Without a run recorded, everything is one run.
    """

    def __init__(self, runs: Sequence[RunWindow] = ()) -> None:
        self.runs = sorted((r for r in runs if r.start is not None), key=lambda r: r.start or 0)
        self.starts = [r.start or 0.0 for r in self.runs]
        self.seconds: dict[tuple[int, int], list[int]] = {}

    def run_at(self, moment: float) -> int:
        """The index of the run that was sending at ``moment`` (Unix seconds)."""
        return max(0, bisect_right(self.starts, moment) - 1)

    def add(self, at: datetime, *, sent: bool) -> None:
        """One send answered at ``at``, delivered or not."""
        moment = at.timestamp()
        key = (self.run_at(moment), math.floor(moment))
        counts = self.seconds.setdefault(key, [0, 0])
        counts[0 if sent else 1] += 1


@dataclass(frozen=True, slots=True)
class Bar:
    """One bucket: from ``x`` (seconds of sending time) for the timeline's step."""

    x: float
    sent: int
    failed: int
    #: Answered sends per second over the part of the bucket inside its run.
    rate: float
    run: int


@dataclass(frozen=True, slots=True)
class RunMark:
    """Where run ``number`` starts on the axis, and when it started (Unix seconds)."""

    x: float
    number: int
    started: float


@dataclass(frozen=True, slots=True)
class Timeline:
    """Buckets of ``step`` seconds; FloodWaits as ``(from, to)`` spans; run starts; the
    axis ends at ``end`` (seconds of sending time, runs joined)."""

    step: int
    bars: tuple[Bar, ...]
    floods: tuple[tuple[float, float], ...]
    runs: tuple[RunMark, ...]
    end: float


@dataclass(frozen=True, slots=True)
class _Span:
    run: int  # the index in Activity.runs
    number: int
    start: int
    end: int
    offset: float = 0.0


def build_timeline(
    activity: Activity, floods: Sequence[tuple[float, float]] = (), max_bars: int = MAX_BARS
) -> Timeline:
    """The timeline of ``activity``, with the FloodWait episodes ``floods`` (Unix start,
    seconds)."""
    spans = _spans(activity)
    if not spans:
        return Timeline(1, (), (), (), 0.0)
    step = choose_step(sum(s.end - s.start for s in spans), max_bars)
    placed, offset = [], 0.0
    for span in spans:
        placed.append(_Span(span.run, span.number, span.start, span.end, offset))
        offset += step * math.ceil((span.end - span.start) / step)
    bars = [bar for span in placed for bar in _bars(span, activity.seconds, step)]
    marks = tuple(RunMark(s.offset, s.number, float(s.start)) for s in placed)
    return Timeline(step, tuple(bars), _floods(placed, activity, floods, step), marks, offset)


def _spans(activity: Activity) -> list[_Span]:
    """Each run's window (whole seconds), widened to the answers counted in it."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for index, second in sorted(activity.seconds):
        first.setdefault(index, second)
        last[index] = second
    runs = activity.runs
    if not runs:
        if not first:
            return []
        runs = [RunWindow(1, first[0], last[0] + 1)]
    spans = []
    for index, run in enumerate(runs):
        begin = math.floor(run.start or 0.0)
        start = min(begin, first.get(index, begin))
        end = max(math.ceil(run.end or start), last.get(index, start) + 1, start + 1)
        spans.append(_Span(index, run.number, start, end))
    return spans


def _bars(span: _Span, seconds: Mapping[tuple[int, int], Sequence[int]], step: int) -> list[Bar]:
    """The buckets of one run (every second it counted lies in its span)."""
    counts = [[0, 0] for _ in range(math.ceil((span.end - span.start) / step))]
    for (run, second), (sent, failed) in seconds.items():
        if run == span.run:
            bucket = counts[(second - span.start) // step]
            bucket[0] += sent
            bucket[1] += failed
    bars = []
    for k, (sent, failed) in enumerate(counts):
        covered = min(step, span.end - (span.start + k * step))
        rate = (sent + failed) / covered
        bars.append(Bar(span.offset + k * step, sent, failed, rate, span.number))
    return bars


def _floods(
    spans: Sequence[_Span], activity: Activity, floods: Sequence[tuple[float, float]], step: int
) -> tuple[tuple[float, float], ...]:
    """FloodWaits on the axis: in the run they happened in, clipped to it, overlaps merged."""
    placed: list[tuple[float, float]] = []
    for at, seconds in sorted(floods):
        span = spans[activity.run_at(at) if activity.runs else 0]
        limit = span.offset + step * math.ceil((span.end - span.start) / step)
        begin = min(limit, span.offset + max(0.0, at - span.start))
        finish = min(limit, begin + max(0.0, seconds))
        if placed and begin <= placed[-1][1]:
            placed[-1] = (placed[-1][0], max(placed[-1][1], finish))
        elif finish > begin:
            placed.append((begin, finish))
    return tuple(placed)
