"""Memory: the pipeline's own allocations stay flat as the audience grows.

Runs one broadcast to each audience size through the pipeline and the
simulator, tracing allocations with tracemalloc. Only allocations made by our
packages' code count (the in-memory database's documents and the simulator's
record of every delivery live in this process only because they are
simulated). The peak is sampled every ``--sample-s`` seconds, or less often
when a snapshot is slow, so sampling never takes more than a tenth of the run.

Every size is traced over the same window, the first ``--sends`` deliveries,
then the broadcast is cancelled: sending a million messages takes over 16
minutes at Telegram's paid limit. The window covers what could grow with the
audience: the count, the snapshot (written page by page as the senders claim,
at most two pages ahead), the claims and the settles. What a run holds per
message sent shows as growth within the window: the bytes held are also read
after a quarter and after all of the window's sends. The smallest size is sent
whole (its end, the sweeps and the summary, traced too).

    python -m benchmarks.memory [--sizes 20000 1000000] [--sends 20000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import ADMIN, TEXT, make_core, simulated_audience
from bot.app import Core
from bot.delivery.service import Audience
from bot.demo.simulator import TelegramSimulator

ROOT = Path(__file__).resolve().parents[1]
OURS = [str(ROOT / pkg) for pkg in ("bot", "config", "segments", "scheduler")]
# The simulated Telegram (and the demo) and the in-memory database live in this process
# only because they are simulated: a real server holds its documents and indexes.
#: How often the window's end is checked (the sampling of the peak may be much rarer).
WATCH_S = 0.05
NOT_THE_PIPELINE = [
    str(ROOT / "bot" / "demo"),
    str(ROOT / "bot" / "storage" / "inmemory"),
]


def pipeline_bytes() -> tuple[int, list[str]]:
    """Bytes held by allocations made in the pipeline's code, and the biggest lines.

    Garbage is collected first: what counts is what is alive. Unreachable cycles (a
    finished database call's future, its callback, the batch it wrote) wait for the
    cyclic collector, which runs rarely on a heap of a million documents, so without
    a collection the figure would grow with the audience for no reason of ours.
    """
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    include = [tracemalloc.Filter(True, f"{path}*") for path in OURS]
    exclude = [tracemalloc.Filter(False, f"{path}*") for path in NOT_THE_PIPELINE]
    stats = snapshot.filter_traces(include).filter_traces(exclude).statistics("lineno")
    top = [
        f"{stat.traceback[0].filename.removeprefix(str(ROOT))[1:]}:"
        f"{stat.traceback[0].lineno} {stat.size}"
        for stat in stats[:5]
    ]
    return sum(stat.size for stat in stats), top


async def peak_during_broadcast(
    users: int,
    rate: float,
    sample_s: float,
    *,
    latency_ms: float = 0.0,
    concurrency: int = 64,
    sends: int | None = None,
) -> dict[str, Any]:
    """Trace one broadcast to ``users`` for its first ``sends`` deliveries (all of them
    when None): the peak of the pipeline's memory and what it held on the way."""
    db, sim, _ = await simulated_audience(
        users, telegram_limit=1000, latency_ms=latency_ms, name="memory"
    )
    window = users if sends is None else min(sends, users)
    try:
        core = make_core(db, sim, rate, concurrency=concurrency)
        await core.ensure_indexes()
        bid = await core.service.create(TEXT, Audience(query={}), admin_id=ADMIN)
        await core.service.start(bid, by=ADMIN)
        tracemalloc.start(1)
        baseline, _ = pipeline_bytes()
        started = time.perf_counter()
        run = asyncio.create_task(core.service.run(bid))
        peak, where = await _sample(run, core, bid, sim, window, baseline, sample_s)
        summary = await run
        traced_s = time.perf_counter() - started
        tracemalloc.stop()
    finally:
        await sim.stop()
    assert summary.sent >= window, summary
    return {
        "users": users,
        "sent": summary.sent,
        "peak_bytes": peak.top,
        "held_at_quarter_bytes": peak.at_quarter,
        "held_at_end_bytes": peak.at_end,
        "traced_s": round(traced_s, 1),
        "peak_lines": where,
    }


@dataclass
class Held:
    """Bytes the pipeline held: the peak, and after a quarter and all of the window's sends."""

    top: int = 0
    at_quarter: int | None = None
    at_end: int | None = None
    #: The lines holding the most at the peak's reading.
    where: list[str] = field(default_factory=list)

    def read(self, baseline: int) -> int:
        """Read what is held now; keep it (and its lines) if it is the peak."""
        now, lines = pipeline_bytes()
        if now - baseline > self.top:
            self.top, self.where = now - baseline, lines
        return now - baseline


async def _sample(
    run: asyncio.Task[Any],
    core: Core,
    bid: str,
    sim: TelegramSimulator,
    window: int,
    baseline: int,
    sample_s: float,
) -> tuple[Held, list[str]]:
    held, pause = Held(), sample_s
    stopper = asyncio.create_task(_stop_after_window(run, core, bid, sim, window, held, baseline))
    while not run.done():
        await asyncio.wait([run], timeout=pause)
        started = time.perf_counter()
        held.read(baseline)
        # A snapshot of millions of traces blocks the loop; keep that under ~10% of the run.
        pause = max(sample_s, 10 * (time.perf_counter() - started))
    await stopper
    return held, held.where


async def _stop_after_window(
    run: asyncio.Task[Any],
    core: Core,
    bid: str,
    sim: TelegramSimulator,
    window: int,
    held: Held,
    baseline: int,
) -> None:
    """Read what is held after a quarter of the window; cancel once the window is sent."""
    while not run.done():
        await asyncio.wait([run], timeout=WATCH_S)
        if held.at_quarter is None and sim.sent_total >= window // 4:
            held.at_quarter = held.read(baseline)
        if sim.sent_total >= window:
            held.at_end = held.read(baseline)
            if not run.done():
                await core.service.cancel(bid, by=ADMIN)
            return


async def measure(
    sizes: list[int], rate: float, sample_s: float, sends: int | None
) -> dict[str, Any]:
    """Peaks for every size (the smallest sent whole) and the ratio of the largest to it."""
    started = time.perf_counter()
    runs = [
        await peak_during_broadcast(n, rate, sample_s, sends=None if n == sizes[0] else sends)
        for n in sizes
    ]
    small, large = runs[0], runs[-1]
    return {
        "runs": runs,
        "ratio": round(large["peak_bytes"] / max(1, small["peak_bytes"]), 3),
        "audience_ratio": large["users"] / small["users"],
        "sends_per_run": sends,
        "wall_s": round(time.perf_counter() - started, 1),
    }


def kib(value: int | None) -> str:
    """Bytes as KiB for the summary line; "-" when not measured."""
    return "-" if value is None else f"{value / 1024:.1f} KiB"


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument(
        "--sends", type=int, default=20_000, help="deliveries traced per size (0: all)"
    )
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--sample-s", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sends = args.sends or None
    result = asyncio.run(measure(sorted(args.sizes), args.rate, args.sample_s, sends))
    if args.json:
        print(json.dumps(result))
        return
    for run in result["runs"]:
        print(
            f"{run['users']:>9,} recipients, {run['sent']:,} sent: pipeline peak "
            f"{run['peak_bytes'] / 1024:8.1f} KiB, held after a quarter "
            f"{kib(run['held_at_quarter_bytes'])}, at the end {kib(run['held_at_end_bytes'])}"
        )
    print(
        f"ratio {result['ratio']}x for {result['audience_ratio']:g}x the audience "
        "(flat is 1.0x; the target is at most 1.2x)"
    )


if __name__ == "__main__":
    main()
