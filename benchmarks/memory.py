"""Memory: the pipeline's own allocations stay flat as the audience grows.

Runs one broadcast to each audience size through the pipeline and the
simulator, tracing allocations with tracemalloc. Only allocations made by our
packages' code count (the in-memory database's documents and the simulator's
record of every delivery live in this process only because they are
simulated). The peak is sampled every ``--sample-s`` seconds, or less often
when a snapshot is slow, so sampling never takes more than a tenth of the run.

    python -m benchmarks.memory [--sizes 20000 200000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks.common import make_core, pipeline_broadcast, simulated_audience

ROOT = Path(__file__).resolve().parents[1]
OURS = [str(ROOT / pkg) for pkg in ("bot", "config", "segments", "scheduler")]
# The simulated Telegram (and the demo) and the in-memory database live in this process
# only because they are simulated: a real server holds its documents and indexes.
NOT_THE_PIPELINE = [
    str(ROOT / "bot" / "demo"),
    str(ROOT / "bot" / "storage" / "inmemory"),
]


def pipeline_bytes() -> tuple[int, list[str]]:
    """Bytes held by allocations made in the pipeline's code, and the biggest lines."""
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
    users: int, rate: float, sample_s: float, *, latency_ms: float = 0.0, concurrency: int = 64
) -> dict[str, Any]:
    """Run one broadcast to ``users`` and sample the pipeline's memory while it runs."""
    db, sim, _ = await simulated_audience(
        users, telegram_limit=1000, latency_ms=latency_ms, name="memory"
    )
    try:
        core = make_core(db, sim, rate, concurrency=concurrency)
        await core.ensure_indexes()
        tracemalloc.start(1)
        baseline, _ = pipeline_bytes()
        run = asyncio.create_task(pipeline_broadcast(core))
        peak, pause, where = 0, sample_s, []
        while not run.done():
            await asyncio.wait([run], timeout=pause)
            started = time.perf_counter()
            held, top = pipeline_bytes()
            if held - baseline > peak:
                peak, where = held - baseline, top
            # A snapshot of millions of traces blocks the loop; keep that under ~10% of the run.
            pause = max(sample_s, 10 * (time.perf_counter() - started))
        summary = run.result()
        tracemalloc.stop()
    finally:
        await sim.stop()
    assert summary.sent == users, summary
    return {
        "users": users,
        "peak_bytes": peak,
        "duration_s": round(summary.duration_s, 1),
        "peak_lines": where,
    }


async def measure(sizes: list[int], rate: float, sample_s: float) -> dict[str, Any]:
    """Peaks for every size and the ratio of the largest to the smallest."""
    runs = [await peak_during_broadcast(n, rate, sample_s) for n in sizes]
    small, large = runs[0], runs[-1]
    return {
        "runs": runs,
        "ratio": round(large["peak_bytes"] / max(1, small["peak_bytes"]), 3),
        "audience_ratio": large["users"] / small["users"],
    }


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--sample-s", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(sorted(args.sizes), args.rate, args.sample_s))
    if args.json:
        print(json.dumps(result))
        return
    for run in result["runs"]:
        print(f"{run['users']:>9,} recipients: pipeline peak {run['peak_bytes'] / 1024:8.1f} KiB")
    print(
        f"ratio {result['ratio']}x for {result['audience_ratio']:g}x the audience "
        "(flat is 1.0x; the target is at most 1.2x)"
    )


if __name__ == "__main__":
    main()
